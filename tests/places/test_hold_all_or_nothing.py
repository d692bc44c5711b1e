"""Holding places is all or nothing: one place claimed already leaves none of the others held,
and the transaction goes on (the unique key is the guarantee; no savepoint is used)."""

from sqlalchemy import Engine, select

from boxoffice.server.db.transactions import read_transaction, write_transaction
from boxoffice.server.places.service import NewHold, hold, unit_key
from boxoffice.server.places.tables import place_claims
from boxoffice.server.values.clock import now_micros
from tests.builders import UNRESERVED, build_catalog
from tests.conftest import Client

RANK = 2
HOUR = 3_600_000_000


def unit(number: int, cart_item_id: int) -> NewHold:
    return NewHold(UNRESERVED, unit_key(RANK, number), RANK, cart_item_id)


def claims(engine: Engine, client: Client) -> set[tuple[str, int | None]]:
    with read_transaction(engine) as conn:
        stmt = select(place_claims.c.place_key, place_claims.c.cart_item_id).where(
            place_claims.c.tenant_id == client.tenant.id
        )
        return {(key, item) for key, item in conn.execute(stmt)}


def test_a_hold_with_one_place_taken_holds_none_and_the_transaction_goes_on(
    engine: Engine, client: Client
) -> None:
    build_catalog(engine, client)
    tenant_id, until = client.tenant.id, now_micros() + HOUR
    with write_transaction(engine) as tx:
        assert hold(tx.conn, tenant_id=tenant_id, holds=[unit(2, 1)], expires_at=until)
    with write_transaction(engine) as tx:
        # Unit 2 is held by item 1: neither unit 1 nor unit 3 is held by this call.
        taken = [unit(1, 11), unit(2, 12), unit(3, 13)]
        assert not hold(tx.conn, tenant_id=tenant_id, holds=taken, expires_at=until)
        # The same transaction holds other places afterwards.
        assert hold(tx.conn, tenant_id=tenant_id, holds=[unit(4, 14)], expires_at=until)
    with write_transaction(engine) as tx:
        # Every place taken: nothing made, nothing to undo.
        assert not hold(tx.conn, tenant_id=tenant_id, holds=[unit(2, 21)], expires_at=until)
    assert claims(engine, client) == {(unit_key(RANK, 2), 1), (unit_key(RANK, 4), 14)}
