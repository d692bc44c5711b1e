"""What `boxoffice sync` prints when its output is a file or a pipe (cron, scripts), and what a
failed first run leaves behind: nothing."""

import json
from pathlib import Path

import pytest

from boxoffice.client.state import StreamState
from tests.builders.datasets import Dataset
from tests.client.conftest import run_cli
from tests.conftest import Client

# What cron and most pipes look like to Rich: no terminal, 80 columns.
NARROW = {"COLUMNS": "80"}


def test_summary_and_status_print_whole_values_when_not_a_terminal(
    server_urls: dict[bool, str], client: Client, dataset: Dataset, tmp_path: Path
) -> None:
    # A long path, as real ones are: longer than the 80 columns the tables used to fit.
    folder = tmp_path / ("a-rather-long-folder-name-for-the-copy-" * 2)
    target = f"sqlite:///{folder / 'boxoffice-sync.db'}"
    args = ("--url", server_urls[True], "--client", client.name, "--to", target)

    run = run_cli(*args, key=client.key, env=NARROW)

    assert run.returncode == 0, run.stderr
    header = next(line for line in run.stderr.splitlines() if "stream" in line)
    assert header.split() == [
        "┃",
        *" ┃ ".join(
            ["stream", "records", "pages", "retries", "duplicates", "rejected", "rows", "mode"]
        ).split(),
        "┃",
    ]
    assert "…" not in run.stderr and "extensions" in run.stderr

    status = run_cli("status", "--to", target, key=None, env=NARROW)
    assert status.returncode == 0, status.stderr
    assert "…" not in status.stdout
    assert f"copy: {target}" in status.stdout.splitlines()
    streams = json.loads(run_cli("status", "--to", target, "--json", key=None).stdout)["streams"]
    for stream, record in streams.items():
        line = next(line for line in status.stdout.splitlines() if f" {stream} " in line)
        assert (record["watermark"] or "(everything)") in line
        assert record["last_run_started_at_utc"] in line
    for name in ("last_run_started_at_utc", "last_run_status", "last_run_records", "rows"):
        assert name in status.stdout


def test_one_name_per_value_in_the_json_summary_and_status(
    server_urls: dict[bool, str], client: Client, dataset: Dataset, make_target
) -> None:
    target = make_target("sqlite")
    args = ("--url", server_urls[True], "--client", client.name, "--to", target)
    summary = json.loads(run_cli(*args, "--json", "-q", key=client.key, light=True).stdout)
    assert set(summary["streams"]["orders"]) >= {"records", "duplicates", "rejected", "rows"}

    status = json.loads(run_cli("status", "--to", target, "--json", key=None).stdout)
    orders = status["streams"]["orders"]
    # The names of the sync_state columns (docs/sync.md), `_utc` included.
    assert {"last_run_started_at_utc", "last_run_finished_at_utc"} <= set(orders)
    assert not {"last_run_started_at", "last_run_finished_at"} & set(orders)


def test_state_files_with_the_old_names_still_load() -> None:
    state = StreamState.from_json(
        {
            "stream": "orders",
            "source": "http://x/v1/c/peppered",
            "last_run_started_at": "2026-04-22T11:08:55Z",
            "last_run_finished_at": "2026-04-22T11:09:00Z",
        }
    )
    assert state.to_json()["last_run_started_at_utc"] == "2026-04-22T11:08:55Z"
    assert state.to_json()["last_run_finished_at_utc"] == "2026-04-22T11:09:00Z"


@pytest.mark.parametrize("kind", ["sqlite", "duckdb", "parquet"])
def test_a_failed_first_run_leaves_no_copy_no_lock_and_no_folder(
    server_urls: dict[bool, str], client: Client, tmp_path: Path, kind: str
) -> None:
    place = {"sqlite": "copy.db", "duckdb": "copy.duckdb", "parquet": "copy"}[kind]
    target = f"{kind}:///{tmp_path / 'new' / 'deeper' / place}"
    args = ("--url", server_urls[True], "--client", client.name, "--to", target, "-q")

    refused = run_cli(*args, key="bo_notakey_0123456789abcdef", light=True)

    assert refused.returncode == 3, refused.stderr
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("kind", ["sqlite", "duckdb", "parquet"])
def test_a_copy_that_held_data_is_kept_and_no_lock_file_stays(
    server_urls: dict[bool, str], client: Client, dataset: Dataset, tmp_path: Path, kind: str
) -> None:
    place = {"sqlite": "copy.db", "duckdb": "copy.duckdb", "parquet": "copy"}[kind]
    target = f"{kind}:///{tmp_path / place}"
    args = ("--url", server_urls[True], "--client", client.name, "--to", target, "-q")

    assert run_cli(*args, key=client.key, light=True).returncode == 0
    before = sorted(p.name for p in tmp_path.rglob("*"))
    assert not [name for name in before if name.endswith("sync-lock")]
    refused = run_cli(*args, key="bo_notakey_0123456789abcdef", light=True)

    assert refused.returncode == 3
    after = sorted(p.name for p in tmp_path.rglob("*"))
    assert (tmp_path / place).exists()
    assert not [name for name in after if name.endswith("sync-lock")]
    status = json.loads(run_cli("status", "--to", target, "--json", key=None).stdout)
    assert status["streams"]["orders"]["rows"] == 90
