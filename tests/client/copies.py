"""Reading a local copy back with each sink's own driver, and comparing it to the server.

The copy is turned back into export records (camelCase, money as Decimal, the inline
`user` taken from the copy's own customers) and compared record by record with the
server's full export, fetched here with plain httpx in the reference format.
"""

import json
import sqlite3
from collections import defaultdict
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb
import httpx
import psycopg
import pyarrow.parquet as pq

TABLES = (
    "client_types",
    "customers",
    "customer_tags",
    "orders",
    "order_seats",
    "waiting_list_entries",
    "rejected_records",
    "sync_state",
)

Rows = list[dict[str, Any]]


def read_copy(target: str) -> dict[str, Rows]:
    """Every table of the copy as a list of dicts."""
    if target.startswith("sqlite:///"):
        conn = sqlite3.connect(target.removeprefix("sqlite:///"))
        conn.row_factory = sqlite3.Row
        try:
            return {t: [dict(r) for r in conn.execute(f"SELECT * FROM {t}")] for t in TABLES}
        finally:
            conn.close()
    if target.startswith("duckdb:///"):
        dconn = duckdb.connect(target.removeprefix("duckdb:///"), read_only=True)
        try:
            out = {}
            for t in TABLES:
                cur = dconn.execute(f'SELECT * FROM "{t}"')
                names = [d[0] for d in cur.description]
                out[t] = [dict(zip(names, row, strict=True)) for row in cur.fetchall()]
            return out
        finally:
            dconn.close()
    if target.startswith("postgresql://"):
        with psycopg.connect(target) as pconn:
            out = {}
            for t in TABLES:
                cur = pconn.execute(f'SELECT * FROM "{t}"')
                names = [d.name for d in cur.description or ()]
                out[t] = [dict(zip(names, row, strict=True)) for row in cur.fetchall()]
            return out
    if target.startswith("parquet:///"):
        directory = Path(target.removeprefix("parquet:///"))
        out = {t: pq.read_table(directory / f"{t}.parquet").to_pylist() for t in TABLES[:-1]}
        state = json.loads((directory / "sync_state.json").read_text())
        out["sync_state"] = list(state["streams"].values())
        return out
    raise ValueError(target)


def _money(cents: int) -> Decimal:
    return Decimal(cents) / 100


def rebuild(copy: dict[str, Rows]) -> dict[str, Any]:
    """The export records the copy stands for, per stream, sorted by id."""
    tags: dict[int, list[str]] = defaultdict(list)
    for row in copy["customer_tags"]:
        tags[row["customer_id"]].append(row["name"])
    users = {}
    for c in copy["customers"]:
        users[c["customer_id"]] = {
            "customerId": c["customer_id"],
            "email": c["email"],
            "customerFirstName": c["customer_first_name"],
            "customerLastName": c["customer_last_name"],
            "customerSalutation": c["customer_salutation"],
            "customerPreposition": c["customer_preposition"],
            "customerAddress": c["customer_address"],
            "customerHouseNr": c["customer_house_nr"],
            "customerZip": c["customer_zip"],
            "customerCity": c["customer_city"],
            "customerCountry": c["customer_country"],
            "customerPhone": c["customer_phone"],
            "customerCredit": _money(c["customer_credit_cents"]),
            "clientTypes": sorted(tags[c["customer_id"]]),
            "createdAt": c["created_at"],
            "lastChanged": c["last_changed"],
        }
    seats: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for s in sorted(copy["order_seats"], key=lambda s: s["seat_id"]):
        seat = {
            "seatId": s["seat_id"],
            "eventId": s["event_id"],
            "rankId": s["rank_id"],
            "rowNr": s["row_nr"],
            "seatNr": s["seat_nr"],
            "amount": _money(s["amount_cents"]),
            "priceId": s["price_id"],
            "priceName": s["price_name"],
        }
        if bool(s["deleted"]):
            seat["deletedAt"] = s["deleted_at"]
        seats[s["order_id"]].append(seat)
    orders = []
    for o in copy["orders"]:
        own = seats[o["order_id"]]
        orders.append(
            {
                "orderId": o["order_id"],
                "orderKey": o["order_key"],
                "customerId": o["customer_id"],
                "orderStatus": o["order_status"],
                "orderPaymentStatus": o["order_payment_status"],
                "orderChannel": o["order_channel"],
                "orderDate": o["order_date"],
                "timeOut": o["time_out"],
                "lastChanged": o["last_changed"],
                "amount": _money(o["amount_cents"]),
                "fee": _money(o["fee_cents"]),
                "donation": _money(o["donation_cents"]),
                "handlingTextPayment": o["handling_text_payment"],
                "discountName": o["discount_name"],
                "seats": [s for s in own if "deletedAt" not in s],
                "deletedSeats": [s for s in own if "deletedAt" in s],
                "user": users.get(o["customer_id"]),
            }
        )
    waiting = [
        {
            "waitingId": w["waiting_id"],
            "customerId": w["customer_id"],
            "eventId": w["event_id"],
            "numberOfTickets": w["number_of_tickets"],
            "type": w["type"],
            "createdAt": w["created_at"],
            "notifiedAt": w["notified_at"],
            "lastChanged": w["last_changed"],
            "user": users.get(w["customer_id"]),
        }
        for w in copy["waiting_list_entries"]
    ]
    return {
        "clienttypes": sorted(r["name"] for r in copy["client_types"]),
        "customers": sorted(users.values(), key=lambda r: r["customerId"]),
        "orders": sorted(orders, key=lambda r: r["orderId"]),
        "waitinglist": sorted(waiting, key=lambda r: r["waitingId"]),
    }


def server_export(base_url: str, client: str, key: str) -> dict[str, Any]:
    """The server's full export of every stream, as the reference format returns it."""
    base = f"{base_url}/v1/{client}/peppered"
    headers = {"Authorization": key, "Accept": "application/json"}
    out: dict[str, Any] = {}
    with httpx.Client(timeout=60) as http:
        response = http.get(f"{base}/export/clienttypes", headers=headers)
        response.raise_for_status()
        out["clienttypes"] = response.json()
        for stream, id_field in (
            ("customers", "customerId"),
            ("orders", "orderId"),
            ("waitinglist", "waitingId"),
        ):
            response = http.post(f"{base}/export/{stream}", headers=headers)
            response.raise_for_status()
            records = json.loads(response.content, parse_float=Decimal)
            out[stream] = sorted(records, key=lambda r: r[id_field])
    return out


def assert_copy_equals_export(target: str, base_url: str, client: str, key: str) -> dict[str, Rows]:
    """Record by record; returns the copy's tables for further checks."""
    copy = read_copy(target)
    mine = rebuild(copy)
    theirs = server_export(base_url, client, key)
    assert mine["clienttypes"] == theirs["clienttypes"]
    for stream in ("customers", "orders", "waitinglist"):
        assert len(mine[stream]) == len(theirs[stream]), stream
        for got, want in zip(mine[stream], theirs[stream], strict=True):
            assert got == want, (stream, got, want)
    assert copy["rejected_records"] == []
    return copy
