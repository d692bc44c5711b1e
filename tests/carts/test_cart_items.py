"""Carts: creating, holding places (best available, named seats, capacity), removing."""

import re
from typing import Any

import pytest
from sqlalchemy import Engine, select

from boxoffice.server.carts.tables import cart_items, carts
from tests.builders import ENDED, OTHER_PRODUCTION_EVENT, PARKET, RESERVED, UNRESERVED, Catalog
from tests.carts.conftest import Shop, claims_of, snapshot
from tests.conftest import Client

FIFTEEN_MINUTES = 15 * 60 * 1_000_000


def seats_of(body: dict[str, Any]) -> list[tuple[int, int]]:
    return [(i["rowNr"], i["seatNr"]) for i in body["cartItems"] if i["itemType"] == "ticket"]


def test_create_cart(shop: Shop, engine: Engine, client: Client, catalog: Catalog) -> None:
    response = shop.http.post(client.base + "/cart", headers=client.auth)
    assert response.status_code == 201
    body = response.json()
    assert re.fullmatch(r"[A-Za-z0-9]{32}", body["cartId"])
    assert body["numberOfItems"] == 0 and body["cartItems"] == []
    assert '"amount":0.00' in response.text
    with engine.connect() as conn:
        cart = conn.execute(select(carts).where(carts.c.id == body["cartId"])).mappings().one()
    assert cart["expires_at"] - cart["created_at"] == FIFTEEN_MINUTES
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d\d:\d\d", body["timeOut"])
    assert shop.get(f"/cart/{body['cartId']}").json() == body
    assert shop.new_cart() != body["cartId"]


def test_best_available_seats_sit_together_near_the_middle(
    shop: Shop, engine: Engine, client: Client, catalog: Catalog
) -> None:
    cart = shop.new_cart()
    response = shop.add(cart, [{"priceId": "STD", "rankId": 1, "numberOfTickets": 3}])
    assert response.status_code == 200, response.text
    body = response.json()
    # Row 1 has seats 2-9 free (1 and 10 are blocked); its middle is 5.5: 4-5-6 and 5-6-7
    # are equally central, and the lower seat numbers win.
    assert seats_of(body) == [(1, 4), (1, 5), (1, 6)]
    item = body["cartItems"][0]
    assert item == {
        "itemType": "ticket",
        "itemId": item["itemId"],
        "eventId": RESERVED,
        "priceId": "STD",
        "priceName": "Standard",
        "rankId": 1,
        "rowNr": 1,
        "seatNr": 4,
        "description": "Hamlet, 2030-04-01 20:30, Standard, Parket row 1 seat 4",
        "amount": 24.5,
    }
    assert body["numberOfItems"] == 3
    assert '"amount":73.50' in response.text
    claims = claims_of(engine, client.tenant.id)
    assert [c["place_key"] for c in claims] == [
        f"s{catalog.seat[(PARKET, 1, n)]}" for n in (4, 5, 6)
    ]
    assert {c["rank_id"] for c in claims} == {1}
    assert all(c["order_seat_id"] is None and c["cart_item_id"] for c in claims)

    # Four more do not fit next to them in row 1 (2-3 and 7-9 are left): row 2 it is.
    body = shop.add(cart, [{"priceId": "RED", "rankId": 1, "numberOfTickets": 4}]).json()
    assert seats_of(body)[3:] == [(2, 4), (2, 5), (2, 6), (2, 7)]
    # Three fit in row 1 again (7-8-9), which beats row 2.
    body = shop.add(cart, [{"priceId": "STD", "rankId": 1, "numberOfTickets": 3}]).json()
    assert seats_of(body)[7:] == [(1, 7), (1, 8), (1, 9)]


def test_a_party_is_split_only_when_no_run_is_long_enough(shop: Shop, catalog: Catalog) -> None:
    # Event 203: hall 2, one row of 8 seats. Taking seats 3 and 6 leaves 1-2, 4-5, 7-8.
    seat = catalog.seat
    first = shop.new_cart()
    taken = shop.add(
        first,
        [
            {"priceId": "LEAR", "rankId": 1, "seatId": seat[(1, 1, 3)]},
            {"priceId": "LEAR", "rankId": 1, "seatId": seat[(1, 1, 6)]},
        ],
    )
    assert taken.status_code == 200, taken.text
    cart = shop.new_cart()
    body = shop.add(cart, [{"priceId": "LEAR", "rankId": 1, "numberOfTickets": 3}]).json()
    # The central pair 4-5, then the best single seat: 2 and 7 are equally central.
    assert seats_of(body) == [(1, 2), (1, 4), (1, 5)]


def test_named_seat(shop: Shop, engine: Engine, client: Client, catalog: Catalog) -> None:
    seat_id = catalog.seat[(PARKET, 3, 5)]
    cart = shop.new_cart()
    body = shop.add(
        cart, [{"priceId": "STD", "rankId": 1, "eventId": RESERVED, "seatId": seat_id}]
    ).json()
    assert seats_of(body) == [(3, 5)]
    assert claims_of(engine, client.tenant.id)[0]["place_key"] == f"s{seat_id}"
    # Named seats are claimed before best-available ones of the same request.
    other = shop.new_cart()
    body = shop.add(
        other,
        [
            {"priceId": "STD", "rankId": 1, "numberOfTickets": 2},
            {"priceId": "STD", "rankId": 1, "seatId": catalog.seat[(PARKET, 1, 5)]},
        ],
    ).json()
    # Seat 5 goes first; the best pair left in row 1 (2-4 and 6-9 free) is 6-7.
    assert seats_of(body) == [(1, 5), (1, 6), (1, 7)]


@pytest.mark.parametrize(
    ("place", "price", "rank"),
    [
        ((PARKET, 3, 5), "STD", 1),  # held by another cart (below)
        ((PARKET, 1, 1), "STD", 1),  # blocked (wheelchair)
        ((PARKET, 4, 1), "STD", 1),  # a rank-2 seat, but STD sells rank 1
    ],
)
def test_unavailable_named_seat_is_409_and_nothing_is_held(
    shop: Shop,
    engine: Engine,
    client: Client,
    catalog: Catalog,
    place: tuple[int, int, int],
    price: str,
    rank: int,
) -> None:
    holder = shop.new_cart()
    shop.add(holder, [{"priceId": "STD", "rankId": 1, "seatId": catalog.seat[(PARKET, 3, 5)]}])
    cart = shop.new_cart()
    before = snapshot(engine, client.tenant.id)
    response = shop.add(
        cart,
        [
            {"priceId": "R2", "rankId": 2, "numberOfTickets": 2},
            {"priceId": price, "rankId": rank, "seatId": catalog.seat[place]},
        ],
    )
    assert response.status_code == 409, response.text
    assert response.json()["message"]
    assert snapshot(engine, client.tenant.id) == before


def test_unreserved_units(shop: Shop, engine: Engine, client: Client, catalog: Catalog) -> None:
    cart = shop.new_cart()
    response = shop.add(cart, [{"priceId": "FREE", "rankId": 2, "numberOfTickets": 3}])
    assert response.status_code == 200, response.text
    items = response.json()["cartItems"]
    assert [(i["rowNr"], i["seatNr"], i["eventId"]) for i in items] == [
        (None, None, UNRESERVED)
    ] * 3
    assert items[0]["description"] == "Hamlet (foyer), 2030-04-02 20:30, Vrije plaats"
    assert [c["place_key"] for c in claims_of(engine, client.tenant.id)] == [
        "u2:1",
        "u2:2",
        "u2:3",
    ]
    assert shop.available(UNRESERVED) == {2: 42}


def unit_keys(engine: Engine, tenant_id: int) -> set[str]:
    return {c["place_key"] for c in claims_of(engine, tenant_id)}


def test_unreserved_holds_take_free_units_above_the_claims_then_the_holes(
    shop: Shop, engine: Engine, client: Client, catalog: Catalog
) -> None:
    # Units are probed from just above the number of claims (places.probe_free_units): a
    # hole that a release leaves lower down is skipped while free units remain above, and
    # found by reading every claim once none do. No unit is ever taken twice.
    first = shop.new_cart()
    held = shop.add(first, [{"priceId": "FREE", "rankId": 2, "numberOfTickets": 3}]).json()
    shop.add(shop.new_cart(), [{"priceId": "FREE", "rankId": 2, "numberOfTickets": 3}])
    for item in held["cartItems"]:
        assert shop.delete(f"/cart/{first}/{item['itemId']}").status_code == 200
    assert unit_keys(engine, client.tenant.id) == {"u2:4", "u2:5", "u2:6"}
    assert (
        shop.add(
            shop.new_cart(), [{"priceId": "FREE", "rankId": 2, "numberOfTickets": 2}]
        ).status_code
        == 200
    )
    assert unit_keys(engine, client.tenant.id) == {"u2:4", "u2:5", "u2:6", "u2:7", "u2:8"}
    # Fill every unit above the hole (45 for sale): the next holds find u2:1-3.
    for count in (20, 17):
        filled = shop.add(
            shop.new_cart(), [{"priceId": "FREE", "rankId": 2, "numberOfTickets": count}]
        )
        assert filled.status_code == 200, filled.text
    assert shop.available(UNRESERVED) == {2: 3}
    assert (
        shop.add(
            shop.new_cart(), [{"priceId": "FREE", "rankId": 2, "numberOfTickets": 3}]
        ).status_code
        == 200
    )
    assert unit_keys(engine, client.tenant.id) == {f"u2:{unit}" for unit in range(1, 46)}
    assert len(claims_of(engine, client.tenant.id)) == 45
    assert shop.available(UNRESERVED) == {2: 0}
    assert shop.add(shop.new_cart(), [{"priceId": "FREE", "rankId": 2}]).status_code == 409


def test_not_enough_capacity_is_409_and_nothing_is_held(
    shop: Shop, engine: Engine, client: Client, catalog: Catalog
) -> None:
    cart = shop.new_cart()
    before = snapshot(engine, client.tenant.id)
    # 45 places are for sale (50 minus 5 blocked); the first two lines fit, the third not.
    lines = [{"priceId": "FREE", "rankId": 2, "numberOfTickets": n} for n in (20, 20, 6)]
    response = shop.add(cart, lines)
    assert response.status_code == 409
    assert response.json() == {
        "message": "Not enough places available for price 'FREE': 6 requested, 5 available."
    }
    assert snapshot(engine, client.tenant.id) == before
    # Exactly the available number does fit.
    lines[2]["numberOfTickets"] = 5
    assert shop.add(cart, lines).status_code == 200
    assert shop.available(UNRESERVED) == {2: 0}
    assert shop.add(shop.new_cart(), [{"priceId": "FREE", "rankId": 2}]).status_code == 409


def test_not_enough_reserved_seats_is_409(shop: Shop, catalog: Catalog) -> None:
    cart = shop.new_cart()
    # Rank 2 has 16 seats: R2 x 16 fits, one more does not.
    assert (
        shop.add(cart, [{"priceId": "R2", "rankId": 2, "numberOfTickets": n} for n in (10, 6)])
    ).status_code == 200
    response = shop.add(shop.new_cart(), [{"priceId": "R2", "rankId": 2}])
    assert response.status_code == 409
    assert shop.available(RESERVED) == {1: 27, 2: 0}


def test_an_ended_event_is_not_on_sale(shop: Shop, catalog: Catalog) -> None:
    response = shop.add(shop.new_cart(), [{"priceId": "OLD", "rankId": 1}])
    assert response.status_code == 409
    assert str(ENDED) in response.json()["message"]


def test_donation_item(shop: Shop, catalog: Catalog) -> None:
    cart = shop.new_cart()
    response = shop.add(
        cart,
        [{"priceId": "donation", "rankId": 0, "amount": "5.00"}, {"priceId": "R2", "rankId": 2}],
    )
    assert response.status_code == 200, response.text
    donation = response.json()["cartItems"][1]
    assert donation == {
        "itemType": "donation",
        "itemId": donation["itemId"],
        "eventId": None,
        "priceId": "donation",
        "priceName": "Donation",
        "rankId": 0,
        "rowNr": None,
        "seatNr": None,
        "description": "Donation",
        "amount": 5.0,
    }
    assert '"amount":20.00' in response.text  # 15.00 + 5.00


@pytest.mark.parametrize(
    ("items", "field"),
    [
        ([{"priceId": "NOPE", "rankId": 1}], "0.priceId"),
        ([{"priceId": "R2", "rankId": 2}, {"priceId": "STD", "rankId": 2}], "1.rankId"),
        ([{"priceId": "STD", "rankId": 1, "eventId": UNRESERVED}], "0.eventId"),
        ([{"priceId": "STD", "rankId": 1, "numberOfTickets": 0}], "0.numberOfTickets"),
        ([{"priceId": "STD", "rankId": 1, "numberOfTickets": 21}], "0.numberOfTickets"),
        ([{"priceId": "STD", "rankId": 1, "numberOfTickets": "2.0"}], "0.numberOfTickets"),
        ([{"priceId": "STD", "rankId": True}], "0.rankId"),
        ([{"priceId": "STD"}], "0.rankId"),
        ([{"rankId": 1}], "0.priceId"),
        ([{"priceId": "STD", "rankId": 1, "colour": "red"}], "0.colour"),
        ([{"priceId": "STD", "rankId": 1, "price_id": "STD"}], "0.price_id"),
        ([{"priceId": "STD", "rankId": 1, "seatId": 1, "numberOfTickets": 2}], "0.numberOfTickets"),
        ([{"priceId": "STD", "rankId": 1, "amount": "1.00"}], "0.amount"),
        ([{"priceId": "FREE", "rankId": 2, "seatId": 1}], "0.seatId"),
        ([{"priceId": "STD", "rankId": 1, "seatId": 2_000_000_000}], "0.seatId"),
        ([{"priceId": "donation", "rankId": 0}], "0.amount"),
        ([{"priceId": "donation", "rankId": 0, "amount": "-1.00"}], "0.amount"),
        ([{"priceId": "donation", "rankId": 0, "amount": "0.00"}], "0.amount"),
        ([{"priceId": "donation", "rankId": 0, "amount": 1.005}], "0.amount"),
        ([{"priceId": "donation", "rankId": 0, "amount": True}], "0.amount"),
        ([{"priceId": "donation", "rankId": 1, "amount": "1.00"}], "0.rankId"),
        ([{"priceId": "donation", "rankId": 0, "amount": "1.00", "seatId": 3}], "0.seatId"),
        ([], "body"),
        ({"priceId": "STD", "rankId": 1}, "body"),
        ([{"priceId": "STD", "rankId": 1}] * 51, "body"),
    ],
)
def test_invalid_items_are_422_and_write_nothing(
    shop: Shop,
    engine: Engine,
    client: Client,
    catalog: Catalog,
    items: Any,
    field: str,
) -> None:
    cart = shop.new_cart()
    before = snapshot(engine, client.tenant.id)
    response = shop.add(cart, items)
    assert response.status_code == 422, response.text
    assert field in response.json()["errors"], response.json()
    assert snapshot(engine, client.tenant.id) == before


def test_malformed_json_is_422(shop: Shop, catalog: Catalog) -> None:
    cart = shop.new_cart()
    response = shop.http.post(
        f"{shop.client.base}/cart/{cart}",
        content=b"[{",
        headers={**shop.client.auth, "Content-Type": "application/json"},
    )
    assert response.status_code == 422


def test_a_cart_holds_at_most_100_tickets(shop: Shop, catalog: Catalog) -> None:
    cart = shop.new_cart()
    for lines in (
        [("FREE", 2, 20), ("FREE", 2, 20), ("FREE", 2, 5)],
        [("R2", 2, 16), ("STD", 1, 20), ("STD", 1, 7)],
        [("LEAR", 1, 8)],
    ):
        body = [{"priceId": p, "rankId": r, "numberOfTickets": n} for p, r, n in lines]
        assert shop.add(cart, body).status_code == 200
    assert shop.get(f"/cart/{cart}/summary").json()["numberOfItems"] == 96
    response = shop.add(cart, [{"priceId": "RED", "rankId": 1, "numberOfTickets": 5}])
    assert response.status_code == 422
    assert response.json()["message"] == "A cart holds at most 100 tickets; it has 96."


def test_remove_item_releases_its_place(
    shop: Shop, engine: Engine, client: Client, catalog: Catalog
) -> None:
    cart = shop.new_cart()
    body = shop.add(
        cart,
        [{"priceId": "STD", "rankId": 1, "numberOfTickets": 2}, {"priceId": "FREE", "rankId": 2}],
    ).json()
    first = body["cartItems"][0]["itemId"]
    assert shop.available(RESERVED)[1] == 25
    response = shop.delete(f"/cart/{cart}/{first}")
    assert response.status_code == 200
    assert [i["itemId"] for i in response.json()["cartItems"]] == [
        i["itemId"] for i in body["cartItems"][1:]
    ]
    assert response.json()["numberOfItems"] == 2
    assert shop.available(RESERVED)[1] == 26
    assert len(claims_of(engine, client.tenant.id)) == 2
    # Gone now, and never one of another cart.
    assert shop.delete(f"/cart/{cart}/{first}").status_code == 404
    other = shop.new_cart()
    second = body["cartItems"][1]["itemId"]
    response = shop.delete(f"/cart/{other}/{second}")
    assert response.status_code == 404
    assert response.json() == {"message": "Cart item not found."}


def test_delete_cart_releases_everything_and_it_is_gone(
    shop: Shop, engine: Engine, client: Client, catalog: Catalog
) -> None:
    cart = shop.new_cart()
    shop.add(cart, [{"priceId": "STD", "rankId": 1, "numberOfTickets": 4}])
    response = shop.delete(f"/cart/{cart}")
    assert response.status_code == 204
    assert response.content == b""
    assert claims_of(engine, client.tenant.id) == []
    assert shop.available(RESERVED)[1] == 27
    for response in (
        shop.get(f"/cart/{cart}"),
        shop.get(f"/cart/{cart}/summary"),
        shop.add(cart, [{"priceId": "STD", "rankId": 1}]),
        shop.delete(f"/cart/{cart}"),
        shop.checkout(cart, {"paymentMethodId": 1}),
    ):
        assert response.status_code == 404
        assert response.json() == {"message": "Cart not found."}
    # Its items stay for audit; the cart is closed.
    with engine.connect() as conn:
        closed = conn.execute(select(carts.c.closed_at).where(carts.c.id == cart)).scalar_one()
        kept = conn.execute(select(cart_items).where(cart_items.c.cart_id == cart)).all()
    assert closed is not None and len(kept) == 4


def test_summary(shop: Shop, catalog: Catalog) -> None:
    cart = shop.new_cart()
    full = shop.add(cart, [{"priceId": "STD", "rankId": 1, "numberOfTickets": 2}]).json()
    response = shop.get(f"/cart/{cart}/summary")
    assert response.status_code == 200
    assert response.json() == {
        "cartId": cart,
        "timeOut": full["timeOut"],
        "numberOfItems": 2,
        "amount": 49.0,
    }
    assert '"amount":49.00' in response.text


@pytest.mark.parametrize("cart_id", ["x" * 32, "short", "A" * 33])
def test_unknown_cart_is_404(shop: Shop, catalog: Catalog, cart_id: str) -> None:
    for response in (
        shop.get(f"/cart/{cart_id}"),
        shop.get(f"/cart/{cart_id}/summary"),
        shop.add(cart_id, [{"priceId": "STD", "rankId": 1}]),
        shop.delete(f"/cart/{cart_id}/1"),
        shop.delete(f"/cart/{cart_id}"),
        shop.checkout(cart_id, {"paymentMethodId": 1}),
    ):
        assert response.status_code == 404
        assert response.json() == {"message": "Cart not found."}


def test_another_clients_cart_is_404(
    shop: Shop, engine: Engine, client: Client, other_client: Client, catalog: Catalog
) -> None:
    cart = shop.new_cart()
    shop.add(cart, [{"priceId": "STD", "rankId": 1}])
    other = Shop(http=shop.http, client=other_client)
    before = snapshot(engine, client.tenant.id)
    for response in (
        other.get(f"/cart/{cart}"),
        other.add(cart, [{"priceId": "STD", "rankId": 1}]),
        other.delete(f"/cart/{cart}"),
        other.checkout(cart, {"paymentMethodId": 1}),
    ):
        assert response.status_code == 404
    assert snapshot(engine, client.tenant.id) == before


def test_prices_are_per_client(
    shop: Shop, other_client: Client, engine: Engine, catalog: Catalog
) -> None:
    other = Shop(http=shop.http, client=other_client)
    response = other.add(other.new_cart(), [{"priceId": "STD", "rankId": 1}])
    assert response.status_code == 422
    assert "0.priceId" in response.json()["errors"]


def test_event_203_is_independent_of_event_200(shop: Shop, catalog: Catalog) -> None:
    cart = shop.new_cart()
    shop.add(cart, [{"priceId": "LEAR", "rankId": 1, "numberOfTickets": 8}])
    assert shop.available(OTHER_PRODUCTION_EVENT) == {1: 0}
    assert shop.available(RESERVED) == {1: 27, 2: 16}
