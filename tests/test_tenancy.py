"""Keys and authentication: every way of failing looks the same."""

import base64

from fastapi.testclient import TestClient
from sqlalchemy import Engine, select

from boxoffice.server.db.transactions import write_transaction
from boxoffice.server.tenancy.keys import hash_key, key_prefix
from boxoffice.server.tenancy.service import create_key, revoke_key
from boxoffice.server.tenancy.tables import api_keys
from tests.conftest import Client

PATH = "/export/clienttypes"


def assert_unauthenticated(response) -> None:  # type: ignore[no-untyped-def]
    assert response.status_code == 401
    assert response.json() == {"message": "Unauthenticated."}
    assert response.headers["www-authenticate"] == 'Basic realm="peppered"'


def test_key_is_stored_hashed(engine: Engine, client: Client) -> None:
    with engine.connect() as conn:
        stored = conn.execute(
            select(api_keys.c.key_hash).where(api_keys.c.tenant_id == client.tenant.id)
        ).scalar_one()
    assert stored == hash_key(client.key)
    assert client.key not in stored


def test_accepts_raw_basic_and_bearer(http: TestClient, client: Client) -> None:
    basic = base64.b64encode(f"{client.key}:".encode()).decode()
    for header in (client.key, f"Basic {basic}", f"Bearer {client.key}"):
        response = http.get(client.base + PATH, headers={"Authorization": header})
        assert response.status_code == 200, header


def test_every_failure_is_the_same_401(
    http: TestClient, client: Client, other_client: Client
) -> None:
    cases = [
        {},
        {"Authorization": ""},
        {"Authorization": "nonsense"},
        {"Authorization": client.key[:-1] + ("A" if client.key[-1] != "A" else "B")},
        {"Authorization": other_client.key},
        {"Authorization": "Basic !!!"},
        {"Authorization": "Bearer "},
    ]
    for headers in cases:
        assert_unauthenticated(http.get(client.base + PATH, headers=headers))
    # An unknown client, and a malformed client name, look exactly the same.
    assert_unauthenticated(http.get("/v1/no-such-client/peppered" + PATH, headers=client.auth))
    assert_unauthenticated(http.get("/v1/BAD NAME/peppered" + PATH, headers=client.auth))
    # So does an unknown path: it never reveals what exists.
    assert_unauthenticated(http.get(client.base + "/no/such/route"))


def test_revocation_takes_effect_on_next_request(
    http: TestClient, engine: Engine, client: Client
) -> None:
    with write_transaction(engine) as tx:
        second = create_key(tx.conn, tenant_id=client.tenant.id, now=tx.now)
    assert http.get(client.base + PATH, headers={"Authorization": second}).status_code == 200
    prefix = key_prefix(second)
    assert prefix is not None
    with write_transaction(engine) as tx:
        revoke_key(tx.conn, tenant_id=client.tenant.id, prefix=prefix, now=tx.now)
    assert_unauthenticated(http.get(client.base + PATH, headers={"Authorization": second}))
    assert http.get(client.base + PATH, headers=client.auth).status_code == 200
