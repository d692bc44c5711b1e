"""Checkout: one order from a cart, holds turned into sales, and every refusal."""

import re
from typing import Any

import pytest
from sqlalchemy import Engine, event, select
from sqlalchemy.engine.default import CACHE_HIT

from boxoffice.server.carts import service as carts_service
from boxoffice.server.carts.repository import NewItem
from boxoffice.server.carts.tables import carts
from boxoffice.server.db import transactions
from boxoffice.server.db.transactions import write_transaction
from boxoffice.server.orders.tables import order_seats, orders
from boxoffice.server.places.service import seat_key
from tests.builders import PARKET, RESERVED, UNRESERVED, Catalog, add_customer, erase_customer
from tests.carts.conftest import Shop, claims_of, snapshot
from tests.conftest import Client
from tests.places.test_counts_cost import recorded

ORDER_KEY = re.compile(r"[A-Za-z0-9]{5}-[A-Za-z0-9]{5}-[A-Za-z0-9]{5}-[A-Za-z0-9]{5}")


def filled_cart(shop: Shop) -> str:
    cart = shop.new_cart()
    response = shop.add(
        cart,
        [
            {"priceId": "STD", "rankId": 1, "numberOfTickets": 2},
            {"priceId": "FREE", "rankId": 2},
            {"priceId": "donation", "rankId": 0, "amount": "5.00"},
        ],
    )
    assert response.status_code == 200, response.text
    return cart


def test_anonymous_checkout(shop: Shop, engine: Engine, client: Client, catalog: Catalog) -> None:
    cart = filled_cart(shop)
    response = shop.checkout(cart, {"paymentMethodId": 1})
    assert response.status_code == 201, response.text
    order = response.json()
    assert list(order) == [
        "orderId",
        "orderKey",
        "customerId",
        "orderStatus",
        "orderPaymentStatus",
        "orderChannel",
        "orderDate",
        "timeOut",
        "lastChanged",
        "amount",
        "fee",
        "donation",
        "handlingTextPayment",
        "discountName",
        "seats",
        "deletedSeats",
        "user",
    ]
    assert ORDER_KEY.fullmatch(order["orderKey"])
    assert order["customerId"] is None and order["user"] is None
    assert (order["orderStatus"], order["orderPaymentStatus"], order["orderChannel"]) == (
        "ord",
        "none",
        "www",
    )
    assert order["timeOut"] is None and order["discountName"] is None
    assert order["orderDate"] == order["lastChanged"]
    assert order["handlingTextPayment"] == "iDEAL"
    # 2 x 24.50 + 15.00 + donation 5.00 + fee 0.00
    assert '"amount":69.00,"fee":0.00,"donation":5.00' in response.text
    assert order["deletedSeats"] == []
    assert [
        (s["eventId"], s["rankId"], s["rowNr"], s["seatNr"], s["priceId"], s["priceName"])
        for s in order["seats"]
    ] == [
        (RESERVED, 1, 1, 5, "STD", "Standard"),
        (RESERVED, 1, 1, 6, "STD", "Standard"),
        (UNRESERVED, 2, None, None, "FREE", "Vrije plaats"),
    ]
    assert [s["amount"] for s in order["seats"]] == [24.5, 24.5, 15.0]

    # Every hold became a sale of one of the order's seats; the cart is closed.
    claims = claims_of(engine, client.tenant.id)
    seat_ids = [s["seatId"] for s in order["seats"]]
    assert sorted(c["order_seat_id"] for c in claims) == sorted(seat_ids)
    assert all(c["cart_item_id"] is None and c["expires_at"] is None for c in claims)
    # Each seat was sold the place its item held (the seat and its claim paired, not just
    # as many claims as seats).
    place_of = {c["order_seat_id"]: c["place_key"] for c in claims}
    sold = [place_of[s["seatId"]] for s in order["seats"]]
    assert sold[:2] == [
        seat_key(catalog.seat[(PARKET, 1, 5)]),
        seat_key(catalog.seat[(PARKET, 1, 6)]),
    ]
    assert sold[2].startswith("u2:")
    with engine.connect() as conn:
        seats = conn.execute(
            select(order_seats).where(order_seats.c.order_id == order["orderId"])
        ).mappings()
        hall_seats = [s["hall_seat_id"] for s in seats]
        stored = conn.execute(select(orders).where(orders.c.id == order["orderId"])).mappings()
        row = stored.one()
        closed = conn.execute(select(carts.c.closed_at).where(carts.c.id == cart)).scalar_one()
    assert hall_seats == [catalog.seat[(PARKET, 1, 5)], catalog.seat[(PARKET, 1, 6)], None]
    assert row["payment_method_id"] == 1
    assert row["created_at"] == row["order_date_at"] == row["last_changed_at"]
    assert closed == row["created_at"]
    assert shop.get(f"/cart/{cart}").status_code == 404
    assert shop.checkout(cart, {"paymentMethodId": 1}).status_code == 404
    assert shop.add(cart, [{"priceId": "STD", "rankId": 1}]).status_code == 404
    # Sold places stay unavailable.
    assert shop.available(RESERVED)[1] == 25
    assert shop.available(UNRESERVED) == {2: 44}


def test_customer_box_office_paid_with_fee_and_extra_donation(
    shop: Shop, engine: Engine, client: Client, catalog: Catalog
) -> None:
    customer_id = add_customer(engine, client, tags=["vip", "friend"])
    cart = filled_cart(shop)
    response = shop.checkout(
        cart,
        {
            "customerId": customer_id,
            "paymentMethodId": 2,
            "orderChannel": "sp",
            "donation": "2.50",
            "paid": True,
        },
    )
    assert response.status_code == 201, response.text
    order = response.json()
    assert order["customerId"] == customer_id
    assert (order["orderPaymentStatus"], order["orderChannel"]) == ("paid", "sp")
    assert order["handlingTextPayment"] == "Invoice"
    # 64.00 of seats + donation (5.00 in the cart + 2.50 at checkout) + fee 2.50
    assert '"amount":74.00,"fee":2.50,"donation":7.50' in response.text
    user = order["user"]
    assert user["customerId"] == customer_id and user["email"] == "ada@example.org"
    assert user["clientTypes"] == ["friend", "vip"]


def test_numeric_donation_and_null_customer(shop: Shop, catalog: Catalog) -> None:
    cart = shop.new_cart()
    shop.add(cart, [{"priceId": "R2", "rankId": 2}])
    response = shop.checkout(cart, {"customerId": None, "paymentMethodId": 2, "donation": 1.5})
    assert response.status_code == 201, response.text
    assert '"amount":19.00,"fee":2.50,"donation":1.50' in response.text


def test_donation_only_cart_can_be_checked_out(shop: Shop, catalog: Catalog) -> None:
    cart = shop.new_cart()
    shop.add(cart, [{"priceId": "donation", "rankId": 0, "amount": 10}])
    response = shop.checkout(cart, {"paymentMethodId": 1})
    assert response.status_code == 201
    assert response.json()["seats"] == []
    assert '"amount":10.00,"fee":0.00,"donation":10.00' in response.text


def test_sold_places_cannot_be_held_again(shop: Shop, catalog: Catalog) -> None:
    seat = catalog.seat[(PARKET, 2, 2)]
    cart = shop.new_cart()
    shop.add(cart, [{"priceId": "STD", "rankId": 1, "seatId": seat}])
    assert shop.checkout(cart, {"paymentMethodId": 1}).status_code == 201
    response = shop.add(shop.new_cart(), [{"priceId": "RED", "rankId": 1, "seatId": seat}])
    assert response.status_code == 409
    assert response.json() == {"message": f"Seat {seat} is not available."}


def test_a_checkout_changes_the_kept_counts_last(
    shop: Shop, engine: Engine, catalog: Catalog
) -> None:
    """The counts' (and sold seats') rows are shared by every checkout of an event: they
    are the checkout's last statements before its commit, so that their row locks are
    held as briefly as can be (the claims' and the cart's rows are the checkout's own)."""
    cart = filled_cart(shop)
    with recorded(engine) as statements:
        assert shop.checkout(cart, {"paymentMethodId": 1, "paid": True}).status_code == 201
    # Every write of every statement, in order (on PostgreSQL the order, its seats and the
    # claims' sale are one statement's CTEs).
    writes = [
        " ".join(found.split())
        for text, _params in statements
        for found in re.findall(r"(?<!DO )(?:INSERT INTO|UPDATE|DELETE FROM)\s+\w+", text)
    ]
    assert writes[-2:] == ["INSERT INTO place_counts", "INSERT INTO place_sold_seats"], writes
    assert "UPDATE place_claims" in writes and "UPDATE carts" in writes


def _cart_statements(statements: list[tuple[str, Any]]) -> list[str]:
    """The statements that read or write the carts table (not its items), by their verb."""
    found = []
    for text, _params in statements:
        words = text.split()
        # (On PostgreSQL a hold's UPDATE is the WITH clause of the statement that also
        # reads its prices.)
        if re.search(r"\bUPDATE carts\b", text):
            found.append("UPDATE")
        elif words[0] == "SELECT" and "carts" in words[words.index("FROM") + 1 :][:1]:
            found.append("SELECT")
    return found


def test_a_hold_and_a_checkout_lock_and_change_the_cart_in_one_statement(
    shop: Shop, engine: Engine, catalog: Catalog
) -> None:
    """The cart's row is locked by the statement that changes it: a hold moves its expiry
    and a checkout closes it, each with one UPDATE and no read of the cart before it (one
    round trip fewer each than a locking read and then the change)."""
    with recorded(engine) as held:
        cart = filled_cart(shop)
    with recorded(engine) as checked_out:
        assert shop.checkout(cart, {"paymentMethodId": 1, "paid": True}).status_code == 201
    # filled_cart also creates the cart (an INSERT).
    assert _cart_statements(held) == ["UPDATE"], held
    assert _cart_statements(checked_out) == ["UPDATE"], checked_out


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "paymentMethodId"),
        ({"paymentMethodId": 9}, "paymentMethodId"),
        ({"paymentMethodId": "one"}, "paymentMethodId"),
        ({"paymentMethodId": 1.0}, "paymentMethodId"),
        ({"paymentMethodId": 1, "customerId": 999999}, "customerId"),
        ({"paymentMethodId": 1, "customerId": 0}, "customerId"),
        ({"paymentMethodId": 1, "orderChannel": "shop"}, "orderChannel"),
        ({"paymentMethodId": 1, "paid": "yes"}, "paid"),
        ({"paymentMethodId": 1, "donation": "-1.00"}, "donation"),
        ({"paymentMethodId": 1, "donation": "1.001"}, "donation"),
        ({"paymentMethodId": 1, "discount": "x"}, "discount"),
    ],
)
def test_invalid_checkout_is_422_and_writes_nothing(
    shop: Shop,
    engine: Engine,
    client: Client,
    catalog: Catalog,
    body: dict[str, Any],
    field: str,
) -> None:
    cart = filled_cart(shop)
    before = snapshot(engine, client.tenant.id)
    response = shop.checkout(cart, body)
    assert response.status_code == 422, response.text
    assert field in response.json()["errors"]
    assert snapshot(engine, client.tenant.id) == before


def test_customer_of_another_client_or_erased_is_422(
    shop: Shop, engine: Engine, client: Client, other_client: Client, catalog: Catalog
) -> None:
    foreign = add_customer(engine, other_client)
    erased = add_customer(engine, client, email="gone@example.org")
    erase_customer(engine, client, erased)
    cart = filled_cart(shop)
    before = snapshot(engine, client.tenant.id)
    for customer_id, problem in ((foreign, "does not exist"), (erased, "has been erased")):
        response = shop.checkout(cart, {"paymentMethodId": 1, "customerId": customer_id})
        assert response.status_code == 422
        assert problem in response.json()["errors"]["customerId"][0]
    assert snapshot(engine, client.tenant.id) == before


def test_empty_cart_is_422(shop: Shop, engine: Engine, client: Client, catalog: Catalog) -> None:
    cart = shop.new_cart()
    before = snapshot(engine, client.tenant.id)
    response = shop.checkout(cart, {"paymentMethodId": 1})
    assert response.status_code == 422
    assert response.json() == {
        "message": "The cart is empty.",
        "errors": {"cart": ["The cart is empty."]},
    }
    assert snapshot(engine, client.tenant.id) == before
    # Emptied by removing its only item: still empty.
    item = shop.add(cart, [{"priceId": "R2", "rankId": 2}]).json()["cartItems"][0]["itemId"]
    shop.delete(f"/cart/{cart}/{item}")
    assert shop.checkout(cart, {"paymentMethodId": 1}).status_code == 422


def test_a_hold_that_finds_one_of_its_places_claimed_leaves_nothing(
    shop: Shop, engine: Engine, client: Client, catalog: Catalog
) -> None:
    """A hold is all or nothing: when a place it picked was claimed by another buyer in the
    meantime, neither its items nor its other holds remain, and the caller may pick again
    (on PostgreSQL the items and holds are one statement, whose made rows are deleted)."""
    taken, free = catalog.seat[(PARKET, 1, 5)], catalog.seat[(PARKET, 1, 6)]
    other = shop.new_cart()
    assert shop.add(other, [{"priceId": "STD", "rankId": 1, "seatId": taken}]).status_code == 200
    cart = shop.new_cart()
    before = snapshot(engine, client.tenant.id)
    items = [
        NewItem(
            item_type="ticket",
            event_id=RESERVED,
            price_id="STD",
            price_name="Standard",
            rank_id=1,
            hall_seat_id=seat,
            row_nr=1,
            seat_nr=number,
            description=f"seat {number}",
            amount_cents=2500,
            place_key=seat_key(seat),
        )
        for seat, number in ((free, 6), (taken, 5))
    ]
    with write_transaction(engine) as tx:
        assert carts_service._hold(tx.conn, client.tenant, cart, items, tx.now + 60_000_000) is None
    assert snapshot(engine, client.tenant.id) == before


@pytest.mark.parametrize("event_id", [RESERVED, UNRESERVED])
def test_an_order_compiles_its_statements_once(
    shop: Shop,
    engine: Engine,
    client: Client,
    catalog: Catalog,
    event_id: int,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Every statement of a buyer's order (a cart, a best-available hold of 2 tickets, the
    checkout) is compiled once: the second order's statements all come from SQLAlchemy's
    compiled cache, or from the SQL that run_pipelined and run_one keep per statement. A
    statement that cannot be cached (a VALUES list, say) or one built per request is
    compiled again on every request, at a cost of the order of the request itself."""
    price = {RESERVED: ("STD", 1), UNRESERVED: ("FREE", 2)}[event_id]
    line = [{"priceId": price[0], "rankId": price[1], "numberOfTickets": 2}]

    def order() -> None:
        cart = shop.new_cart()
        assert shop.add(cart, line).status_code == 200
        assert shop.checkout(cart, {"paymentMethodId": 1}).status_code == 201

    order()
    compiled: list[tuple[str, Any]] = []
    pipelined: list[tuple[str, bool]] = []
    kept = transactions._pipeline_sql

    def record(
        conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, many: bool
    ) -> None:
        if context is not None and context.compiled is not None:
            compiled.append((statement, context.cache_hit))

    def record_pipelined(statement: Any, dialect: Any) -> Any:
        kept_for = transactions._PIPELINE_SQL.get(statement, {})
        pipelined.append((str(statement), dialect.name in kept_for))
        return kept(statement, dialect)

    monkeypatch.setattr(transactions, "_pipeline_sql", record_pipelined)
    event.listen(engine, "before_cursor_execute", record)
    try:
        order()
    finally:
        event.remove(engine, "before_cursor_execute", record)
    assert compiled or pipelined
    assert [sql for sql, hit in compiled if hit != CACHE_HIT] == []
    assert [sql for sql, hit in pipelined if not hit] == []
