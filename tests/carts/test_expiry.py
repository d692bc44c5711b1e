"""Hold expiry: timeOut moves on every change; an expired cart is 410 and frees its places."""

from itertools import groupby

from sqlalchemy import Engine, func, select, update

from boxoffice.server.carts.tables import cart_items, carts
from boxoffice.server.db.transactions import write_transaction
from boxoffice.server.places.tables import place_claims
from tests.builders import PARKET, RESERVED, UNRESERVED, Catalog
from tests.carts.conftest import Shop, claims_of, snapshot
from tests.conftest import Client
from tests.places.test_counts_cost import recorded

FIFTEEN_MINUTES = 15 * 60 * 1_000_000


def expire(engine: Engine, cart_id: str) -> None:
    """Move a cart and its holds into the past, as if its 15 minutes had run out."""
    with write_transaction(engine) as tx:
        created = tx.conn.execute(
            select(carts.c.created_at).where(carts.c.id == cart_id)
        ).scalar_one()
        tx.conn.execute(update(carts).where(carts.c.id == cart_id).values(expires_at=created))
        items = select(cart_items.c.id).where(cart_items.c.cart_id == cart_id)
        tx.conn.execute(
            update(place_claims)
            .where(place_claims.c.cart_item_id.in_(items))
            .values(expires_at=created)
        )


def cart_expiry(engine: Engine, cart_id: str) -> tuple[int, int]:
    with engine.connect() as conn:
        row = conn.execute(
            select(carts.c.created_at, carts.c.expires_at).where(carts.c.id == cart_id)
        )
        created, expires = row.one()
    return int(created), int(expires)


def test_every_change_moves_the_time_out_of_the_cart_and_all_its_holds(
    shop: Shop, engine: Engine, client: Client, catalog: Catalog
) -> None:
    cart = shop.new_cart()
    shop.add(cart, [{"priceId": "STD", "rankId": 1, "numberOfTickets": 2}])
    # Pretend the first holds were made long ago (but have not expired).
    with write_transaction(engine) as tx:
        tx.conn.execute(
            update(place_claims)
            .where(place_claims.c.tenant_id == client.tenant.id)
            .values(expires_at=place_claims.c.expires_at - FIFTEEN_MINUTES // 2)
        )
    body = shop.add(cart, [{"priceId": "FREE", "rankId": 2}]).json()
    created, expires = cart_expiry(engine, cart)
    claims = claims_of(engine, client.tenant.id)
    assert len(claims) == 3
    assert {c["expires_at"] for c in claims} == {expires}
    assert expires > created
    # And removing an item moves it again, to 15 minutes after that change.
    with write_transaction(engine) as tx:
        tx.conn.execute(update(carts).where(carts.c.id == cart).values(expires_at=expires - 5))
    shop.delete(f"/cart/{cart}/{body['cartItems'][0]['itemId']}")
    _created, after = cart_expiry(engine, cart)
    assert after >= expires
    assert {c["expires_at"] for c in claims_of(engine, client.tenant.id)} == {after}


def test_an_expired_cart_is_410_for_reads_and_changes(
    shop: Shop, engine: Engine, client: Client, catalog: Catalog
) -> None:
    cart = shop.new_cart()
    item = shop.add(cart, [{"priceId": "STD", "rankId": 1}]).json()["cartItems"][0]["itemId"]
    expire(engine, cart)
    before = snapshot(engine, client.tenant.id)
    for response in (
        shop.get(f"/cart/{cart}"),
        shop.get(f"/cart/{cart}/summary"),
        shop.add(cart, [{"priceId": "STD", "rankId": 1}]),
        shop.delete(f"/cart/{cart}/{item}"),
    ):
        assert response.status_code == 410
        assert response.json() == {"message": "Cart expired."}
    assert snapshot(engine, client.tenant.id) == before


def test_checkout_of_an_expired_cart_is_410_and_releases_its_places(
    shop: Shop, engine: Engine, client: Client, catalog: Catalog
) -> None:
    cart = shop.new_cart()
    shop.add(
        cart,
        [{"priceId": "STD", "rankId": 1, "numberOfTickets": 2}, {"priceId": "FREE", "rankId": 2}],
    )
    expire(engine, cart)
    assert len(claims_of(engine, client.tenant.id)) == 3
    response = shop.checkout(cart, {"paymentMethodId": 1})
    assert response.status_code == 410
    assert response.json() == {"message": "Cart expired."}
    assert claims_of(engine, client.tenant.id) == []
    assert snapshot(engine, client.tenant.id)["orders"] == []
    # Still expired (not "not found") afterwards.
    assert shop.checkout(cart, {"paymentMethodId": 1}).status_code == 410
    assert shop.available(RESERVED)[1] == 27


def test_checkout_whose_hold_expired_before_its_cart_is_410_and_releases_its_places(
    shop: Shop, engine: Engine, client: Client, catalog: Catalog
) -> None:
    """A hold that expired (or was taken as expired by a buyer whose clock had passed it)
    while its cart is still live: the checkout sells none of the cart's places."""
    cart = shop.new_cart()
    shop.add(cart, [{"priceId": "STD", "rankId": 1, "numberOfTickets": 2}])
    other = shop.new_cart()
    shop.add(other, [{"priceId": "FREE", "rankId": 2}])
    held = claims_of(engine, client.tenant.id)
    assert len(held) == 3
    with write_transaction(engine) as tx:
        created = tx.conn.execute(select(carts.c.created_at).where(carts.c.id == cart))
        first_item = select(func.min(cart_items.c.id)).where(cart_items.c.cart_id == cart)
        tx.conn.execute(
            update(place_claims)
            .where(place_claims.c.cart_item_id == first_item.scalar_subquery())
            .values(expires_at=created.scalar_one())
        )
    response = shop.checkout(cart, {"paymentMethodId": 1})
    assert response.status_code == 410, response.text
    assert response.json() == {"message": "Cart expired."}
    # The cart's holds are gone; the other cart's hold is untouched.
    assert [c["place_key"] for c in claims_of(engine, client.tenant.id)] == ["u2:1"]
    assert snapshot(engine, client.tenant.id)["orders"] == []
    assert shop.available(RESERVED)[1] == 27
    assert shop.checkout(other, {"paymentMethodId": 1}).status_code == 201


def test_expired_holds_are_released_to_the_next_buyer(
    shop: Shop, engine: Engine, client: Client, catalog: Catalog
) -> None:
    seat = catalog.seat[(PARKET, 2, 3)]
    first = shop.new_cart()
    shop.add(first, [{"priceId": "STD", "rankId": 1, "seatId": seat}])
    shop.add(first, [{"priceId": "FREE", "rankId": 2, "numberOfTickets": 20}])
    second = shop.new_cart()
    assert shop.add(second, [{"priceId": "RED", "rankId": 1, "seatId": seat}]).status_code == 409
    expire(engine, first)
    assert shop.available(RESERVED)[1] == 27 and shop.available(UNRESERVED) == {2: 45}
    taken = shop.add(second, [{"priceId": "RED", "rankId": 1, "seatId": seat}])
    assert taken.status_code == 200, taken.text
    # The lowest units are free again, so the next buyer gets unit 1.
    shop.add(second, [{"priceId": "FREE", "rankId": 2}])
    keys = [c["place_key"] for c in claims_of(engine, client.tenant.id)]
    assert keys == [f"s{seat}", "u2:1"]
    assert shop.checkout(second, {"paymentMethodId": 1}).status_code == 201


def test_an_expired_cart_can_still_be_deleted(
    shop: Shop, engine: Engine, client: Client, catalog: Catalog
) -> None:
    cart = shop.new_cart()
    shop.add(cart, [{"priceId": "STD", "rankId": 1}])
    expire(engine, cart)
    assert shop.delete(f"/cart/{cart}").status_code == 204
    assert claims_of(engine, client.tenant.id) == []
    assert shop.get(f"/cart/{cart}").status_code == 404


def test_best_available_takes_the_seats_of_expired_holds_deleting_them_under_the_lock(
    shop: Shop, engine: Engine, client: Client, catalog: Catalog
) -> None:
    """A reserved event's best seats, held by a cart that expired, go to the next buyer's
    best-available hold; the expired claims are deleted by that hold's first read of the
    locked event: on PostgreSQL in the read's own statement (every round trip made under
    the event's lock holds up its other buyers), so that the hold runs two statements
    after the lock before its commit, the read and the items with their claims (one
    statement on PostgreSQL, two on SQLite). On PostgreSQL the reads travel with the lock
    (tests/carts/test_lock_wait.py), one statement: both the taken seats and the live
    claims per rank, whatever the event's seating, as it is known once the lock is
    granted."""
    line = [{"priceId": "STD", "rankId": 1, "numberOfTickets": 2}]
    first = shop.new_cart()
    assert shop.add(first, line).status_code == 200
    best = sorted(c["place_key"] for c in claims_of(engine, client.tenant.id))
    expire(engine, first)
    second = shop.new_cart()
    with recorded(engine) as statements:
        taken = shop.add(second, line)
    assert taken.status_code == 200, taken.text
    claims = claims_of(engine, client.tenant.id)
    assert sorted(c["place_key"] for c in claims) == best
    assert {c["cart_item_id"] for c in claims} == {i["itemId"] for i in taken.json()["cartItems"]}
    sql = [text.lstrip().split(None, 3) for text, _params in statements]
    lock = next(i for i, words in enumerate(sql) if "events.tenant_id," in words)
    # (SQLite inserts the items a row at a time: one statement, run once a row.)
    after_lock = [k for k, _runs in groupby(" ".join(words[:3]) for words in sql[lock + 1 :])]
    if engine.dialect.name == "postgresql":
        assert after_lock == [
            "WITH expired_claims AS",
            "WITH numbered AS",
        ]
        assert "INSERT INTO place_claims" in sql[-1][3]
    else:
        assert after_lock == [
            "DELETE FROM place_claims",
            "SELECT place_sold_seats.seat_block, place_sold_seats.sold_bits,",
            "INSERT INTO cart_items",
            "INSERT INTO place_claims",
        ]
