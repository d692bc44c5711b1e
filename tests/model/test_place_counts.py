"""A Hypothesis state machine over everything that changes place claims, checking after
every step that the kept counts (place_counts) and sold seats (place_sold_seats) equal a
recount of the claims, that the
availability `GET /event/{id}` shows from them equals the seat-by-seat computation, and
that the cached layouts (places/layouts.py) equal a fresh read of the catalog, the free
seats from them a recount seat by seat.

Its steps: holds (best available, a named seat), removing a cart item, discarding a cart,
a cart's holds expiring, checkout (paid) and checkout as an unpaid reservation, a
reservation expiring, being paid for or cancelled, order status changes (cancel, trash,
back to live), seat removal, and catalog changes (capacity, blocking and unblocking
seats). Expiry is time passing for one cart or order: its expiry moves into the past, as
the clock would move past it.
"""

from collections import Counter
from dataclasses import fields
from typing import Any

import orjson
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    consumes,
    invariant,
    multiple,
    rule,
)
from sqlalchemy import Connection, Engine, func, or_, select, update

from boxoffice.server.carts import service as carts_service
from boxoffice.server.carts.schemas import CheckoutInput
from boxoffice.server.carts.tables import cart_items, carts
from boxoffice.server.catalog import repository as catalog_repository
from boxoffice.server.catalog.service import EventLayout, load_event_layout
from boxoffice.server.db.transactions import read_transaction, write_transaction
from boxoffice.server.errors import AppError
from boxoffice.server.orders import service as orders_service
from boxoffice.server.orders.tables import order_seats, orders
from boxoffice.server.places import layouts
from boxoffice.server.places.repository import seat_block
from boxoffice.server.places.resources import seat_plan_resource
from boxoffice.server.places.service import SeatPlanView, event_counts, event_places
from boxoffice.server.places.tables import place_claims, place_counts, place_sold_seats
from boxoffice.server.values.clock import now_micros
from tests.builders import at, building
from tests.conftest import Client, new_client
from tests.model import run_machine

RESERVED, UNRESERVED = 601, 602
RANK_A, RANK_B = 1, 2
# Reserved event 601: a row of 4 seats of rank A and a row of 3 of rank B. Unreserved 602:
# 5 places of rank B (changed by `change_capacity`).
PRICES = {(RESERVED, RANK_A): "resA", (RESERVED, RANK_B): "resB", (UNRESERVED, RANK_B): "freeB"}
SEATS = [(1, n, RANK_A) for n in range(1, 5)] + [(2, n, RANK_B) for n in range(1, 4)]
ORDER_STATUSES = ["ord", "cancel", "res", "trash", "reemit"]
TEN_MINUTES = 600_000_000


class PlaceCountsMachine(RuleBasedStateMachine):
    http: TestClient
    engine: Engine

    carts = Bundle("carts")
    orders = Bundle("orders")

    def __init__(self) -> None:
        super().__init__()
        self.client: Client = new_client(self.engine)
        self.tenant_id = self.client.tenant.id
        with building(self.engine, self.tenant_id) as b:
            b.payment_method(1, "iDEAL", 0)
            b.ranks((RANK_A, "Rang 1"), (RANK_B, "Rang 2"))
            ids = b.hall(1, {(1, "Zaal"): [(1, 4, RANK_A), (2, 3, RANK_B)]})
            self.seat_ids = [ids[(1, row, seat)] for row, seat, _rank in SEATS]
            b.productions((60, "Teller"))
            b.event(
                RESERVED,
                production_id=60,
                start_at=at("2030-05-01T20:00:00+02:00"),
                end_at=at("2030-05-01T22:00:00+02:00"),
                prices_=[("resA", "Rang 1", RANK_A, 3000), ("resB", "Rang 2", RANK_B, 2000)],
            )
            b.event(
                UNRESERVED,
                production_id=60,
                seating="unreserved",
                start_at=at("2030-05-02T20:00:00+02:00"),
                end_at=at("2030-05-02T22:00:00+02:00"),
                capacity={RANK_B: 5},
                prices_=[("freeB", "Vrij", RANK_B, 1500)],
            )
        self.blocked: set[int] = set()

    def call(self, method: str, path: str, **kwargs: Any) -> Any:
        response = self.http.request(
            method, self.client.base + path, headers=self.client.auth, **kwargs
        )
        assert response.status_code < 500, response.text
        return response

    # -- carts -----------------------------------------------------------------------

    @rule(target=carts)
    def create_cart(self) -> str:
        response = self.call("POST", "/cart")
        assert response.status_code == 201, response.text
        return str(response.json()["cartId"])

    @rule(cart=carts, place=st.sampled_from(sorted(PRICES)), tickets=st.integers(1, 3))
    def hold_best_available(self, cart: str, place: tuple[int, int], tickets: int) -> None:
        rank_id = place[1]
        line = {"priceId": PRICES[place], "rankId": rank_id, "numberOfTickets": tickets}
        response = self.call("POST", f"/cart/{cart}", json=[line])
        assert response.status_code in (200, 404, 409, 410), response.text

    @rule(cart=carts, seat=st.integers(0, len(SEATS) - 1))
    def hold_named_seat(self, cart: str, seat: int) -> None:
        rank_id = SEATS[seat][2]
        line = {
            "priceId": PRICES[(RESERVED, rank_id)],
            "rankId": rank_id,
            "seatId": self.seat_ids[seat],
        }
        response = self.call("POST", f"/cart/{cart}", json=[line])
        assert response.status_code in (200, 404, 409, 410), response.text

    @rule(cart=carts, data=st.data())
    def remove_item(self, cart: str, data: st.DataObject) -> None:
        response = self.call("GET", f"/cart/{cart}")
        if response.status_code != 200 or not response.json()["cartItems"]:
            return
        item = data.draw(st.sampled_from(response.json()["cartItems"]))
        response = self.call("DELETE", f"/cart/{cart}/{item['itemId']}")
        assert response.status_code in (200, 410), response.text

    @rule(cart=consumes(carts))
    def discard_cart(self, cart: str) -> None:
        assert self.call("DELETE", f"/cart/{cart}").status_code in (204, 404)

    @rule(cart=carts)
    def expire_cart(self, cart: str) -> None:
        """The clock passes the cart's expiry: its holds lapse, nobody deletes them."""
        items = select(cart_items.c.id).where(cart_items.c.cart_id == cart)
        with write_transaction(self.engine) as tx:
            tx.conn.execute(update(carts).where(carts.c.id == cart).values(expires_at=tx.now - 1))
            tx.conn.execute(
                update(place_claims)
                .where(place_claims.c.cart_item_id.in_(items))
                .values(expires_at=tx.now - 1)
            )

    @rule(target=orders, cart=consumes(carts), paid=st.booleans())
    def checkout(self, cart: str, paid: bool) -> Any:
        body = {"paymentMethodId": 1, "paid": paid}
        response = self.call("POST", f"/cart/{cart}/checkout", json=body)
        if response.status_code != 201:
            assert response.status_code in (404, 410, 422), response.text
            return multiple()
        return int(response.json()["orderId"])

    @rule(target=orders, cart=consumes(carts))
    def reserve(self, cart: str) -> Any:
        """Checkout as an unpaid reservation (the public API's), its places held 10 minutes."""
        request = CheckoutInput.model_validate({"paymentMethodId": 1})
        try:
            with write_transaction(self.engine) as tx:
                placed = carts_service.check_out(
                    tx,
                    tenant=self.client.tenant,
                    cart_id=cart,
                    request=request,
                    reserve_until=tx.now + TEN_MINUTES,
                )
        except AppError:
            return multiple()
        return multiple() if placed is None else int(placed.order["id"])

    # -- orders ----------------------------------------------------------------------

    @rule(order=orders)
    def expire_reservation(self, order: int) -> None:
        """The clock passes a reservation's time-out: its places are free, still claimed."""
        seats = select(order_seats.c.id).where(order_seats.c.order_id == order)
        with write_transaction(self.engine) as tx:
            tx.conn.execute(
                update(orders)
                .where(orders.c.id == order, orders.c.status == "res")
                .values(time_out_at=tx.now - 1)
            )
            tx.conn.execute(
                update(place_claims)
                .where(place_claims.c.order_seat_id.in_(seats), place_claims.c.expires_at > 0)
                .values(expires_at=tx.now - 1)
            )

    @rule(order=orders, pay=st.booleans())
    def settle_reservation(self, order: int, pay: bool) -> None:
        """A reservation paid for (its places become sales) or cancelled."""
        settle = orders_service.confirm_reservation if pay else orders_service.release_reservation
        try:
            with write_transaction(self.engine) as tx:
                settle(tx, tenant_id=self.tenant_id, order_id=order)
        except AppError as error:
            assert error.status_code == 410, error

    @rule(order=orders, status=st.sampled_from(ORDER_STATUSES))
    def change_status(self, order: int, status: str) -> None:
        response = self.call("PUT", f"/order/{order}", json={"orderStatus": status})
        assert response.status_code in (200, 409), response.text

    @rule(order=orders, data=st.data())
    def remove_seat(self, order: int, data: st.DataObject) -> None:
        with read_transaction(self.engine) as conn:
            seats = list(
                conn.execute(
                    select(order_seats.c.id).where(
                        order_seats.c.order_id == order, order_seats.c.deleted_at.is_(None)
                    )
                ).scalars()
            )
        if not seats:
            return
        seat = data.draw(st.sampled_from(seats))
        response = self.call("DELETE", f"/order/{order}/seat/{seat}")
        assert response.status_code == 200, response.text

    # -- the catalog -----------------------------------------------------------------

    @rule(places=st.integers(0, 7))
    def change_capacity(self, places: int) -> None:
        with building(self.engine, self.tenant_id) as b:
            b.change_capacity(UNRESERVED, RANK_B, places)

    @rule(seat=st.integers(0, len(SEATS) - 1))
    def block_seat(self, seat: int) -> None:
        """A seat blocked after the sale began, whether or not it is claimed."""
        if self.seat_ids[seat] in self.blocked:
            return
        self.blocked.add(self.seat_ids[seat])
        with building(self.engine, self.tenant_id) as b:
            b.block(RESERVED, "tech", hall_seat_id=self.seat_ids[seat])

    @rule()
    def unblock_seats(self) -> None:
        self.blocked.clear()
        with building(self.engine, self.tenant_id) as b:
            b.unblock(RESERVED)

    # -- the invariant ---------------------------------------------------------------

    @invariant()
    def kept_counts_equal_a_recount(self) -> None:
        with read_transaction(self.engine) as conn:
            kept = {
                (e, r): n
                for e, r, n in conn.execute(
                    select(
                        place_counts.c.event_id, place_counts.c.rank_id, place_counts.c.sold
                    ).where(place_counts.c.tenant_id == self.tenant_id)
                )
            }
            recount = {
                (e, r): n
                for e, r, n in conn.execute(
                    select(place_claims.c.event_id, place_claims.c.rank_id, func.count())
                    .where(
                        place_claims.c.tenant_id == self.tenant_id,
                        place_claims.c.expires_at.is_(None),
                    )
                    .group_by(place_claims.c.event_id, place_claims.c.rank_id)
                )
            }
            assert {k: n for k, n in kept.items() if n} == recount, (kept, recount)
            assert min(kept.values(), default=0) >= 0, kept
            kept_seats = {
                (e, b): bits
                for e, b, bits in conn.execute(
                    select(
                        place_sold_seats.c.event_id,
                        place_sold_seats.c.seat_block,
                        place_sold_seats.c.sold_bits,
                    ).where(place_sold_seats.c.tenant_id == self.tenant_id)
                )
                if bits
            }
            assert kept_seats == recount_sold_seats(conn, self.tenant_id), kept_seats

            now = now_micros()
            for event_id in (RESERVED, UNRESERVED):
                event = catalog_repository.get_event(
                    conn, tenant_id=self.tenant_id, event_id=event_id
                )
                assert event is not None
                # The cached layout (places/layouts.py) is the catalog as it is now.
                cached = layouts.event_layout(conn, tenant_id=self.tenant_id, event=event)
                fresh = load_event_layout(conn, tenant_id=self.tenant_id, event=event)
                assert layout_values(cached.layout) == layout_values(fresh)
                seat_by_seat = event_places(conn, tenant_id=self.tenant_id, event=event, now=now)
                counted = event_counts(conn, tenant_id=self.tenant_id, event=event, now=now)
                expected = {r: seat_by_seat.available(r) for r in seat_by_seat.ranks()}
                if fresh.reserved:
                    assert expected == recount_free_seats(conn, self.tenant_id, fresh, now)
                assert {r: counted.available(r) for r in counted.ranks()} == expected
                shown = self.call("GET", f"/event/{event_id}").json()["availability"]
                assert {a["rankId"]: a["available"] for a in shown} == expected
                # The seat plan from its cached pieces is the seat-by-seat rendering.
                plan = SeatPlanView(places=seat_by_seat, sections=seat_by_seat.sections)
                served = self.call("GET", f"/seating/{event_id}").content
                assert served == orjson.dumps(seat_plan_resource(plan))
        claims = Counter(self.claim_keys())
        assert all(n == 1 for n in claims.values()), claims

    def claim_keys(self) -> list[tuple[int, str]]:
        with read_transaction(self.engine) as conn:
            return [
                (e, k)
                for e, k in conn.execute(
                    select(place_claims.c.event_id, place_claims.c.place_key).where(
                        place_claims.c.tenant_id == self.tenant_id
                    )
                )
            ]


def layout_values(layout: EventLayout) -> dict[str, Any]:
    """A layout's catalog values, comparable (rows as dicts)."""
    values = {f.name: getattr(layout, f.name) for f in fields(layout) if f.name != "event"}
    values["prices"] = [dict(p) for p in layout.prices]
    values["sections"] = [dict(s) for s in layout.sections]
    values["seats"] = list(layout.seats)
    return values


def recount_sold_seats(conn: Connection, tenant_id: int) -> dict[tuple[int, int], int]:
    """{(event, block): bits} of the seats sold (claims without expiry), from the claims."""
    bits: dict[tuple[int, int], int] = {}
    for event_id, key in conn.execute(
        select(place_claims.c.event_id, place_claims.c.place_key).where(
            place_claims.c.tenant_id == tenant_id, place_claims.c.expires_at.is_(None)
        )
    ):
        if key.startswith("s"):
            block, mask = seat_block(int(key[1:]))
            bits[(event_id, block)] = bits.get((event_id, block), 0) | mask
    return bits


def recount_free_seats(
    conn: Connection, tenant_id: int, layout: EventLayout, now: int
) -> dict[int, int]:
    """A reserved event's free seats per rank, seat by seat from a fresh read of the
    catalog and of the live claims (no cached layout, no kept figure)."""
    live = {
        key
        for (key,) in conn.execute(
            select(place_claims.c.place_key).where(
                place_claims.c.tenant_id == tenant_id,
                place_claims.c.event_id == layout.event["event_id"],
                or_(place_claims.c.expires_at.is_(None), place_claims.c.expires_at > now),
            )
        )
    }
    return {
        rank_id: sum(
            1
            for seat in layout.seats
            if seat.rank_id == rank_id
            and seat.id not in layout.blocked_seat_ids
            and f"s{seat.id}" not in live
        )
        for rank_id in layout.ranks()
    }


@pytest.mark.slow
def test_kept_counts_equal_a_recount_after_every_step(app: FastAPI, engine: Engine) -> None:
    run_machine(PlaceCountsMachine, app, engine, max_examples=6)
