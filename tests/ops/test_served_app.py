"""`boxoffice serve`'s app factory: create_app, with what it made out of the garbage
collector's reach (app.served_app)."""

import gc
from pathlib import Path

import pytest
from fastapi import FastAPI

from boxoffice.server.app import served_app
from boxoffice.server.config import get_settings
from boxoffice.server.ops.serve import APP


def test_serve_runs_the_served_app() -> None:
    assert APP == "boxoffice.server.app:served_app"


def test_the_served_apps_objects_are_frozen_out_of_the_collectors_reach(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BOXOFFICE_DATABASE_URL", f"sqlite:///{tmp_path / 'served.db'}")
    get_settings.cache_clear()
    before = gc.get_freeze_count()
    made: list[FastAPI] = []
    try:
        made.append(served_app())
        # The app and everything made before it is frozen: a full collection skips them.
        assert gc.get_freeze_count() > before + 10_000
        assert not any(found is made[0] for found in gc.get_objects(generation=2))
    finally:
        gc.unfreeze()  # this process runs many apps and tests: its garbage must go
        get_settings.cache_clear()
        for app in made:
            app.state.engine.dispose()
