"""A Hypothesis state machine over the write side, checking the invariants after every step.

It drives carts, checkouts, seat removals, status changes and waiting-list transitions in
random order through the HTTP API and after each step checks, through the API:
- every order's amount equals its current seats + donation + fee;
- for every event and rank, sold + held + available = capacity;
- no record's lastChanged ever moves backwards;
- the waiting list follows the allowed transitions.
"""

from collections import Counter
from datetime import datetime
from decimal import Decimal
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    consumes,
    initialize,
    invariant,
    multiple,
    rule,
)
from sqlalchemy import Engine, select, update

from boxoffice.server.carts.tables import cart_items, carts
from boxoffice.server.db.transactions import write_transaction
from boxoffice.server.places.tables import place_claims
from tests.builders import at, building
from tests.conftest import Client, new_client
from tests.model import run_machine

RESERVED, UNRESERVED = 501, 502
RANK_A, RANK_B = 1, 2
# Reserved event 501: 6 seats of rank A, 4 of rank B. Unreserved 502: 5 places of rank B
# (the catalog is built in WriteSideMachine.__init__).
CAPACITY = {(RESERVED, RANK_A): 6, (RESERVED, RANK_B): 4, (UNRESERVED, RANK_B): 5}
PRICES = {(RESERVED, RANK_A): "resA", (RESERVED, RANK_B): "resB", (UNRESERVED, RANK_B): "freeB"}

TRANSITIONS = {
    ("waiting", "notified"),
    ("waiting", "cancelled"),
    ("notified", "converted"),
    ("notified", "expired"),
    ("notified", "cancelled"),
}
WAITING_TYPES = ["waiting", "notified", "converted", "cancelled", "expired"]
ORDER_STATUSES = ["ord", "cancel", "reemit", "reissue", "res", "pros", "trash"]


def cents(value: Any) -> int:
    return int(Decimal(str(value)) * 100)


class WriteSideMachine(RuleBasedStateMachine):
    """Random sequences of write operations against one fresh client."""

    http: TestClient
    engine: Engine

    carts = Bundle("carts")
    orders = Bundle("orders")
    waiting = Bundle("waiting")

    def __init__(self) -> None:
        super().__init__()
        self.client: Client = new_client(self.engine)
        self.base = self.client.base
        self.headers = self.client.auth
        with building(self.engine, self.client.tenant.id) as b:
            b.client_types("friend", "donor")
            b.payment_method(1, "iDEAL", 0)
            b.payment_method(2, "Invoice", 250)
            b.ranks((RANK_A, "Rang 1"), (RANK_B, "Rang 2"))
            b.hall(1, {(1, "Parket"): [(1, 6, RANK_A), (2, 4, RANK_B)]}, name="Zaal")
            b.productions((50, "Model"))
            b.event(
                RESERVED,
                production_id=50,
                name="Model (zaal)",
                start_at=at("2027-03-01T20:00:00+01:00"),
                end_at=at("2027-03-01T22:00:00+01:00"),
                prices_=[("resA", "Rang 1", RANK_A, 3000), ("resB", "Rang 2", RANK_B, 1750)],
            )
            b.event(
                UNRESERVED,
                production_id=50,
                name="Model (foyer)",
                seating="unreserved",
                start_at=at("2027-03-02T20:00:00+01:00"),
                end_at=at("2027-03-02T22:00:00+01:00"),
                capacity={RANK_B: 5},
                prices_=[("freeB", "Vrij", RANK_B, 1225)],
            )
        self.customer_ids: list[int] = []
        self.open_carts: set[str] = set()
        self.last_changed: dict[tuple[str, int], datetime] = {}
        self.waiting_types: dict[int, str] = {}

    def call(self, method: str, path: str, **kwargs: Any) -> Any:
        response = self.http.request(method, self.base + path, headers=self.headers, **kwargs)
        assert response.status_code < 500, response.text
        return response

    @initialize()
    def make_customers(self) -> None:
        for n in range(2):
            response = self.call(
                "POST",
                "/customer",
                json={"email": f"model{n}@example.nl", "customerLastName": f"Model {n}"},
            )
            assert response.status_code == 201, response.text
            self.customer_ids.append(response.json()["customerId"])

    # -- carts -----------------------------------------------------------------------

    @rule(target=carts)
    def create_cart(self) -> str:
        response = self.call("POST", "/cart")
        assert response.status_code == 201, response.text
        cart_id: str = response.json()["cartId"]
        self.open_carts.add(cart_id)
        return cart_id

    @rule(
        cart=carts,
        place=st.sampled_from(sorted(PRICES)),
        tickets=st.integers(min_value=1, max_value=3),
    )
    def add_tickets(self, cart: str, place: tuple[int, int], tickets: int) -> None:
        event_id, rank_id = place
        item = {
            "priceId": PRICES[place],
            "rankId": rank_id,
            "eventId": event_id,
            "numberOfTickets": tickets,
        }
        response = self.call("POST", f"/cart/{cart}", json=[item])
        if cart not in self.open_carts:
            assert response.status_code in (404, 410), response.text
        else:
            assert response.status_code in (200, 409, 410), response.text

    @rule(cart=carts, amount=st.sampled_from(["5.00", "2.50", "0.01"]))
    def add_donation(self, cart: str, amount: str) -> None:
        response = self.call(
            "POST", f"/cart/{cart}", json=[{"priceId": "donation", "rankId": 0, "amount": amount}]
        )
        assert response.status_code in ((200, 410) if cart in self.open_carts else (404, 410))

    @rule(cart=carts, data=st.data())
    def remove_cart_item(self, cart: str, data: st.DataObject) -> None:
        response = self.call("GET", f"/cart/{cart}")
        if response.status_code != 200 or not response.json()["cartItems"]:
            return
        item = data.draw(st.sampled_from(response.json()["cartItems"]))
        response = self.call("DELETE", f"/cart/{cart}/{item['itemId']}")
        assert response.status_code in (200, 410), response.text

    @rule(cart=carts)
    def expire_cart(self, cart: str) -> None:
        """Time passes for one cart: its holds lapse (as if its timeOut were in the past)."""
        item_ids = select(cart_items.c.id).where(cart_items.c.cart_id == cart)
        with write_transaction(self.engine) as tx:
            tx.conn.execute(update(carts).where(carts.c.id == cart).values(expires_at=tx.now - 1))
            tx.conn.execute(
                update(place_claims)
                .where(place_claims.c.cart_item_id.in_(item_ids))
                .values(expires_at=tx.now - 1)
            )

    @rule(
        target=orders,
        cart=consumes(carts),
        anonymous=st.booleans(),
        method=st.sampled_from([1, 2]),
        paid=st.booleans(),
        channel=st.sampled_from(["www", "sp"]),
    )
    def checkout(self, cart: str, anonymous: bool, method: int, paid: bool, channel: str) -> Any:
        body: dict[str, Any] = {"paymentMethodId": method, "paid": paid, "orderChannel": channel}
        if not anonymous:
            body["customerId"] = self.customer_ids[0]
        response = self.call("POST", f"/cart/{cart}/checkout", json=body)
        self.open_carts.discard(cart)
        if response.status_code != 201:
            assert response.status_code in (404, 410, 422), response.text
            return multiple()
        order = response.json()
        assert order["orderStatus"] == "ord"
        assert order["orderPaymentStatus"] == ("paid" if paid else "none")
        assert order["orderChannel"] == channel
        assert cents(order["fee"]) == (250 if method == 2 else 0)
        return order["orderId"]

    # -- orders ----------------------------------------------------------------------

    @rule(order=orders, data=st.data())
    def remove_seat(self, order: int, data: st.DataObject) -> None:
        seats = self.export_order(order)["seats"]
        if not seats:
            return
        seat = data.draw(st.sampled_from(seats))
        response = self.call("DELETE", f"/order/{order}/seat/{seat['seatId']}")
        assert response.status_code == 200, response.text
        body = response.json()
        assert seat["seatId"] in [s["seatId"] for s in body["deletedSeats"]]
        assert seat["seatId"] not in [s["seatId"] for s in body["seats"]]

    @rule(order=orders, status=st.sampled_from(ORDER_STATUSES))
    def change_status(self, order: int, status: str) -> None:
        response = self.call("PUT", f"/order/{order}", json={"orderStatus": status})
        # 409: re-opening an order whose places were sold meanwhile.
        assert response.status_code in (200, 409), response.text
        if response.status_code == 200:
            assert response.json()["orderStatus"] == status

    # -- waiting list ----------------------------------------------------------------

    @rule(target=waiting, tickets=st.integers(min_value=1, max_value=20))
    def join_waiting_list(self, tickets: int) -> Any:
        body = {"customerId": self.customer_ids[1], "eventId": RESERVED, "numberOfTickets": tickets}
        response = self.call("POST", "/waitinglist", json=body)
        if any(t in ("waiting", "notified") for t in self.waiting_types.values()):
            # One active entry per customer and event (docs/carts-and-catalog.md).
            assert response.status_code == 409, response.text
            return multiple()
        assert response.status_code == 201, response.text
        entry = response.json()
        assert entry["type"] == "waiting" and entry["notifiedAt"] is None
        self.waiting_types[entry["waitingId"]] = "waiting"
        return int(entry["waitingId"])

    @rule(entry=waiting, new_type=st.sampled_from(WAITING_TYPES))
    def move_waiting(self, entry: int, new_type: str) -> None:
        old = self.waiting_types[entry]
        response = self.call("PUT", f"/waitinglist/{entry}", json={"type": new_type})
        if (old, new_type) in TRANSITIONS:
            assert response.status_code == 200, response.text
            assert response.json()["type"] == new_type
            if new_type == "notified":
                assert response.json()["notifiedAt"] is not None
            self.waiting_types[entry] = new_type
        else:
            assert response.status_code == 422, (old, new_type, response.text)

    # -- invariants ------------------------------------------------------------------

    def export(self, dataset: str) -> list[dict[str, Any]]:
        response = self.call("POST", f"/export/{dataset}")
        assert response.status_code == 200, response.text
        records: list[dict[str, Any]] = response.json()
        return records

    def export_order(self, order_id: int) -> dict[str, Any]:
        found = [o for o in self.export("orders") if o["orderId"] == order_id]
        assert len(found) == 1
        return found[0]

    @invariant()
    def invariants_hold(self) -> None:
        orders = self.export("orders")
        self.check_amounts(orders)
        self.check_places(orders)
        self.check_last_changed("orders", "orderId", orders)
        self.check_last_changed("customers", "customerId", self.export("customers"))
        self.check_last_changed("waitinglist", "waitingId", self.export("waitinglist"))

    def check_amounts(self, orders: list[dict[str, Any]]) -> None:
        for order in orders:
            seats = sum(cents(s["amount"]) for s in order["seats"])
            expected = seats + cents(order["donation"]) + cents(order["fee"])
            assert cents(order["amount"]) == expected, order

    def check_places(self, orders: list[dict[str, Any]]) -> None:
        sold: Counter[tuple[int, int]] = Counter()
        for order in orders:
            if order["orderStatus"] not in ("cancel", "trash"):
                for seat in order["seats"]:
                    sold[(seat["eventId"], seat["rankId"])] += 1
        held: Counter[tuple[int, int]] = Counter()
        for cart in self.open_carts:
            response = self.call("GET", f"/cart/{cart}")
            if response.status_code == 200:
                for item in response.json()["cartItems"]:
                    if item["itemType"] == "ticket":
                        held[(item["eventId"], item["rankId"])] += 1
        for event_id in (RESERVED, UNRESERVED):
            response = self.call("GET", f"/event/{event_id}")
            assert response.status_code == 200, response.text
            available = {a["rankId"]: a["available"] for a in response.json()["availability"]}
            for (event, rank), capacity in CAPACITY.items():
                if event == event_id:
                    key = (event, rank)
                    total = sold[key] + held[key] + available[rank]
                    assert total == capacity, (key, sold[key], held[key], available[rank])

    def check_last_changed(
        self, dataset: str, id_field: str, records: list[dict[str, Any]]
    ) -> None:
        for record in records:
            key = (dataset, record[id_field])
            seen = datetime.fromisoformat(record["lastChanged"])
            if key in self.last_changed:
                assert seen >= self.last_changed[key], (key, seen, self.last_changed[key])
            self.last_changed[key] = seen


@pytest.mark.slow
def test_write_side_invariants(app: FastAPI, engine: Engine) -> None:
    run_machine(WriteSideMachine, app, engine, max_examples=8)
