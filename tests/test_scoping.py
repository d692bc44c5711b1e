"""The tenant-scoping check: what it accepts as scoped, and what it refuses.

tests/conftest.py runs `unscoped_tables` on every statement the product executes in the
suite; these tests pin down that the check itself can fail.
"""

import pytest
from sqlalchemy import Engine, insert, or_, select, update

from boxoffice.server.carts.tables import cart_items, carts
from boxoffice.server.catalog.tables import events
from boxoffice.server.db.scoping import (
    cross_tenant,
    same_tenant,
    scoped_delete,
    scoped_select,
    scoped_update,
    tenant_filter,
    unscoped_tables,
)
from boxoffice.server.orders.tables import order_seats, orders
from boxoffice.server.tenancy.tables import clients
from tests import conftest
from tests.conftest import UnscopedQuery


def test_the_helpers_scope_selects_updates_and_deletes() -> None:
    assert unscoped_tables(scoped_select(carts, tenant_id=1).where(carts.c.id == "x")) == set()
    assert unscoped_tables(scoped_select(carts, carts.c.id, tenant_id=1).limit(2)) == set()
    assert unscoped_tables(scoped_update(carts, tenant_id=1).values(closed_at=1)) == set()
    assert unscoped_tables(scoped_delete(cart_items, tenant_id=1)) == set()
    indexless = scoped_select(orders, orders.c.id, tenant_id=1, use_index=False)
    assert unscoped_tables(indexless) == set()


def test_a_statement_without_the_tenant_filter_is_reported() -> None:
    assert unscoped_tables(select(carts).where(carts.c.id == "x")) == {"carts"}
    assert unscoped_tables(update(carts).values(closed_at=1)) == {"carts"}
    assert unscoped_tables(select(orders.c.id).where(orders.c.tenant_id > 0)) == {"orders"}
    # A filter that an OR can bypass does not scope anything.
    either = select(carts).where(or_(carts.c.tenant_id == 1, carts.c.id == "x"))
    assert unscoped_tables(either) == {"carts"}


def test_every_table_of_a_statement_needs_its_scope() -> None:
    joined = scoped_select(orders, tenant_id=1).join(
        order_seats, order_seats.c.order_id == orders.c.id
    )
    assert unscoped_tables(joined) == {"order_seats"}
    tied = scoped_select(orders, tenant_id=1).join(
        order_seats, (order_seats.c.order_id == orders.c.id) & same_tenant(order_seats, orders)
    )
    assert unscoped_tables(tied) == set()
    also = scoped_select(orders, tenant_id=1).where(
        order_seats.c.order_id == orders.c.id, tenant_filter(order_seats, tenant_id=1)
    )
    assert unscoped_tables(also) == set()


def test_subqueries_are_checked_and_inherit_the_enclosing_scope() -> None:
    unscoped_items = select(cart_items.c.id).where(cart_items.c.cart_id == "x")
    stmt = scoped_delete(carts, tenant_id=1).where(carts.c.id.in_(unscoped_items))
    assert unscoped_tables(stmt) == {"cart_items"}
    scoped_items = scoped_select(cart_items, cart_items.c.id, tenant_id=1)
    scoped = scoped_delete(carts, tenant_id=1).where(carts.c.id.in_(scoped_items))
    assert unscoped_tables(scoped) == set()
    assert unscoped_tables(stmt.where(carts.c.id.in_(scoped_items))) == {"cart_items"}
    correlated = (
        select(order_seats.c.id)
        .where(order_seats.c.order_id == orders.c.id, same_tenant(order_seats, orders))
        .scalar_subquery()
    )
    assert unscoped_tables(scoped_select(orders, correlated, tenant_id=1)) == set()
    assert unscoped_tables(select(orders.c.id, correlated)) == {"orders", "order_seats"}


def test_what_is_not_a_tenant_query_passes() -> None:
    assert unscoped_tables(select(clients).where(clients.c.name == "x")) == set()
    assert unscoped_tables(insert(carts).values(id="x", tenant_id=1)) == set()
    marked = cross_tenant(select(events.c.tenant_id), "a test of the marker")
    assert unscoped_tables(marked) == set()


def test_the_tenant_must_be_an_int() -> None:
    with pytest.raises(TypeError):
        scoped_select(carts, tenant_id=None)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        scoped_select(clients, tenant_id=1)


def test_the_session_check_stops_an_unscoped_query_of_the_product(engine: Engine) -> None:
    """A statement run by product code without its filter fails before it reaches the
    database (the code runs here as if it were a module of the product)."""
    product = {"__name__": "boxoffice.server.probe", "select": select, "carts": carts}
    with engine.connect() as conn:
        product["conn"] = conn
        with pytest.raises(UnscopedQuery, match="no tenant filter on carts"):
            exec("conn.execute(select(carts).where(carts.c.id == 'x'))", product)
        exec("conn.execute(select(carts).where(carts.c.tenant_id == 1))", product)
    # The autouse check would fail this test for the query refused above: forget it.
    assert conftest._unscoped.pop().startswith("no tenant filter on carts")
