"""Liveness (/healthz: the process answers) and readiness (/readyz: the database answers and
its schema is at the head revision of the migrations this code ships with)."""

from functools import cache

from alembic.util import CommandError
from fastapi import FastAPI, Response
from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError

from boxoffice.server.db.migrate import current_revision, head_revision
from boxoffice.server.responses import json_response

# Probes must see the state of now, never a cached answer.
_NO_STORE = {"Cache-Control": "no-store"}


@cache
def _head() -> str | None:
    # Read once, lazily: the migration scripts do not change while the process runs.
    return head_revision()


def readiness_problem(engine: Engine) -> str | None:
    """Why the server cannot serve the API now, or None when it can."""
    try:
        head = _head()
    except CommandError:
        return "The migration scripts cannot be read."
    try:
        current = current_revision(engine)
    except SQLAlchemyError:
        # The driver's message may name the host and user: it goes nowhere public.
        return "The database does not answer."
    if current != head:
        return (
            f"The database schema is at revision {current or 'none'}, not {head}: "
            "run `boxoffice migrate`."
        )
    return None


def install_health_routes(app: FastAPI, engine: Engine) -> None:
    async def healthz() -> Response:
        return json_response({"status": "ok"}, 200, _NO_STORE)

    def readyz() -> Response:
        problem = readiness_problem(engine)
        if problem is not None:
            return json_response({"status": "unavailable", "reason": problem}, 503, _NO_STORE)
        return json_response({"status": "ok"}, 200, _NO_STORE)

    # Outside /v1 and outside the OpenAPI document: no key, not part of the Peppered API.
    app.add_api_route("/healthz", healthz, methods=["GET", "HEAD"], include_in_schema=False)
    app.add_api_route("/readyz", readyz, methods=["GET", "HEAD"], include_in_schema=False)
