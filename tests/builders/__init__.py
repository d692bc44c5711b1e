"""The one builder of test data: catalogs, customers, orders, waiting lists, place claims.

Every test that needs a catalog, customers or orders makes them here:

- `rows`: the Builder, which inserts rows straight into the tables with every id and stamp
  under the test's control (`with building(engine, tenant_id) as b: b.customer(...)`);
- `worlds`: ready-made worlds built with it: the standard catalog (`build_catalog`) and the
  order tests' small world (`build_world`, `make_order`);
- `datasets`: the sync tests' varied dataset and a round of changes to it.

    with building(engine, client.tenant.id) as b:
        b.client_types("friend", "vip")
        alice = b.customer(changed_at=at("2026-04-22T13:08:55+02:00"), tags=["vip"])
        b.order(customer_id=alice, changed_at=..., seats=[Seat(amount_cents=2450)])
"""

from tests.builders.rows import Builder, Seat, at, building, order_key
from tests.builders.worlds import (
    BALKON,
    ENDED,
    HALL_DETAILS,
    HOUR,
    OTHER_PRODUCTION_EVENT,
    PARKET,
    RESERVED,
    RESERVED_EVENT,
    RESERVED_PRICE,
    RESERVED_RANK,
    SHOP_INVOICE,
    SHOP_TEST_PAY,
    UNRESERVED,
    UNRESERVED_EVENT,
    UNRESERVED_PRICE,
    UNRESERVED_RANK,
    Catalog,
    Order,
    World,
    add_block,
    add_customer,
    add_hold,
    build_catalog,
    build_shop_catalog,
    build_world,
    erase_customer,
    make_order,
)

__all__ = [
    "BALKON",
    "ENDED",
    "HALL_DETAILS",
    "HOUR",
    "OTHER_PRODUCTION_EVENT",
    "PARKET",
    "RESERVED",
    "RESERVED_EVENT",
    "RESERVED_PRICE",
    "RESERVED_RANK",
    "SHOP_INVOICE",
    "SHOP_TEST_PAY",
    "UNRESERVED",
    "UNRESERVED_EVENT",
    "UNRESERVED_PRICE",
    "UNRESERVED_RANK",
    "Builder",
    "Catalog",
    "Order",
    "Seat",
    "World",
    "add_block",
    "add_customer",
    "add_hold",
    "at",
    "build_catalog",
    "build_shop_catalog",
    "build_world",
    "building",
    "erase_customer",
    "make_order",
    "order_key",
]
