"""The tenant-isolation matrix: every API route, every way of not being that client."""

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from boxoffice.server.app import API_PREFIX
from boxoffice.server.db.transactions import write_transaction
from boxoffice.server.paths import EMBED_SCRIPTS_PREFIX, TICKET_HOST_API_PREFIX
from boxoffice.server.public.paths import PUBLIC_PREFIX
from boxoffice.server.tenancy.keys import key_prefix
from boxoffice.server.tenancy.service import create_key, revoke_key
from tests.builders import (
    HALL_DETAILS,
    PARKET,
    RESERVED,
    Catalog,
    Seat,
    add_customer,
    at,
    build_catalog,
    building,
)
from tests.conftest import Client


def api_routes(app: FastAPI) -> list[tuple[str, str]]:
    """(method, path template) of every API operation, with {client_name} left in.

    Taken from the OpenAPI document, which lists every operation the routers serve.
    """
    found = []
    for path, item in app.openapi()["paths"].items():
        for method in item:
            found.append((method.upper(), path))
    # The public API and the embedded shop's paths (no key) are tested by tests/public and
    # tests/embed; everything else is the Peppered API.
    prefixes = tuple(p + "/" for p in (PUBLIC_PREFIX, TICKET_HOST_API_PREFIX, EMBED_SCRIPTS_PREFIX))
    assert all(path.startswith(prefixes) for _, path in found), found
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


# Another client's ids under my key: the matrix over every route that names something by id.


@dataclass
class _Api:
    """One client's Peppered API over the real app; every setup call must succeed."""

    http: TestClient
    client: Client

    def post(self, path: str, body: Any = None) -> Any:
        response = self.http.post(self.client.base + path, json=body, headers=self.client.auth)
        assert response.status_code in (200, 201), (path, response.text)
        return response

    def get(self, path: str) -> Any:
        return self.http.get(self.client.base + path, headers=self.client.auth)


# The kind of thing each path or query parameter names, where its name does not say it.
_PARAMETER_KINDS = {
    "event_id": "eventId",
    "location_id": "hallId",
    "name": "eventTypeName",
    # The public cart is the Peppered cart; its `seat_id` is the cart item's id.
    "cart_id": "cartId",
    # An embedded shop's session is a public cart.
    "session_id": "cartId",
    "seat_id": "itemId",
    "order_key": "orderKey",
    # A payment provider's name (the same for every client): not varied, only filled in.
    "provider": "provider",
}
# Path parameters that name nothing of a client's own.
_NOT_IDS = {"client_name", "script_name"}
# Request bodies of the routes whose body names things by id, as functions of the value
# to send for each kind. A route whose body has an `...Id` field must be listed here (the
# test says so): its ids are part of the matrix.
Pick = Callable[[str], Any]
_BODIES: dict[tuple[str, str], tuple[tuple[str, ...], Callable[[Pick], Any]]] = {
    ("POST", "/cart/{cartId}"): (
        ("priceId", "eventId", "hallSeatId"),
        lambda pick: [
            {
                "priceId": pick("priceId"),
                "rankId": 1,
                "eventId": pick("eventId"),
                "numberOfTickets": 1,
                "seatId": pick("hallSeatId"),
            }
        ],
    ),
    ("POST", "/cart/{cartId}/checkout"): (
        ("customerId", "paymentMethodId"),
        lambda pick: {
            "customerId": pick("customerId"),
            "paymentMethodId": pick("paymentMethodId"),
        },
    ),
    ("POST", "/waitinglist"): (
        ("customerId", "eventId"),
        lambda pick: {
            "customerId": pick("customerId"),
            "eventId": pick("eventId"),
            "numberOfTickets": 2,
        },
    ),
    ("POST", "/customer/findByEmail"): (("email",), lambda pick: {"email": pick("email")}),
    # The public API's bodies name ids in snake_case.
    ("POST", "/cart/{cart_id}"): (
        ("eventId", "priceId"),
        lambda pick: {"event_id": pick("eventId"), "discount_id": pick("priceId")},
    ),
    ("POST", "/order/create"): (
        ("cartId", "paymentMethodId"),
        lambda pick: {
            "cart_id": pick("cartId"),
            "payment_id": pick("paymentMethodId"),
            "redirectURL": "https://venue.example/thanks",
            "email": "buyer@example.org",
            "lastname": "Buyer",
        },
    ),
}
# Valid bodies of routes that name things by path only, so that the request gets as far
# as looking the thing up.
_PLAIN_BODIES: dict[tuple[str, str], Any] = {
    ("PUT", "/customer/{customerId}"): {"customerFirstName": "Grace"},
    ("POST", "/customer/{customerId}/clienttypes"): [],
    ("PUT", "/order/{orderId}"): {"orderStatus": "cancel"},
    ("PUT", "/waitinglist/{waitingId}"): {"type": "cancelled"},
}


@dataclass(frozen=True)
class Operation:
    """One API operation: its method, path template, and the kinds of ids it names."""

    method: str
    path: str
    public: bool
    slots: tuple[tuple[str, str, str], ...]  # (where: path/query/body, parameter, kind)
    body: Callable[[Pick], Any] | None

    @property
    def route(self) -> str:
        return self.path.removeprefix(API_PREFIX).removeprefix(PUBLIC_PREFIX)


def _body_id_fields(doc: dict[str, Any], schema: dict[str, Any] | None) -> set[str]:
    """The `...Id` fields of a request body schema (through $refs, lists and unions)."""
    if not schema:
        return set()
    if "$ref" in schema:
        return _body_id_fields(doc, doc["components"]["schemas"][schema["$ref"].split("/")[-1]])
    found = {name for name in schema.get("properties", {}) if name.endswith("Id")}
    for nested in (*schema.get("anyOf", ()), *schema.get("allOf", ()), schema.get("items")):
        found |= _body_id_fields(doc, nested)
    return found


def id_operations(app: FastAPI) -> list[Operation]:
    """Every operation (Peppered and public API) with an id in its path, query or body,
    read from the app's OpenAPI document: routes added later join the matrix by themselves,
    and one whose body ids are unknown here fails the test until they are listed."""
    doc = app.openapi()
    found: list[Operation] = []
    for path, item in doc["paths"].items():
        for method, operation in item.items():
            method = method.upper()
            public = not path.startswith(API_PREFIX + "/")
            route = path.removeprefix(API_PREFIX).removeprefix(PUBLIC_PREFIX)
            slots: list[tuple[str, str, str]] = []
            for parameter in operation.get("parameters", ()):
                name, where = parameter["name"], parameter["in"]
                kind = _PARAMETER_KINDS.get(name, name)
                if name in _NOT_IDS:
                    continue
                if where == "path" or (where == "query" and kind.endswith("Id")):
                    slots.append((where, name, kind))
            content = operation.get("requestBody", {}).get("content", {})
            schema = content.get("application/json", {}).get("schema")
            body_ids = _body_id_fields(doc, schema)
            listed = _BODIES.get((method, route))
            assert not body_ids or listed is not None, (
                f"{method} {path} names {sorted(body_ids)} in its body: add it to _BODIES"
            )
            body: Callable[[Pick], Any] | None = None
            if listed is not None:
                slots.extend(("body", kind, kind) for kind in listed[0])
                body = listed[1]
            elif schema is not None:
                plain = _PLAIN_BODIES.get((method, route))
                assert plain is not None or not slots, f"{method} {path}: add a body"
                body = None if plain is None else (lambda _pick, plain=plain: plain)
            if slots:
                found.append(Operation(method, path, public, tuple(slots), body))
    return found


@dataclass
class Ids:
    """For each kind of id: mine (None when I have none), the other client's, and one that
    exists for nobody."""

    mine: dict[str, Any]
    theirs: dict[str, Any]
    absent: dict[str, Any] = field(
        default_factory=lambda: {
            "customerId": 2_000_000_011,
            "productionId": 2_000_000_012,
            "hallId": 2_000_000_013,
            "eventId": 2_000_000_014,
            "cartId": "NoSuchCartNoSuchCartNoSuchCart00",
            "itemId": 2_000_000_015,
            "orderId": 2_000_000_016,
            "seatId": 2_000_000_017,
            "waitingId": 2_000_000_018,
            "paymentMethodId": 2_000_000_019,
            "priceId": "NOSUCHPRICE",
            "hallSeatId": 2_000_000_020,
            "email": "nobody@example.invalid",
            "eventTypeName": "nosuchtype",
            "orderKey": "AAAAA-BBBBB-CCCCC-DDDDD",
            "provider": "test",
        }
    )


def _public_order(http: TestClient, client: Client, line: Any, *, payment_id: int) -> str:
    """An order placed through the public API (the invoice provider: placed at once)."""
    base = f"/v1/{client.name}"
    cart = http.post(f"{base}/cart").json()["cart_id"]
    held = http.post(f"{base}/cart/{cart}", json=line)
    assert held.status_code == 200, held.text
    body = {
        "cart_id": cart,
        "payment_id": payment_id,
        "redirectURL": "https://venue.example/thanks",
        "email": f"public@{client.name}.example.org",
        "lastname": "Public",
    }
    placed = http.post(f"{base}/order/create", json=body)
    assert placed.status_code == 200, placed.text
    return str(placed.json()[0]["order_key"])


def _my_data(engine: Engine, http: TestClient, me: Client) -> dict[str, Any]:
    """A small world of my own, with ids unlike the other client's catalog ids."""
    catalog = Catalog(tenant_id=me.tenant.id)
    with building(engine, me.tenant.id) as b:
        b.ranks((1, "Rang 1"))
        b.payment_method(7, "Kas", 0)
        catalog.seat.update(b.hall(7, {(1, "Zaal"): [(1, 4, 1)]}, **HALL_DETAILS))
        b.productions((700, "Mine"))
        b.event(777, production_id=700, hall_id=7, prices_=[("MINE", "Standard", 1, 1000)])
    customer = add_customer(engine, me, email="me@example.org")
    shop = _Api(http, me)
    cart = shop.post("/cart").json()["cartId"]
    items = shop.post(f"/cart/{cart}", [{"priceId": "MINE", "rankId": 1}]).json()["cartItems"]
    with building(engine, me.tenant.id) as b:
        order = b.order(
            changed_at=at("2026-04-22T13:08:55+02:00"),
            seats=[Seat(event_id=777, rank_id=1, price_id="MINE")],
        )
        seat = b.seat_ids[order][0]
    waiting = shop.post(
        "/waitinglist", {"customerId": customer, "eventId": 777, "numberOfTickets": 1}
    ).json()["waitingId"]
    order_key = _public_order(http, me, {"event_id": 777}, payment_id=7)
    return {
        "customerId": customer,
        "productionId": 700,
        "hallId": 7,
        "eventId": 777,
        "cartId": cart,
        "itemId": items[0]["itemId"],
        "orderId": order,
        "seatId": seat,
        "waitingId": waiting,
        "paymentMethodId": 7,
        "priceId": "MINE",
        "hallSeatId": catalog.seat[(1, 1, 2)],
        "email": "me@example.org",
        "eventTypeName": None,
        "orderKey": order_key,
        "provider": "test",
    }


def _their_data(engine: Engine, http: TestClient, them: Client) -> dict[str, Any]:
    """The other client: the standard catalog, customers, an open cart, an order, a waiting
    list entry."""
    catalog = build_catalog(engine, them)
    customer = add_customer(engine, them, email="them@example.org", tags=["vip"])
    shop = _Api(http, them)
    sold = shop.post("/cart").json()["cartId"]
    shop.post(f"/cart/{sold}", [{"priceId": "STD", "rankId": 1, "numberOfTickets": 2}])
    order = shop.post(
        f"/cart/{sold}/checkout", {"customerId": customer, "paymentMethodId": 1}
    ).json()
    cart = shop.post("/cart").json()["cartId"]
    items = shop.post(f"/cart/{cart}", [{"priceId": "R2", "rankId": 2}]).json()["cartItems"]
    waiting = shop.post(
        "/waitinglist", {"customerId": customer, "eventId": RESERVED, "numberOfTickets": 2}
    ).json()["waitingId"]
    order_key = _public_order(
        http, them, {"event_id": RESERVED, "discount_id": "RED"}, payment_id=2
    )
    return {
        "customerId": customer,
        "productionId": 100,
        "hallId": 1,
        "eventId": RESERVED,
        "cartId": cart,
        "itemId": items[0]["itemId"],
        "orderId": order["orderId"],
        "seatId": order["seats"][0]["seatId"],
        "waitingId": waiting,
        "paymentMethodId": 1,
        "priceId": "STD",
        "hallSeatId": catalog.seat[(PARKET, 3, 5)],
        "email": "them@example.org",
        "eventTypeName": "theatre",
        "orderKey": order_key,
        "provider": "test",
    }


def _snapshot(http: TestClient, them: Client, ids: dict[str, Any]) -> list[tuple[int, bytes]]:
    """Everything of the other client that a leak could read or write, as its API shows it."""
    shop = _Api(http, them)
    replies = [
        shop.post("/export/customers", {}),
        shop.post("/export/orders", {}),
        shop.post("/export/waitinglist", {}),
        shop.get(f"/cart/{ids['cartId']}"),
        shop.get(f"/seating/{RESERVED}"),
        shop.get(f"/event/{RESERVED}"),
        shop.get(f"/customer/{ids['customerId']}/clienttypes"),
    ]
    return [(r.status_code, r.content) for r in replies]


def _request(
    http: TestClient, me: Client, operation: Operation, choice: dict[str, Any]
) -> tuple[int, str]:
    """The operation with `choice[kind]` as each id; (status, body text)."""
    path = operation.path.replace("{client_name}", me.name)
    query: dict[str, Any] = {}
    for where, name, kind in operation.slots:
        if where == "path":
            path = path.replace("{" + name + "}", str(choice[kind]))
        elif where == "query":
            query[name] = choice[kind]
    body = None if operation.body is None else operation.body(lambda kind: choice[kind])
    headers = {} if operation.public else me.auth
    response = http.request(operation.method, path, params=query, json=body, headers=headers)
    return response.status_code, response.text


def _masked(text: str, values: list[Any]) -> str:
    for value in values:
        text = re.sub(rf"(?<![\w.@-]){re.escape(str(value))}(?![\w@-])", "<id>", text)
    return text


def test_another_clients_ids_get_what_ids_of_nothing_get_on_every_route(
    app: FastAPI, http: TestClient, engine: Engine, client: Client, other_client: Client
) -> None:
    """Under my key, the other client's id in any path, query or body gets exactly the
    status and body that an id of nothing gets, and nothing of the other client is read or
    written: its exports, cart, availability and tags are as they were."""
    ids = Ids(mine=_my_data(engine, http, client), theirs=_their_data(engine, http, other_client))
    before = _snapshot(http, other_client, ids.theirs)
    operations = id_operations(app)
    assert len(operations) >= 20
    compared = 0
    for operation in operations:
        kinds = [kind for _where, _name, kind in operation.slots]
        # Each id in turn, the others mine (where I have one of that kind); then all at once.
        cases = [[kind] for kind in kinds if all(ids.mine[k] is not None for k in kinds)]
        if len(kinds) > 1 or not cases:
            cases.append(kinds)
        for varied in cases:
            base = {k: ids.mine[k] for k in kinds if k not in varied}
            theirs = _request(
                http, client, operation, {**base, **{k: ids.theirs[k] for k in varied}}
            )
            nothing = _request(
                http, client, operation, {**base, **{k: ids.absent[k] for k in varied}}
            )
            where = (operation.method, operation.path, varied)
            assert theirs[0] == nothing[0], (where, theirs, nothing)
            mask_theirs = _masked(theirs[1], [ids.theirs[k] for k in varied])
            mask_nothing = _masked(nothing[1], [ids.absent[k] for k in varied])
            assert mask_theirs == mask_nothing, (where, theirs, nothing)
            compared += 1
    assert compared >= 30
    assert _snapshot(http, other_client, ids.theirs) == before
