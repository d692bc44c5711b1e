"""A first run that stored nothing leaves nothing: not the copy, not the folders made for it."""

from pathlib import Path

from boxoffice.client.report import SyncReport


class NewTarget:
    """Whether a file target (SQLite, DuckDB, Parquet) is about to be created by this run, and
    the folders that will be made for it. A PostgreSQL target's database exists already."""

    def __init__(self, target: str) -> None:
        self.created = False
        self._folders: list[Path] = []
        for scheme in ("sqlite:///", "duckdb:///", "parquet:///"):
            if target.startswith(scheme) and len(target) > len(scheme):
                main = Path(target[len(scheme) :])
                self.created = not main.exists()
                parent = main.parent
                while self.created and not parent.exists():
                    self._folders.append(parent)  # innermost first
                    parent = parent.parent
                break

    def remove_folders(self) -> None:
        """Remove the folders made for the copy, as long as they are empty."""
        for folder in self._folders:
            try:
                folder.rmdir()
            except OSError:
                return


def stored_nothing(report: SyncReport) -> bool:
    """A failed run in which no stream completed and no record arrived."""
    return report.error is not None and not any(
        r.status == "ok" or r.records for r in report.streams.values()
    )
