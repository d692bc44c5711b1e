"""The public cart: the Peppered cart in public fields, as the WordPress plugins read it."""

from fastapi.testclient import TestClient
from sqlalchemy import Engine, update

from boxoffice.server.carts.tables import carts
from boxoffice.server.catalog.tables import events
from boxoffice.server.db.transactions import write_transaction
from tests.builders import ENDED, OTHER_PRODUCTION_EVENT, RESERVED, UNRESERVED, Catalog
from tests.carts.conftest import Shop, snapshot
from tests.carts.test_expiry import expire
from tests.conftest import Client
from tests.public_orders.conftest import Buyer

TICKET_KEYS = [
    "seat_id",
    "seat_row_nr",
    "seat_nr",
    "pmp_name",
    "event_id",
    "event_name",
    "location_name",
    "event_date",
    "event_time",
    "numberoftickets",
    "seat_price",
    "category_name",
    "discount_id",
    "discount_name",
]


def test_a_new_cart_is_201_with_its_id_and_location(
    http: TestClient, buyer: Buyer, catalog: Catalog
) -> None:
    created = http.post(f"{buyer.base}/cart")
    assert created.status_code == 201
    cart_id = created.json()["cart_id"]
    assert list(created.json()) == ["cart_id"] and len(cart_id) == 32
    assert created.headers["location"] == f"{buyer.base}/cart/{cart_id}"
    empty = buyer.cart(cart_id)
    assert empty.status_code == 200
    assert empty.json() == [{"cart": 0}]
    assert len(empty.json()) - 1 == 0  # the basket counter reads 0


def test_holding_tickets_answers_the_cart_with_every_key(buyer: Buyer, catalog: Catalog) -> None:
    cart_id = buyer.new_cart()
    body = buyer.add(cart_id, {"event_id": RESERVED, "numberoftickets": 2, "discount_id": "STD"})
    assert body.status_code == 200, body.text
    body = buyer.add(cart_id, {"event_id": UNRESERVED}).json()
    assert len(body) == 4
    first, second, foyer, total = body
    for ticket in (first, second, foyer):
        assert list(ticket) == TICKET_KEYS
        assert isinstance(ticket["seat_id"], str) and ticket["numberoftickets"] == 1
    assert first["pmp_name"] == "Parket" and first["location_name"] == "Zaal 1"
    assert first["seat_row_nr"] == second["seat_row_nr"]  # adjacent, best available
    assert abs(first["seat_nr"] - second["seat_nr"]) == 1
    assert (first["event_date"], first["event_time"]) == ("01-04-2030", "20:30")
    assert (first["seat_price"], first["category_name"]) == ("24.50", "Rang 1")
    assert (first["discount_id"], first["discount_name"]) == ("STD", "Standard")
    assert first["event_name"] == "Hamlet"
    assert (foyer["seat_row_nr"], foyer["seat_nr"], foyer["pmp_name"]) == (None, None, None)
    assert (foyer["category_name"], foyer["seat_price"]) == ("Rang 2", "15.00")
    assert total == {"totalprice": "64.00"}
    assert float(total["totalprice"]) == 64.0
    assert buyer.cart(cart_id).json() == body


def test_removing_a_ticket_releases_its_place(
    http: TestClient, buyer: Buyer, client: Client, catalog: Catalog
) -> None:
    shop = Shop(http=http, client=client)
    before = shop.available(UNRESERVED)
    cart_id = buyer.new_cart()
    body = buyer.add(cart_id, {"event_id": UNRESERVED, "numberoftickets": 2}).json()
    assert shop.available(UNRESERVED)[2] == before[2] - 2
    removed = http.delete(f"{buyer.base}/cart/{cart_id}/{body[0]['seat_id']}")
    assert removed.status_code == 200
    assert [t["seat_id"] for t in removed.json()[:-1]] == [body[1]["seat_id"]]
    assert removed.json()[-1] == {"totalprice": "15.00"}
    assert shop.available(UNRESERVED)[2] == before[2] - 1
    assert http.delete(f"{buyer.base}/cart/{cart_id}/{body[0]['seat_id']}").status_code == 404
    assert http.delete(f"{buyer.base}/cart/{cart_id}/abc").status_code == 404


def test_bad_lines_are_422_naming_the_field_and_hold_nothing(
    buyer: Buyer, engine: Engine, client: Client, catalog: Catalog
) -> None:
    cart_id = buyer.new_cart()
    before = snapshot(engine, client.tenant.id)
    for line, field in (
        ({"event_id": RESERVED}, "discount_id"),  # three ticket types: which one?
        ({"event_id": RESERVED, "discount_id": "LEAR"}, "discount_id"),
        ({"event_id": RESERVED, "discount_id": "NOPE"}, "discount_id"),
        ({"event_id": 999}, "event_id"),
        ({"event_id": "abc"}, "event_id"),
        ({"event_id": True}, "event_id"),
        ({"event_id": UNRESERVED, "numberoftickets": 0}, "numberoftickets"),
        ({"event_id": UNRESERVED, "numberoftickets": 11}, "numberoftickets"),
        ({"event_id": UNRESERVED, "numberoftickets": 1.5}, "numberoftickets"),
        ({"event_id": UNRESERVED, "colour": "red"}, "colour"),
        ({}, "event_id"),
    ):
        refused = buyer.add(cart_id, line)
        assert refused.status_code == 422, (line, refused.text)
        assert field in refused.json()["errors"], (line, refused.json())
    assert snapshot(engine, client.tenant.id) == before


def test_one_order_takes_at_most_max_tickets_per_order_of_an_event(
    buyer: Buyer, engine: Engine, client: Client, catalog: Catalog
) -> None:
    with write_transaction(engine) as tx:
        tx.conn.execute(
            update(events)
            .where(events.c.tenant_id == client.tenant.id, events.c.event_id == UNRESERVED)
            .values(max_tickets_per_order=3)
        )
    cart_id = buyer.new_cart()
    assert buyer.add(cart_id, {"event_id": UNRESERVED, "numberoftickets": 2}).status_code == 200
    refused = buyer.add(cart_id, {"event_id": UNRESERVED, "numberoftickets": 2})
    assert refused.status_code == 422
    assert "at most 3" in refused.json()["errors"]["numberoftickets"][0]
    assert buyer.add(cart_id, {"event_id": UNRESERVED, "numberoftickets": 1}).status_code == 200


def test_events_not_on_sale_are_409(
    buyer: Buyer, engine: Engine, client: Client, catalog: Catalog
) -> None:
    with write_transaction(engine) as tx:
        tx.conn.execute(
            update(events)
            .where(
                events.c.tenant_id == client.tenant.id, events.c.event_id == OTHER_PRODUCTION_EVENT
            )
            .values(status="nosal")
        )
    cart_id = buyer.new_cart()
    for event_id in (ENDED, OTHER_PRODUCTION_EVENT):
        refused = buyer.add(cart_id, {"event_id": event_id})
        assert refused.status_code == 409, refused.text
    assert buyer.cart(cart_id).json() == [{"cart": 0}]


def test_not_enough_places_is_409_and_holds_nothing(
    buyer: Buyer, engine: Engine, client: Client, catalog: Catalog
) -> None:
    with write_transaction(engine) as tx:
        tx.conn.execute(
            update(events)
            .where(events.c.tenant_id == client.tenant.id)
            .values(max_tickets_per_order=100)
        )
    cart_id = buyer.new_cart()
    # Balkon and row 4: 16 places of rank 2 on the reserved event.
    refused = buyer.add(cart_id, {"event_id": RESERVED, "numberoftickets": 20, "discount_id": "R2"})
    assert refused.status_code == 409, refused.text
    assert "16 available" in refused.json()["message"]
    assert buyer.cart(cart_id).json() == [{"cart": 0}]


def test_unknown_expired_and_ordered_carts(buyer: Buyer, engine: Engine, catalog: Catalog) -> None:
    missing = buyer.cart("x" * 32)
    assert missing.status_code == 404
    assert missing.json() == {"message": "Cart not found."}
    assert buyer.add("nope", {"event_id": UNRESERVED}).status_code == 404
    cart_id = buyer.new_cart()
    assert buyer.add(cart_id, {"event_id": UNRESERVED}).status_code == 200
    expire(engine, cart_id)
    # An expired cart reads as empty (its places are gone); changing it is a 410.
    assert buyer.cart(cart_id).json() == [{"cart": 0}]
    assert buyer.add(cart_id, {"event_id": UNRESERVED}).status_code == 410
    assert buyer.create_order(cart_id).status_code == 410
    # An ordered cart is gone.
    _url, _key = buyer.place([{"event_id": UNRESERVED}])
    with engine.connect() as conn:
        closed = (
            conn.execute(
                carts.select().where(
                    carts.c.closed_at.is_not(None), carts.c.tenant_id == catalog.tenant_id
                )
            )
            .mappings()
            .one()
        )
    assert buyer.cart(closed["id"]).status_code == 404


def test_an_unknown_client_is_404(http: TestClient) -> None:
    for method, path in (("POST", "/cart"), ("GET", "/cart/" + "x" * 32), ("GET", "/order/a")):
        response = http.request(method, "/v1/no-such-client" + path)
        assert response.status_code == 404
        assert response.json() == {"message": "Not found."}
