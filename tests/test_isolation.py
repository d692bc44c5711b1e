"""The tenant-isolation matrix: every API route, every way of not being that client."""

import re

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from boxoffice.server.app import API_PREFIX
from boxoffice.server.db.transactions import write_transaction
from boxoffice.server.public.paths import PUBLIC_PREFIX
from boxoffice.server.tenancy.keys import key_prefix
from boxoffice.server.tenancy.service import create_key, revoke_key
from tests.conftest import Client


def api_routes(app: FastAPI) -> list[tuple[str, str]]:
    """(method, path template) of every API operation, with {client_name} left in.

    Taken from the OpenAPI document, which lists every operation the routers serve.
    """
    found = []
    for path, item in app.openapi()["paths"].items():
        for method in item:
            found.append((method.upper(), path))
    # The public API (no key) is tested by tests/public; everything else is the Peppered API.
    assert all(path.startswith(PUBLIC_PREFIX + "/") for _, path in found), found
    peppered = [(method, path) for method, path in found if path.startswith(API_PREFIX + "/")]
    return peppered


def concrete(path: str, client_name: str) -> str:
    path = path.replace("{client_name}", client_name)
    # Any other path parameter gets a plausible value; the 401 must come first regardless.
    return re.sub(r"\{[^}]+\}", "1", path)


def test_every_route_is_under_the_api_prefix_and_there_are_many(app: FastAPI) -> None:
    routes = api_routes(app)
    assert len(routes) >= 30
    assert ("GET", f"{API_PREFIX}/export/clienttypes") in routes


@pytest.mark.parametrize(
    "case", ["no key", "bad key", "revoked key", "other client's key", "unknown client"]
)
def test_every_route_refuses_anyone_but_the_client(
    app: FastAPI,
    http: TestClient,
    engine: Engine,
    client: Client,
    other_client: Client,
    case: str,
) -> None:
    with write_transaction(engine) as tx:
        revoked = create_key(tx.conn, tenant_id=client.tenant.id, now=tx.now)
        prefix = key_prefix(revoked)
        assert prefix is not None
        revoke_key(tx.conn, tenant_id=client.tenant.id, prefix=prefix, now=tx.now)
    headers = {
        "no key": {},
        "bad key": {"Authorization": "bo_00000000_" + "x" * 40},
        "revoked key": {"Authorization": revoked},
        "other client's key": {"Authorization": other_client.key},
        "unknown client": {"Authorization": client.key},
    }[case]
    name = "no-such-client" if case == "unknown client" else client.name
    for method, template in api_routes(app):
        response = http.request(method, concrete(template, name), headers=headers, json={})
        assert response.status_code == 401, (case, method, template, response.text)
        assert response.json() == {"message": "Unauthenticated."}
        assert response.headers["www-authenticate"] == 'Basic realm="peppered"'
