"""A sync killed with SIGKILL at any point and run again ends with exactly the copy that an
uninterrupted sync makes."""

import signal

import pytest
from sqlalchemy import Engine

from boxoffice.client.testhooks import ENV
from tests.builders.datasets import Dataset, change_records
from tests.client.conftest import TARGETS, run_cli, sync_once
from tests.client.copies import TABLES, assert_copy_equals_export, read_copy
from tests.conftest import Client

# The n-th time a run reaches the point, it kills itself. Every run commits at least 12
# times (states and pages of all streams), so each of these is reached: a page written
# but not committed, a page committed, the state between streams, another stream's page.
FULL_SYNC_KILLS = ("before_commit:6", "after_commit:9", "before_commit:12")
INCREMENTAL_KILLS = ("after_commit:7",)


def data_tables(target: str) -> dict[str, list[str]]:
    copy = read_copy(target)
    return {t: sorted(map(repr, copy[t])) for t in TABLES if t != "sync_state"}


@pytest.mark.parametrize("kind", TARGETS)
def test_killed_syncs_rerun_to_the_same_copy_as_a_clean_sync(
    kind: str,
    server_urls: dict[bool, str],
    engine: Engine,
    client: Client,
    dataset: Dataset,
    make_target,
) -> None:
    url = server_urls[True]
    target = make_target(kind)
    args = ("--url", url, "--client", client.name, "--to", target, "--page-size", "9", "-q")
    kills = FULL_SYNC_KILLS + (("compacting:4",) if kind == "parquet" else ())
    for point in kills:
        killed = run_cli(*args, key=client.key, env={ENV: point}, light=True)
        assert killed.returncode == -signal.SIGKILL, (point, killed.stderr)
    finished = run_cli(*args, key=client.key, light=True)
    assert finished.returncode == 0, finished.stderr

    assert_copy_equals_export(target, url, client.name, client.key)
    clean = make_target(kind)
    assert sync_once(url, client, clean, page_size=9).error is None
    assert data_tables(target) == data_tables(clean)

    change_records(engine, client.tenant.id, dataset, 100, seed=5)
    for point in INCREMENTAL_KILLS:
        killed = run_cli(*args, key=client.key, env={ENV: point}, light=True)
        assert killed.returncode == -signal.SIGKILL, (point, killed.stderr)
    finished = run_cli(*args, key=client.key, light=True)
    assert finished.returncode == 0, finished.stderr
    assert sync_once(url, client, clean, page_size=9).error is None

    assert_copy_equals_export(target, url, client.name, client.key)
    assert data_tables(target) == data_tables(clean)
