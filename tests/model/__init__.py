"""Hypothesis state machines of the write side, run over HTTP against the app on each database."""

from typing import Any

from fastapi import FastAPI
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, settings
from sqlalchemy import Engine


def run_machine(machine: Any, app: FastAPI, engine: Engine, *, max_examples: int) -> None:
    """Run a state machine whose steps use `http` (a client of `app`) and `engine`."""
    machine.TestCase.settings = settings(
        max_examples=max_examples,
        stateful_step_count=20,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
    )
    with TestClient(app, base_url="http://127.0.0.1") as http:
        machine.http = http
        machine.engine = engine
        machine.TestCase().runTest()
