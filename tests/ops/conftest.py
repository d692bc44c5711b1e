"""Apps with operations settings of their own, clients from chosen addresses, metric samples."""

from collections.abc import Callable, Iterator
from contextlib import ExitStack
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from boxoffice.server.app import create_app
from boxoffice.server.config import Settings
from boxoffice.server.values.clock import Clock, now_micros

MakeApp = Callable[..., FastAPI]
Connect = Callable[..., TestClient]


class ManualClock:
    """A clock the test sets (microseconds, as values.clock): the rate limits' windows
    start and end when the test says, never while it runs."""

    def __init__(self, seconds: float = 1_000_000_040.5) -> None:
        self.micros = int(seconds * 1_000_000)

    def __call__(self) -> int:
        return self.micros

    def advance(self, seconds: float) -> None:
        self.micros += int(seconds * 1_000_000)


@pytest.fixture
def make_app(database_url: str, engine: Engine) -> MakeApp:
    """create_app() on the test database with setting overrides; limits off unless given.
    `clock=` sets the rate limits' time (a ManualClock)."""

    def make(clock: Clock = now_micros, **overrides: Any) -> FastAPI:
        values: dict[str, Any] = {
            "database_url": database_url,
            "rate_limit_per_minute": 0,
            "auth_failure_limit_per_minute": 0,
            **overrides,
        }
        return create_app(Settings(**values), engine=engine, clock=clock)

    return make


@pytest.fixture
def connect() -> Iterator[Connect]:
    """A TestClient over `app` whose requests come from `address`."""
    with ExitStack() as stack:

        def open_client(app: FastAPI, address: str = "203.0.113.10") -> TestClient:
            client = TestClient(app, base_url="http://127.0.0.1", client=(address, 50000))
            return stack.enter_context(client)

        yield open_client


def sample(text: str, name: str, **labels: str) -> float:
    """The value of one sample in an exposition, 0 when absent."""
    wanted = ",".join(f'{k}="{v}"' for k, v in labels.items())
    for line in text.splitlines():
        if line.startswith(f"{name}{{{wanted}}} ") or (not labels and line.startswith(name + " ")):
            return float(line.rsplit(" ", 1)[1])
    return 0.0
