"""Concurrent order writes: one place is never re-claimed twice, amounts never lose an update."""

from sqlalchemy import Engine

from boxoffice.server.db.transactions import write_transaction
from boxoffice.server.errors import Conflict
from boxoffice.server.orders import service
from tests.builders import World, make_order
from tests.orders.conftest import claims, order_row
from tests.threads import WRITERS, run_together


def test_orders_reopened_together_get_one_place_once(engine: Engine, world: World) -> None:
    # Cancelled orders may share a place; re-opening them races for it.
    orders = [make_order(engine, world, reserved=(0,), status="cancel") for _ in range(WRITERS)]

    def reopen(i: int) -> None:
        with write_transaction(engine) as tx:
            service.update_order(
                tx, tenant_id=world.tenant_id, order_id=orders[i].id, changes={"status": "ord"}
            )

    outcomes = run_together(reopen)
    assert outcomes.count(None) == 1, outcomes
    assert all(isinstance(o, Conflict) for o in outcomes if o is not None), outcomes
    winner = orders[outcomes.index(None)]
    assert [c[2] for c in claims(engine, world)] == winner.seat_ids
    statuses = [order_row(engine, o.id)["status"] for o in orders]
    assert sorted(statuses) == ["cancel"] * (WRITERS - 1) + ["ord"]


def test_seats_removed_together_leave_the_right_amount(engine: Engine, world: World) -> None:
    order = make_order(engine, world, unreserved=3, reserved=(0, 1, 2, 3), fee_cents=100)
    assert len(order.seat_ids) == 7

    def remove(i: int) -> None:
        with write_transaction(engine) as tx:
            service.remove_seat(
                tx, tenant_id=world.tenant_id, order_id=order.id, seat_id=order.seat_ids[i]
            )

    assert run_together(remove) == [None] * WRITERS
    # One seat (the last, unreserved at 15.00) remains, plus the fee.
    assert order_row(engine, order.id)["amount_cents"] == 1500 + 100
    assert [c[2] for c in claims(engine, world)] == order.seat_ids[WRITERS:]
