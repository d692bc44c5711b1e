"""Records read through the tables' declarations: the rows, and the fault a bad record is
refused for (the text stored in rejected_records), the first in the stream's order."""

from decimal import Decimal
from typing import Any

import pytest

from boxoffice.client.errors import RecordError
from boxoffice.client.records import parse_record, read_last_changed, record_id_text, row_reader
from boxoffice.client.schema import ORDERS, Column, Kind, Table

SEAT = {"seatId": 1, "eventId": 2, "rankId": 3, "amount": Decimal("24.50"), "priceId": "p"}
ORDER = {"orderId": 5, "orderStatus": "ord", "orderPaymentStatus": "paid", "amount": 0}
WAITING = {"waitingId": 7, "eventId": 3, "numberOfTickets": 2, "type": "waiting"}


@pytest.mark.parametrize(
    ("stream", "record", "error"),
    [
        ("customers", {"customerId": 1, "email": 5}, "email must be a string, not 5"),
        (
            "customers",
            {"customerId": 1, "customerCredit": Decimal("1.005")},
            "customerCredit has more than two decimals: 1.005",
        ),
        (
            "customers",
            {"customerId": 1, "clientTypes": ["vip", 1]},
            "clientTypes must be an array of strings",
        ),
        # A customer's fields are checked in column order: lastChanged comes last.
        (
            "customers",
            {"customerId": 1, "email": 5, "lastChanged": "2026-04-22T13:08:55"},
            "email must be a string, not 5",
        ),
        # An order's lastChanged is checked right after its id.
        (
            "orders",
            {**ORDER, "orderKey": 1, "lastChanged": "2026-04-22T13:08:55"},
            "lastChanged: date-time without an offset: '2026-04-22T13:08:55'",
        ),
        ("orders", {**ORDER, "orderStatus": None}, "orderStatus is missing"),
        (
            "orders",
            {**ORDER, "seats": [SEAT, {**SEAT, "seatId": 2, "amount": Decimal("1.005")}]},
            "seats[1].amount has more than two decimals: 1.005",
        ),
        (
            "orders",
            {**ORDER, "seats": [SEAT], "deletedSeats": [SEAT]},
            "deletedSeats[0].seatId 1 occurs twice in the order",
        ),
        # A seat's priceId is checked before its other fields.
        (
            "orders",
            {**ORDER, "deletedSeats": [{**SEAT, "seatId": None, "priceId": None}]},
            "deletedSeats[0].priceId must be a string",
        ),
        ("orders", {**ORDER, "seats": ["x"]}, "seats[0] must be an object"),
        ("orders", {**ORDER, "seats": {}}, "seats must be an array"),
        ("waitinglist", {"waitingId": 0}, "waitingId must be a positive integer, not 0"),
        (
            "waitinglist",
            {**WAITING, "numberOfTickets": True, "notifiedAt": "2026-04-22"},
            "numberOfTickets must be an integer, not True",
        ),
        (
            "waitinglist",
            {**WAITING, "lastChanged": 12},
            "lastChanged must be an ISO 8601 date-time, not 12",
        ),
        ("waitinglist", [], "a record must be a JSON object, not list"),
    ],
)
def test_a_bad_record_is_refused_naming_its_first_fault(
    stream: str, record: Any, error: str
) -> None:
    with pytest.raises(RecordError) as refused:
        parse_record(stream, record, read_last_changed(record))
    assert str(refused.value) == error


def test_an_order_s_row_and_seats_follow_the_tables_columns() -> None:
    record = {
        **ORDER,
        "orderKey": "K",
        "customerId": None,
        "orderDate": "2026-04-22T13:00:00+02:00",
        "lastChanged": "2026-04-22T13:05:00+02:00",
        "amount": Decimal("49.00"),
        "fee": None,
        "seats": [{**SEAT, "priceId": 42, "rowNr": 3, "seatNr": 7}],
        "deletedSeats": [{**SEAT, "seatId": 2, "deletedAt": "2026-04-22T13:05:00+02:00"}],
    }
    parsed = parse_record("orders", record, read_last_changed(record))
    row = dict(zip(ORDERS.column_names, parsed.row, strict=True))
    assert (parsed.record_id, parsed.last_changed) == (5, "2026-04-22T13:05:00+02:00")
    assert row["order_key"] == "K" and row["customer_id"] is None
    assert row["order_date"] == "2026-04-22T13:00:00+02:00"
    assert row["order_date_utc"].isoformat() == "2026-04-22T11:00:00+00:00"
    assert (row["amount_cents"], row["fee_cents"], row["donation_cents"]) == (4900, 0, 0)
    assert row["time_out"] is None and row["time_out_utc"] is None
    assert parsed.children is not None
    current, removed = parsed.children
    assert current == (5, 1, False, 2, 3, 3, 7, 2450, "42", None, None, None)
    assert removed[:3] == (5, 2, True) and removed[-2] == "2026-04-22T13:05:00+02:00"
    assert record_id_text("orders", record) == "5"


def test_a_column_the_reader_cannot_read_is_refused_when_the_table_is_made() -> None:
    table = Table("t", (Column("cents", Kind.CENTS, True, "amount", "money"),), ("cents",))
    with pytest.raises(ValueError, match="no reading for money"):
        row_reader(table)
