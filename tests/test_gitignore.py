"""What running Boxoffice creates in a checkout (make run, the docs' examples, a sync) is ignored
by git, so that `git status` stays clean."""

import shutil
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]

CREATED_BY_NORMAL_USE = [
    ".tools/bin/uv",
    ".venv/bin/boxoffice",
    ".demo-key",
    "boxoffice.db",
    "boxoffice.db-wal",
    "boxoffice.db-shm",
    "boxoffice.db.writers",
    "walk.db",
    "walk.db-journal",
    "boxoffice-sync.db",
    "boxoffice-sync.db.sync-lock",
    "data/boxoffice.duckdb",
    "data/boxoffice.duckdb.wal",
    "data/copy/orders.parquet",
    "data/copy/.sync-lock",
    "elsewhere/copy.duckdb",
    "elsewhere/copy/.sync-lock",
    "node_modules/axe-core/axe.min.js",
    "node_modules/.package-lock.json",
]


pytestmark = pytest.mark.skipif(
    shutil.which("git") is None or not (REPO / ".git").exists(), reason="not a git checkout"
)


@pytest.mark.parametrize("path", CREATED_BY_NORMAL_USE)
def test_files_of_normal_use_are_ignored(path: str) -> None:
    ignored = subprocess.run(
        ["git", "check-ignore", "--no-index", "-q", path], cwd=REPO, check=False
    )
    assert ignored.returncode == 0, f"{path} is not in .gitignore"


def test_the_repositorys_own_files_are_not_ignored() -> None:
    for path in ("boxoffice", "docs/examples/walkthrough-catalog.json", "src/boxoffice/cli.py"):
        assert (REPO / path).exists()
        kept = subprocess.run(["git", "check-ignore", "-q", path], cwd=REPO, check=False)
        assert kept.returncode == 1, f"{path} must not be ignored"
