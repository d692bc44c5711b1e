"""A read route's key check rides with its read (tenancy/auth.py, `KeyCheck._ride`;
db/transactions.py, `DriverRead.ride_kept`): on PostgreSQL, once the app has verified a key,
a route marked `reads_first` sends that key's lookup in its first read's round trip, the
read made for the client found last time. What must hold whatever the key has become since:
a refused key gets the one 401 and nothing of the read; a key whose row changed (its
client's zone, its rate limit) gets the answer of the key as it is now; a key with the same
prefix but not the same secret rides nothing. SQLite runs the same checks (its key is read
in the process, apart)."""

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, text

from boxoffice.server.app import create_app
from boxoffice.server.config import Settings
from boxoffice.server.db.transactions import write_transaction
from boxoffice.server.errors import Unauthenticated
from boxoffice.server.exports import service as exports_service
from boxoffice.server.places import service as places_service
from boxoffice.server.tenancy import auth
from boxoffice.server.tenancy.auth import KnownKeys
from boxoffice.server.tenancy.keys import key_prefix
from boxoffice.server.tenancy.repository import ActiveKey
from boxoffice.server.tenancy.service import revoke_key, set_key_rate_limit
from tests.builders import RESERVED
from tests.carts.conftest import Shop
from tests.carts.test_round_trips import _driver_part, _wire_trips, driver_trips
from tests.conftest import Client
from tests.test_tenancy import assert_unauthenticated

# The routes marked reads_first, each with the service function of its first read.
READ_ROUTES = (
    (f"/event/{RESERVED}", places_service, "get_event_counts"),
    (f"/seating/{RESERVED}", places_service, "get_seat_plan"),
    ("/export/clienttypes", exports_service, "list_client_types"),
)


def _prefix(client: Client) -> str:
    prefix = key_prefix(client.key)
    assert prefix is not None
    return prefix


def _runs(monkeypatch: pytest.MonkeyPatch, module: Any, name: str) -> list[int]:
    """One entry for each call of `module.name` from now on (the route's runs)."""
    runs: list[int] = []
    real: Callable[..., Any] = getattr(module, name)

    def counted(*args: Any, **kwargs: Any) -> Any:
        runs.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(module, name, counted)
    return runs


def _postgresql(engine: Engine) -> None:
    if engine.dialect.name != "postgresql":
        pytest.skip("round trips are PostgreSQL's (SQLite runs in the process)")


@contextmanager
def wire_trips(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[list[str]]]:
    """Each `pgwire.round_trip` inside the block, its statements named by `_driver_part`
    ("key", "other", ...)."""
    trips: list[list[str]] = []
    with monkeypatch.context() as patch:
        _wire_trips(patch, trips, lambda sql, _autocommit: _driver_part(sql))
        yield trips


@pytest.mark.usefixtures("catalog")
def test_a_read_route_sends_a_key_it_verified_before_with_its_read(
    shop: Shop, engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    _postgresql(engine)
    with wire_trips(monkeypatch) as trips:
        first = shop.get("/export/clienttypes")
    assert first.status_code == 200
    # The app's first request with the key: the key alone, then the read.
    assert trips == [["key"], ["other"]], trips
    for path, _, _ in READ_ROUTES:
        with wire_trips(monkeypatch) as trips:
            response = shop.get(path)
        assert response.status_code == 200, path
        # The key in the read's round trip, and nowhere else.
        assert trips[0] == ["key", "other"], (path, trips)
        assert all("key" not in trip for trip in trips[1:]), (path, trips)
    assert shop.get("/export/clienttypes").json() == first.json()


@pytest.mark.usefixtures("catalog")
def test_a_key_revoked_since_it_was_verified_gets_the_401_on_its_next_request(
    shop: Shop, engine: Engine, client: Client
) -> None:
    for path, _, _ in READ_ROUTES:
        assert shop.get(path).status_code == 200
    with write_transaction(engine) as tx:
        revoke_key(tx.conn, tenant_id=client.tenant.id, prefix=_prefix(client), now=tx.now)
    for path, _, _ in READ_ROUTES:
        assert_unauthenticated(shop.get(path))
        assert_unauthenticated(shop.get("/event/0"))  # refused before its read, too


@pytest.mark.usefixtures("catalog")
def test_a_key_of_the_same_prefix_with_another_secret_is_refused_and_rides_nothing(
    shop: Shop, engine: Engine, client: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    wrong = client.key[:-1] + ("A" if client.key[-1] != "A" else "B")
    assert shop.get("/export/clienttypes").status_code == 200
    with driver_trips(monkeypatch) as trips:
        response = shop.http.get(
            client.base + "/export/clienttypes", headers={"Authorization": wrong}
        )
    assert_unauthenticated(response)
    assert trips == ([["key"]] if engine.dialect.name == "postgresql" else []), trips
    assert shop.get("/export/clienttypes").status_code == 200


@pytest.mark.usefixtures("catalog")
def test_a_request_hashes_its_key_once(shop: Shop, monkeypatch: pytest.MonkeyPatch) -> None:
    # The first request of a key looks it up; the next ones, on PostgreSQL, compare it with
    # what the app found before and then with what the lookup finds now: one hash each.
    hashes = _runs(monkeypatch, auth, "hash_key")
    for path, _, _ in (*READ_ROUTES, *READ_ROUTES):
        before = len(hashes)
        assert shop.get(path).status_code == 200
        assert len(hashes) - before == 1, path
    before = len(hashes)
    cart_id = shop.new_cart()
    assert len(hashes) - before == 1
    before = len(hashes)
    assert shop.get(f"/cart/{cart_id}").status_code == 200
    assert len(hashes) - before == 1


@pytest.mark.usefixtures("catalog")
def test_a_key_whose_rate_limit_changed_gets_its_route_run_again_for_the_key_as_it_is(
    shop: Shop, engine: Engine, client: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The read was made for the key's row as it was: the route runs again, once, with the
    row found now, and the next request rides again with it."""
    for path, module, name in READ_ROUTES:
        assert shop.get(path).status_code == 200
        with write_transaction(engine) as tx:
            limit = 1000 + len(path)
            set_key_rate_limit(
                tx.conn, tenant_id=client.tenant.id, prefix=_prefix(client), per_minute=limit
            )
        runs = _runs(monkeypatch, module, name)
        response = shop.get(path)
        assert response.status_code == 200, path
        assert response.headers["ratelimit-limit"] == str(limit)
        again = len(runs)
        assert shop.get(path).status_code == 200
        expected = (2, 3) if engine.dialect.name == "postgresql" else (1, 2)
        assert (again, len(runs)) == expected, path


@pytest.mark.usefixtures("catalog")
def test_a_client_whose_zone_changed_is_answered_in_its_new_zone(
    shop: Shop, engine: Engine, client: Client, settings: Settings
) -> None:
    """GET /event/{id} shows its times in the client's zone: the answer after the change
    is what an app that never saw the key answers."""
    path = f"/event/{RESERVED}"
    before = shop.get(path).json()
    with engine.begin() as conn:
        conn.execute(
            text("UPDATE clients SET timezone = 'America/New_York' WHERE id = :id"),
            {"id": client.tenant.id},
        )
    after = shop.get(path).json()
    with TestClient(create_app(settings, engine=engine), base_url="http://127.0.0.1") as fresh:
        afresh = fresh.get(client.base + path, headers=client.auth).json()
    assert after == afresh
    assert after != before


@pytest.mark.usefixtures("catalog")
def test_a_refusal_the_route_catches_is_still_the_answer(
    shop: Shop, engine: Engine, client: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The refusal settled in the route's read is raised there; a route that caught it and
    answered something else is answered with the 401 all the same."""
    assert shop.get("/export/clienttypes").status_code == 200
    real = exports_service.list_client_types

    def swallowing(*args: Any, **kwargs: Any) -> list[str]:
        try:
            return real(*args, **kwargs)
        except Unauthenticated:
            return ["caught"]

    monkeypatch.setattr(exports_service, "list_client_types", swallowing)
    with write_transaction(engine) as tx:
        revoke_key(tx.conn, tenant_id=client.tenant.id, prefix=_prefix(client), now=tx.now)
    response = shop.get("/export/clienttypes")
    assert_unauthenticated(response)
    assert "caught" not in response.text


def test_the_known_keys_are_bounded_and_a_refused_key_is_forgotten() -> None:
    def found(tenant_id: int, per_minute: int | None = None) -> ActiveKey:
        return ActiveKey("hash", tenant_id, "Europe/Amsterdam", per_minute)

    known = KnownKeys(size=2)
    known.remember("a", "00000001", found(1))
    known.remember("a", "00000002", found(2))
    known.remember("a", "00000001", found(1))  # unchanged: kept where it was
    known.remember("b", "00000003", found(3))
    assert known.get("a", "00000001") is None  # the one kept longest
    assert known.get("a", "00000002") == found(2)
    known.remember("a", "00000002", found(2, per_minute=10))
    assert known.get("a", "00000002") == found(2, per_minute=10)
    known.forget("a", "00000002")
    assert known.get("a", "00000002") is None
    assert known.get("b", "00000003") == found(3)
