"""Field tables: one declaration per resource makes its renderer, columns, SQL and schema."""

from zoneinfo import ZoneInfo

import orjson
import pytest
from sqlalchemy import Engine, Table, literal_column, select

from boxoffice.server.carts.resources import CART, CART_ITEM, CART_SUMMARY, cart_resource
from boxoffice.server.carts.service import CartView
from boxoffice.server.carts.tables import cart_items, carts
from boxoffice.server.customers.resources import USER
from boxoffice.server.customers.schemas import COLUMNS, CustomerCreate, CustomerUpdate
from boxoffice.server.customers.service import PERSONAL_COLUMNS
from boxoffice.server.customers.tables import customers
from boxoffice.server.exports import repository
from boxoffice.server.exports.json_sql import Part, Raw, Value, json_sql
from boxoffice.server.fields import (
    Resource,
    given,
    instant,
    integer,
    money,
    nested,
    number,
    optional_instant,
    text,
)
from boxoffice.server.orders.resources import (
    ORDER,
    ORDER_EXPORT,
    ORDER_ROW_COLUMNS,
    SEAT,
    SEAT_ROW_COLUMNS,
)
from boxoffice.server.orders.tables import order_seats, orders
from boxoffice.server.waitinglist.resources import WAITING
from boxoffice.server.waitinglist.tables import waiting_list_entries
from tests.builders import Seat, at, building
from tests.conftest import new_client

TABLES: list[tuple[Resource, Table]] = [
    (USER, customers),
    (ORDER, orders),
    (ORDER_EXPORT, orders),
    (SEAT, order_seats),
    (WAITING, waiting_list_entries),
]


@pytest.mark.parametrize(("resource", "table"), TABLES, ids=lambda x: getattr(x, "name", ""))
def test_every_field_renders_a_column_of_its_table(resource: Resource, table: Table) -> None:
    assert set(resource.columns) <= set(table.c.keys())
    # The exports find a row's own id first (and a seat's order id before its own columns).
    assert resource.columns[0] == "id"


def test_the_column_lists_are_the_tables() -> None:
    assert ("order_id", *SEAT.columns) == SEAT_ROW_COLUMNS
    assert set(ORDER.columns) <= set(ORDER_ROW_COLUMNS) == set(ORDER_EXPORT.columns)
    assert {
        "customers": USER.columns,
        "orders": ORDER_EXPORT.columns,
        "waitinglist": WAITING.columns,
    } == repository.ROW_COLUMNS
    # What erasure clears and what a request body writes are the customer's own fields.
    assert set(PERSONAL_COLUMNS) == {
        "email", "email_key", "first_name", "last_name", "salutation", "preposition",
        "address", "house_nr", "zip", "city", "country", "phone",
    }  # fmt: skip
    assert set(COLUMNS) == set(CustomerCreate.model_fields) == set(CustomerUpdate.model_fields)
    assert set(COLUMNS.values()) == set(PERSONAL_COLUMNS) - {"email_key"} | {"credit_cents"}


def test_a_nested_resource_is_one_schema_wherever_it_is_used() -> None:
    assert ORDER_EXPORT.model.model_fields["user"].annotation == USER.model | None
    assert ORDER_EXPORT.model.model_fields["seats"].annotation == list[SEAT.model]  # type: ignore[name-defined]
    assert WAITING.model.model_fields["user"].annotation == USER.model | None
    assert SEAT.model.model_fields["deleted_at"].default is None


def test_the_cart_is_its_summary_and_its_items() -> None:
    assert set(CART_ITEM.columns) <= set(cart_items.c.keys())
    assert set(CART.columns) == set(CART_SUMMARY.columns) <= set(carts.c.keys())
    assert CART.fields[: len(CART_SUMMARY.fields)] == CART_SUMMARY.fields
    assert CART.model.model_fields["cart_items"].annotation == list[CART_ITEM.model]  # type: ignore[name-defined]
    item = {
        "id": 7, "item_type": "donation", "event_id": None, "price_id": "donation",
        "price_name": None, "rank_id": 0, "row_nr": None, "seat_nr": None,
        "description": None, "amount_cents": 5, "hall_seat_id": None,
    }  # fmt: skip
    cart = {"id": "c" * 32, "expires_at": 0, "closed_at": None}
    view = CartView(cart, [item, item | {"id": 8, "amount_cents": 2450}])  # type: ignore[arg-type]
    assert orjson.dumps(cart_resource(view, ZoneInfo("Asia/Kolkata"))) == (
        b'{"cartId":"' + b"c" * 32 + b'","timeOut":"1970-01-01T05:30:00+05:30",'
        b'"numberOfItems":2,"amount":24.55,"cartItems":['
        b'{"itemType":"donation","itemId":7,"eventId":null,"priceId":"donation",'
        b'"priceName":null,"rankId":0,"rowNr":null,"seatNr":null,"description":null,'
        b'"amount":0.05},'
        b'{"itemType":"donation","itemId":8,"eventId":null,"priceId":"donation",'
        b'"priceName":null,"rankId":0,"rowNr":null,"seatNr":null,"description":null,'
        b'"amount":24.50}]}'
    )


def test_the_renderer_reads_the_row_it_is_given() -> None:
    tz = ZoneInfo("Asia/Kolkata")
    resource = Resource(
        "Probe",
        "A probe.",
        (integer("probeId", "id"), money("amount", "cents"), given("tags", list[str])),
    )
    render = resource.renderer(("cents", "unused", "id"))
    found = render((-5, "x", 7), tz, ["a"])
    assert orjson.dumps(found) == b'{"probeId":7,"amount":-0.05,"tags":["a"]}'
    with pytest.raises(ValueError, match="lacks"):
        resource.renderer(("id",))


def test_the_mapping_renderer_reads_a_row_by_column_name() -> None:
    resource = Resource("Probe", "A probe.", (integer("probeId", "id"), money("amount", "cents")))
    render = resource.mapping_renderer()
    found = render({"cents": 250, "other": "x", "id": 7})
    assert orjson.dumps(found) == b'{"probeId":7,"amount":2.50}'
    with pytest.raises(KeyError):
        render({"id": 7})


def test_a_table_that_cannot_be_rendered_is_refused() -> None:
    with pytest.raises(ValueError, match="twice"):
        Resource("R", "", (integer("a", "id"), number("a", "x")))
    with pytest.raises(ValueError, match="last"):
        Resource("R", "", (instant("a", "x", only_if_set=True), integer("b", "id")))
    with pytest.raises(ValueError, match="camelCase"):
        Resource("R", "", (integer("a_b", "id"),))


# A resource over `orders` with a field of every kind, in an order of its own, as a field
# added to a table would be: every renderer follows from the one declaration.
PROBE_SEAT = Resource(
    "ProbeSeat",
    "A seat.",
    (
        integer("seatId", "id"),
        text("priceName", "price_name", str),
        number("rowNr", "row_nr"),
        instant("deletedAt", "deleted_at", only_if_set=True),
    ),
)
PROBE = Resource(
    "Probe",
    "An order, every kind of field.",
    (
        text("discount", "discount_name"),
        integer("id", "id"),
        money("fee", "fee_cents"),
        optional_instant("timeOut", "time_out_at"),
        number("customer", "customer_id"),
        instant("changed", "last_changed_at"),
        money("donation", "donation_cents"),
        nested("lines", PROBE_SEAT, many=True),
        nested("removed", PROBE_SEAT, many=True),
        given("constant", list[str]),
        text("key", "order_key", str),
    ),
)
AWKWARD = "".join(chr(i) for i in range(1, 0x20)) + "\"\\/ é€😀\u2028\u2029%s%%''"


@pytest.mark.parametrize("zone", ["Europe/Amsterdam", "America/St_Johns"])
def test_the_database_renders_any_field_table_as_python_does(engine: Engine, zone: str) -> None:
    client = new_client(engine, timezone=zone)
    tz = client.tenant.timezone
    with building(engine, client.tenant.id) as b:
        b.order(changed_at=at("2026-03-29T00:30:00+00:00"), discount_name=None)
        b.order(
            changed_at=at("2026-10-25T01:30:00+00:00"),
            discount_name=AWKWARD,
            fee_cents=-50,
            donation_cents=123_456_789,
            time_out_at=at("1969-12-31T23:59:59.999999+00:00"),
            customer_id=b.customer(changed_at=1),
            seats=[
                Seat(price_name=AWKWARD, row_nr=3),
                Seat(deleted_at=at("1900-06-01T12:00:00+00:00")),
            ],
        )
    dialect = engine.dialect.name
    # The order's lines: its seats, as the orders export aggregates them, in SQL of its own.
    aggregate = (
        "string_agg(seat, ',' ORDER BY n)"
        if dialect == "postgresql"
        else ("group_concat(seat, ',')")
    )

    def lines(removed: bool) -> list[Part]:
        line = json_sql(PROBE_SEAT, dialect, "s", {}, only_if_set=removed)
        where = "IS NOT NULL" if removed else "IS NULL"
        joined = (
            f"(SELECT {aggregate} FROM (SELECT {line} AS seat, s.id AS n FROM order_seats s"
            f" WHERE s.order_id = orders.id AND s.deleted_at {where} ORDER BY s.id) AS lines)"
        )
        return [Raw("["), Value(f"coalesce({joined}, '')"), Raw("]")]

    sql = json_sql(
        PROBE,
        dialect,
        "orders",
        {"lines": lines(False), "removed": lines(True), "constant": [Raw('["a%s\'"]')]},
    )
    # A transaction: the zone is the transaction's (as in an export's snapshot).
    with engine.begin() as conn:
        assert repository.use_zone(conn, tz)
        stmt = (
            select(literal_column(sql), *[orders.c[c] for c in PROBE.columns])
            .where(orders.c.tenant_id == client.tenant.id)
            .order_by(orders.c.id)
        )
        found = conn.execute(stmt).all()
        seat_rows = conn.execute(
            select(order_seats.c.order_id, *[order_seats.c[c] for c in PROBE_SEAT.columns])
            .where(order_seats.c.tenant_id == client.tenant.id)
            .order_by(order_seats.c.id)
        ).all()
    render, render_seat = PROBE.renderer(), PROBE_SEAT.renderer()
    assert len(found) == 2
    for by_database, *row in found:
        seats = [render_seat(seat[1:], tz) for seat in seat_rows if seat[0] == row[1]]
        removed = [seat for seat in seats if "deletedAt" in seat]
        current = [seat for seat in seats if "deletedAt" not in seat]
        by_python = orjson.dumps(render(row, tz, current, removed, ["a%s'"]))
        assert by_database.encode() == by_python
    assert orjson.loads(found[1][0])["removed"][0]["deletedAt"].startswith("1900-06-01T")
