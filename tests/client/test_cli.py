"""`boxoffice sync` as cron runs it: the JSON summary, status and reset, the key's sources,
and a distinct exit code for each kind of failure; the key is never printed."""

import json
import os
from pathlib import Path

from tests.builders.datasets import Dataset
from tests.client.conftest import run_cli, serve
from tests.client.copies import assert_copy_equals_export
from tests.client.proxy import FaultProxy
from tests.conftest import Client


def _no_key(result, key: str) -> None:
    assert key not in result.stdout and key not in result.stderr


def test_sync_json_summary_status_and_reset(
    server_urls: dict[bool, str], client: Client, dataset: Dataset, make_target
) -> None:
    url, target = server_urls[True], make_target("sqlite")
    args = ("--url", url, "--client", client.name, "--to", target)

    result = run_cli(*args, "--json", "--page-size", "40", key=client.key)

    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout)
    assert summary["status"] == "ok" and summary["exit_code"] == 0
    assert {s: r["records"] for s, r in summary["streams"].items()} == {
        "clienttypes": 6,
        "customers": 50,
        "orders": 90,
        "waitinglist": 30,
    }
    assert summary["streams"]["orders"]["pages"] == 3
    assert summary["streams"]["orders"]["watermark"]
    assert "orders" in result.stderr  # the progress display and summary table
    _no_key(result, client.key)
    assert_copy_equals_export(target, url, client.name, client.key)

    status = run_cli("status", "--to", target, "--json", key=None)
    assert status.returncode == 0, status.stderr
    streams = json.loads(status.stdout)["streams"]
    assert streams["orders"]["watermark"] == summary["streams"]["orders"]["watermark"]
    assert streams["orders"]["rows"] == 90 and streams["orders"]["last_run_status"] == "ok"

    reset = run_cli("reset", "--to", target, "--streams", "orders", key=None)
    assert reset.returncode == 0, reset.stderr
    status = json.loads(run_cli("status", "--to", target, "--json", key=None).stdout)
    assert "orders" not in status["streams"] and "customers" in status["streams"]

    again = run_cli(*args, "--json", "--quiet", key=client.key, light=True)
    assert again.returncode == 0 and again.stderr == ""
    records = {s: r["records"] for s, r in json.loads(again.stdout)["streams"].items()}
    assert records == {"clienttypes": 6, "customers": 0, "orders": 90, "waitinglist": 0}


def test_key_from_a_config_file(
    server_urls: dict[bool, str], client: Client, dataset: Dataset, make_target, tmp_path: Path
) -> None:
    target = make_target("duckdb")
    config = tmp_path / "sync.toml"
    config.write_text(
        f'key = "{client.key}"\nurl = "{server_urls[True]}"\nclient = "{client.name}"\n'
        f'to = "{target}"\nstreams = ["customers"]\n'
    )
    config.chmod(0o644)

    loose = run_cli("--config", str(config), "--quiet", key=None, light=True)

    assert loose.returncode == 0, loose.stderr
    assert "chmod 600" in loose.stderr
    _no_key(loose, client.key)
    config.chmod(0o600)
    tight = run_cli("--config", str(config), "--quiet", "--json", key=None, light=True)
    assert tight.returncode == 0 and tight.stderr == ""
    assert list(json.loads(tight.stdout)["streams"]) == ["customers"]


def test_exit_codes(
    server_urls: dict[bool, str], client: Client, dataset: Dataset, make_target, tmp_path: Path
) -> None:
    url, target = server_urls[True], make_target("sqlite")
    args = ("--url", url, "--client", client.name, "--to", target, "-q")

    missing = run_cli(*args, key=None, light=True)
    assert missing.returncode == 2 and "BOXOFFICE_SYNC_KEY" in missing.stderr

    wrong = "bo_notakey_0123456789abcdef"
    refused = run_cli(*args, "--json", key=wrong, light=True)
    assert refused.returncode == 3 and "refused the key" in refused.stderr
    assert json.loads(refused.stdout)["exit_code"] == 3
    _no_key(refused, wrong)

    bad_target = run_cli(*args[:-3], "--to", "mysql://x", key=client.key, light=True)
    assert bad_target.returncode == 2 and "unknown target" in bad_target.stderr

    unwritable = tmp_path / "file"
    unwritable.write_text("")
    blocked = f"sqlite:///{unwritable}/copy.db"
    no_target = run_cli(*args[:-3], "--to", blocked, "-q", key=client.key, light=True)
    assert no_target.returncode == 7, no_target.stderr

    with serve(FaultProxy(url, plan=["ok", "422"])) as proxy_url:
        rejected = run_cli(
            "--url",
            proxy_url,
            "--client",
            client.name,
            "--to",
            make_target("sqlite"),
            "-q",
            key=client.key,
            light=True,
        )
    assert rejected.returncode == 4 and "changedSince" in rejected.stderr

    with serve(FaultProxy(url, plan=["503"] * 10)) as proxy_url:
        down = run_cli(
            "--url",
            proxy_url,
            "--client",
            client.name,
            "--to",
            make_target("sqlite"),
            "--attempts",
            "2",
            "--json",
            "-q",
            key=client.key,
            light=True,
        )
    assert down.returncode == 5 and "failed 2 times" in down.stderr

    def corrupt(stream: str, record: dict) -> dict:
        return {**record, "lastChanged": "yesterday"} if stream == "waitinglist" else record

    with serve(FaultProxy(url, mutate=corrupt)) as proxy_url:
        bad = run_cli(
            "--url",
            proxy_url,
            "--client",
            client.name,
            "--to",
            make_target("sqlite"),
            "-q",
            key=client.key,
            light=True,
        )
    assert bad.returncode == 6 and "rejected_records" in bad.stderr

    assert run_cli(*args, key=client.key, light=True).returncode == 0
    other = run_cli(*args[:2], "--client", "someone-else", *args[4:], key=client.key, light=True)
    assert other.returncode == 2 and "holds a copy of" in other.stderr
    assert os.path.exists(target.removeprefix("sqlite:///"))
