"""Ready-made worlds of test data, each built with the one Builder: the standard catalog of
the cart, catalog and waiting-list tests, and the small world of the order tests."""

from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlalchemy import Engine, update

from boxoffice.server.customers.tables import customers
from boxoffice.server.db.transactions import write_transaction
from boxoffice.server.orders.tables import LIVE_STATUSES
from boxoffice.server.values.clock import now_micros
from tests.builders.rows import Seat, at, building
from tests.conftest import Client

# The standard catalog (standard_catalog).
RESERVED = 200
UNRESERVED = 201
ENDED = 202
OTHER_PRODUCTION_EVENT = 203
# Section 10 "Parket": rows 1-3 of rank 1 (seats 1-10), row 4 of rank 2 (seats 1-10).
# Section 20 "Balkon": row 1 of rank 2 (seats 1-6). Blocked on event 200: Parket 1/1
# (wheel) and Parket 1/10, 2/10 (press).
PARKET, BALKON = 10, 20
# A hall's address and contact details, as the standard catalog's halls have them.
HALL_DETAILS = {
    "address": "Kerkstraat 1",
    "zip": "1017 GA",
    "city": "Amsterdam",
    "phone": "0201234567",
    "url": "https://example.org",
}


@dataclass
class Catalog:
    """Ids of what `build_catalog` made; `seat[(section, row, seat)]` is a hall seat id."""

    tenant_id: int
    seat: dict[tuple[int, int, int], int] = field(default_factory=dict)

    def seat_ids(self, *places: tuple[int, int, int]) -> list[int]:
        return [self.seat[p] for p in places]


def build_catalog(engine: Engine, client: Client) -> Catalog:
    """The standard test catalog of a client:

    * client types "friend" and "vip";
    * ranks 1 "Rang 1", 2 "Rang 2"; payment methods 1 iDEAL (0.00), 2 Invoice (2.50);
    * hall 1 (layout above), hall 2 "Kleine Zaal" (one section, row 1 of 8 seats, rank 1);
    * production 100 "Hamlet": event 200 reserved (prices STD 24.50 and RED 19.00 of rank 1,
      R2 15.00 of rank 2; three blocked seats), event 201 unreserved (rank 2, 50 places,
      5 blocked as "group"; price FREE 15.00), event 202 reserved and already over;
    * production 101 "Lear": event 203 reserved in hall 2 (price LEAR 30.00, rank 1).
    """
    catalog = Catalog(tenant_id=client.tenant.id)
    with building(engine, client.tenant.id) as b:
        b.client_types("friend", "vip")
        b.ranks((1, "Rang 1"), (2, "Rang 2"))
        b.payment_method(1, "iDEAL", 0)
        b.payment_method(2, "Invoice", 250)
        catalog.seat.update(
            b.hall(
                1,
                {
                    (PARKET, "Parket"): [(1, 10, 1), (2, 10, 1), (3, 10, 1), (4, 10, 2)],
                    (BALKON, "Balkon"): [(1, 6, 2)],
                },
                **HALL_DETAILS,
            )
        )
        catalog.seat.update(b.hall(2, {(1, "Zaal"): [(1, 8, 1)]}, **HALL_DETAILS))
        b.productions((100, "Hamlet"), (101, "Lear"))
        b.event(
            RESERVED,
            tags=["drama", "english"],
            prices_=[
                ("STD", "Standard", 1, 2450),
                ("RED", "Reduced", 1, 1900),
                ("R2", "Rang 2", 2, 1500),
            ],
            blocks=[
                ("wheel", catalog.seat[(PARKET, 1, 1)], 1, 1),
                ("press", catalog.seat[(PARKET, 1, 10)], 1, 1),
                ("press", catalog.seat[(PARKET, 2, 10)], 1, 1),
            ],
        )
        b.event(
            UNRESERVED,
            name="Hamlet (foyer)",
            seating="unreserved",
            start_at=at("2030-04-02T20:30:00+02:00"),
            end_at=at("2030-04-02T22:30:00+02:00"),
            prices_=[("FREE", "Vrije plaats", 2, 1500)],
            capacity={2: 50},
            blocks=[("group", None, 2, 5)],
        )
        b.event(
            ENDED,
            start_at=at("2020-01-10T20:00:00+01:00"),
            end_at=at("2020-01-10T22:00:00+01:00"),
            prices_=[("OLD", "Standard", 1, 2000)],
        )
        b.event(
            OTHER_PRODUCTION_EVENT,
            production_id=101,
            hall_id=2,
            name="Lear",
            start_at=at("2030-05-01T20:00:00+02:00"),
            end_at=at("2030-05-01T23:00:00+02:00"),
            prices_=[("LEAR", "Standard", 1, 3000)],
        )
    return catalog


# The shop's payment methods, added to the standard catalog by `build_shop_catalog`.
SHOP_TEST_PAY, SHOP_INVOICE = 3, 2


def build_shop_catalog(engine: Engine, client: Client) -> Catalog:
    """The standard catalog (above) as a shop sells it: with payment method 3 "Testbetaling"
    (0.50) of the `test` provider, online, so that a buyer can pay in a browser."""
    catalog = build_catalog(engine, client)
    with building(engine, client.tenant.id) as b:
        b.payment_method(SHOP_TEST_PAY, "Testbetaling", 50, provider="test", online=True)
    return catalog


def add_customer(
    engine: Engine, client: Client, email: str = "ada@example.org", tags: Sequence[str] = ()
) -> int:
    """Ada Lovelace (or another email), stamped now, with these tags of the vocabulary."""
    with building(engine, client.tenant.id) as b:
        return b.customer(
            changed_at=now_micros(), tags=tags, email=email, first_name="Ada", last_name="Lovelace"
        )


def erase_customer(engine: Engine, client: Client, customer_id: int) -> None:
    """The customer's personal data gone, as erasure leaves it."""
    with write_transaction(engine) as tx:
        tx.conn.execute(
            update(customers)
            .where(customers.c.id == customer_id, customers.c.tenant_id == client.tenant.id)
            .values(email=None, email_key=None, first_name=None, last_name=None, erased_at=tx.now)
        )


# The order tests' world (build_world): kept apart from the catalog loader, the carts and
# the checkout. Reserved event 95 sells hall seats of rank 42 (24.50); unreserved event 96
# sells `places` units of rank 43 (15.00). Seat's defaults are event 95's.
RESERVED_EVENT = 95
UNRESERVED_EVENT = 96
RESERVED_RANK = 42
UNRESERVED_RANK = 43
RESERVED_PRICE = ("P95std", "Standard", 2450)
UNRESERVED_PRICE = ("P96ga", "Vrije plaats", 1500)
HOUR = 3_600_000_000


@dataclass
class World:
    """One client's catalog and customer."""

    client: Client
    hall_seat_ids: list[int]
    customer_id: int
    places: int

    @property
    def tenant_id(self) -> int:
        return self.client.tenant.id


@dataclass
class Order:
    id: int
    seat_ids: list[int] = field(default_factory=list)


def build_world(engine: Engine, client: Client, *, places: int = 3) -> World:
    """Hall 1 (section 5, row 1, seats 1-4 of rank 42), production 94 with events 95 and 96
    (tomorrow; event 96 has `places` units of rank 43), their prices, and Anna Jansen."""
    now = now_micros()
    with building(engine, client.tenant.id) as b:
        b.ranks((RESERVED_RANK, "Rang 1"), (UNRESERVED_RANK, "Rang 2"))
        seats = b.hall(1, {(5, "P"): [(1, 4, RESERVED_RANK)]}, name="Grote Zaal")
        b.productions((94, "H"))
        for event_id, seating, rank_id, (price_id, name, cents) in (
            (RESERVED_EVENT, "reserved", RESERVED_RANK, RESERVED_PRICE),
            (UNRESERVED_EVENT, "unreserved", UNRESERVED_RANK, UNRESERVED_PRICE),
        ):
            b.event(
                event_id,
                production_id=94,
                seating=seating,
                start_at=now + 24 * HOUR,
                end_at=now + 26 * HOUR,
                prices_=[(price_id, name, rank_id, cents)],
                capacity={UNRESERVED_RANK: places} if seating == "unreserved" else None,
            )
        customer_id = b.customer(
            changed_at=now, email="anna@example.org", first_name=None, last_name="Jansen"
        )
    return World(
        client=client,
        hall_seat_ids=[seats[5, 1, n] for n in range(1, 5)],
        customer_id=customer_id,
        places=places,
    )


def make_order(
    engine: Engine,
    world: World,
    *,
    reserved: tuple[int, ...] = (),
    unreserved: int = 0,
    status: str = "ord",
    payment_status: str = "paid",
    anonymous: bool = False,
    donation_cents: int = 0,
    fee_cents: int = 0,
    discount_name: str | None = None,
    last_changed_at: int | None = None,
) -> Order:
    """An order of the world's customer (or anonymous) with seats on hall seats `reserved`
    (indexes) and `unreserved` units, stamped now. A live order also gets its place claims,
    as checkout would have made them."""
    now = now_micros()
    seats = [
        Seat(
            amount_cents=RESERVED_PRICE[2],
            event_id=RESERVED_EVENT,
            rank_id=RESERVED_RANK,
            row_nr=1,
            seat_nr=i + 1,
            price_id=RESERVED_PRICE[0],
            price_name=RESERVED_PRICE[1],
            hall_seat_id=world.hall_seat_ids[i],
        )
        for i in reserved
    ] + [
        Seat(
            amount_cents=UNRESERVED_PRICE[2],
            event_id=UNRESERVED_EVENT,
            rank_id=UNRESERVED_RANK,
            price_id=UNRESERVED_PRICE[0],
            price_name=UNRESERVED_PRICE[1],
        )
    ] * unreserved
    with building(engine, world.tenant_id) as b:
        order_id = b.order(
            changed_at=now,
            seats=seats,
            customer_id=None if anonymous else world.customer_id,
            status=status,
            payment_status=payment_status,
            donation_cents=donation_cents,
            fee_cents=fee_cents,
            discount_name=discount_name,
            last_changed_at=now if last_changed_at is None else last_changed_at,
        )
        if status in LIVE_STATUSES:
            b.claim_places(order_id, seats, units=world.places)
    return Order(id=order_id, seat_ids=b.seat_ids[order_id])


def add_hold(
    engine: Engine, world: World, *, event_id: int, place_key: str, rank_id: int, expires_at: int
) -> None:
    """A cart's hold on a place (the cart itself is irrelevant here)."""
    with building(engine, world.tenant_id) as b:
        b.hold(event_id=event_id, place_key=place_key, rank_id=rank_id, expires_at=expires_at)


def add_block(engine: Engine, world: World, *, hall_seat_index: int) -> None:
    """Event 95's hall seat `hall_seat_index` blocked ("tech")."""
    with building(engine, world.tenant_id) as b:
        b.block(RESERVED_EVENT, "tech", hall_seat_id=world.hall_seat_ids[hall_seat_index])
