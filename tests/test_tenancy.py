"""Keys and authentication: every way of failing looks the same."""

import base64

from fastapi import FastAPI
from fastapi.routing import iter_route_contexts
from fastapi.testclient import TestClient
from sqlalchemy import Engine, func, select

from boxoffice.server.carts.tables import carts
from boxoffice.server.db.scoping import scoped_select
from boxoffice.server.db.transactions import write_transaction
from boxoffice.server.lenient import LenientRoute
from boxoffice.server.tenancy.keys import hash_key, key_prefix
from boxoffice.server.tenancy.service import create_key, revoke_key
from boxoffice.server.tenancy.tables import api_keys
from boxoffice.server.threadpool import is_route_endpoint
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


def test_an_answer_before_the_route_is_the_401_when_the_key_fails(
    http: TestClient, client: Client, other_client: Client
) -> None:
    """The key is checked in the route's own thread; what is answered before the route runs
    (no such route, a method it lacks, a body that does not validate) is answered only
    after the key has been checked too, and a failed key gets the 401 instead."""
    json_body = {"Content-Type": "application/json"}
    cases = [
        ("GET", client.base + "/no/such/route", None),
        ("DELETE", client.base + PATH, None),
        ("POST", client.base + "/cart/abc", b'{"not": "a list"}'),
        ("POST", client.base + "/customer", b"{not json"),
    ]
    for method, url, body in cases:
        right = http.request(method, url, content=body, headers={**client.auth, **json_body})
        assert right.status_code in (404, 405, 422), (method, url, right.status_code)
        for wrong in ({"Authorization": other_client.key}, {}):
            headers = {**wrong, **json_body}
            assert_unauthenticated(http.request(method, url, content=body, headers=headers))


def test_the_route_never_runs_for_a_key_that_failed(
    http: TestClient, engine: Engine, client: Client, other_client: Client
) -> None:
    def carts_of_client() -> int:
        stmt = scoped_select(carts, func.count(), tenant_id=client.tenant.id)
        with engine.connect() as conn:
            return int(conn.execute(stmt).scalar_one())

    before = carts_of_client()
    assert_unauthenticated(
        http.post(client.base + "/cart", headers={"Authorization": other_client.key})
    )
    revoked = client.key[:-1] + ("A" if client.key[-1] != "A" else "B")
    assert_unauthenticated(http.post(client.base + "/cart", headers={"Authorization": revoked}))
    assert carts_of_client() == before
    assert http.post(client.base + "/cart", headers=client.auth).status_code == 201
    assert carts_of_client() == before + 1


def test_every_peppered_route_checks_the_key_in_its_own_thread(app: FastAPI) -> None:
    """Each route of the Peppered API gets its tenant from the key check that runs first in
    the route's thread (LenientRoute), never the placeholder it has until then."""
    peppered = [c for c in iter_route_contexts(app.router.routes) if c.path.startswith("/v1/")]
    assert len(peppered) > 20
    for context in peppered:
        route = context.original_route
        assert isinstance(route, LenientRoute), context.path
        assert is_route_endpoint(route.endpoint), context.path
