"""SQL for clients and API keys."""

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from sqlalchemy import Connection, Engine, bindparam, insert, select

from boxoffice.server.db.scoping import cross_tenant, scoped_select, scoped_update
from boxoffice.server.db.transactions import DriverRead, open_ahead
from boxoffice.server.tenancy.tables import api_keys, clients


@dataclass(frozen=True, slots=True)
class KeyRecord:
    prefix: str
    created_at: int
    revoked_at: int | None
    # Requests a minute (0: no limit); None: the server's default.
    per_minute: int | None


@dataclass(frozen=True, slots=True)
class ActiveKey:
    """What authentication needs of a live key: its hash, its client, its rate limit."""

    key_hash: str
    tenant_id: int
    timezone: str
    per_minute: int | None


def get_client_by_name(conn: Connection, name: str) -> tuple[int, str, str] | None:
    """(id, name, timezone) of the named client."""
    stmt = select(clients.c.id, clients.c.name, clients.c.timezone).where(clients.c.name == name)
    row = conn.execute(stmt).first()
    return None if row is None else (row[0], row[1], row[2])


def insert_client(conn: Connection, *, name: str, timezone: str, now: int) -> int:
    stmt = insert(clients).values(name=name, timezone=timezone, created_at=now)
    return int(conn.execute(stmt.returning(clients.c.id)).scalar_one())


def insert_key(
    conn: Connection,
    *,
    tenant_id: int,
    prefix: str,
    key_hash: str,
    now: int,
    per_minute: int | None = None,
) -> None:
    conn.execute(
        insert(api_keys).values(
            tenant_id=tenant_id,
            prefix=prefix,
            key_hash=key_hash,
            created_at=now,
            rate_limit_per_minute=per_minute,
        )
    )


# Built once: every API request runs it (db/scoping.py, per_tenant, says what that saves),
# straight on the driver (DriverRead): its columns are text and integers. What one run of
# it costs each side: bench/statement_cost.py.
ACTIVE_KEY = DriverRead(
    cross_tenant(
        select(
            api_keys.c.key_hash,
            clients.c.id,
            clients.c.timezone,
            api_keys.c.rate_limit_per_minute,
        )
        .join(clients, clients.c.id == api_keys.c.tenant_id)
        .where(
            api_keys.c.prefix == bindparam("p_prefix"),
            clients.c.name == bindparam("p_client"),
            api_keys.c.revoked_at.is_(None),
        ),
        "authentication: finds which client a key belongs to",
    )
)


def get_active_key_hash(conn: Connection, *, client_name: str, prefix: str) -> ActiveKey | None:
    """The stored hash, client and rate limit of a live key of this client, if any."""
    row = conn.execute(ACTIVE_KEY.statement, _key_params(client_name, prefix)).first()
    return _active_key(row)


def _key_params(client_name: str, prefix: str) -> dict[str, str]:
    return {"p_prefix": prefix, "p_client": client_name}


def _active_key(row: Sequence[Any] | None) -> ActiveKey | None:
    return None if row is None else ActiveKey(*row)


def _nothing_open() -> None:
    return None


def find_active_key(
    engine: Engine, *, client_name: str, prefix: str
) -> tuple[ActiveKey | None, Callable[[], None]]:
    """get_active_key_hash as ONE statement outside any transaction, on a connection of its
    own, given back at once (what to call once the route is done: nothing): the key check
    of a request answered before its route runs (looked up afresh each time)."""
    row = ACTIVE_KEY.first(engine, _key_params(client_name, prefix))
    return _active_key(row), _nothing_open


class KeyLookup(Protocol):
    """A key's lookup (find_active_key, find_active_key_kept, find_active_key_ahead): the
    key, and what to call once the route is done (what the lookup left open for it)."""

    def __call__(
        self, engine: Engine, *, client_name: str, prefix: str
    ) -> tuple[ActiveKey | None, Callable[[], None]]: ...


def find_active_key_kept(
    engine: Engine, *, client_name: str, prefix: str
) -> tuple[ActiveKey | None, Callable[[], None]]:
    """find_active_key on a connection kept for the route's first read of the database
    (db.transactions.DriverRead.first_kept), and what to call once the route is done (it
    gives the connection back unless the route took it)."""
    row, done = ACTIVE_KEY.first_kept(engine, _key_params(client_name, prefix))
    return _active_key(row), done


def ride_active_key(
    engine: Engine,
    *,
    client_name: str,
    prefix: str,
    settle: Callable[[ActiveKey | None], None],
) -> Callable[[], None]:
    """PostgreSQL: find_active_key sent ahead of the route's first read, in its round trip
    (db.transactions.DriverRead.ride_kept): `settle` gets the key before the read's rows go
    anywhere. What to call once the route is done (it sends the lookup alone if the route
    has not read, and gives the connection back)."""

    def settle_row(row: Sequence[Any] | None) -> None:
        settle(_active_key(row))

    return ACTIVE_KEY.ride_kept(engine, _key_params(client_name, prefix), settle_row)


def find_active_key_ahead(
    engine: Engine, *, client_name: str, prefix: str
) -> tuple[ActiveKey | None, Callable[[], None]]:
    """PostgreSQL: find_active_key read in the first round trip of the write transaction
    opened ahead of a route (db.transactions.open_ahead), and what to call once the route
    is done (it rolls back that transaction unless the route took it)."""
    row, done = open_ahead(engine, ACTIVE_KEY, _key_params(client_name, prefix))
    return _active_key(row), done


def list_keys(conn: Connection, *, tenant_id: int) -> list[KeyRecord]:
    stmt = scoped_select(
        api_keys,
        api_keys.c.prefix,
        api_keys.c.created_at,
        api_keys.c.revoked_at,
        api_keys.c.rate_limit_per_minute,
        tenant_id=tenant_id,
    ).order_by(api_keys.c.created_at, api_keys.c.id)
    return [KeyRecord(*row) for row in conn.execute(stmt)]


def update_live_key(
    conn: Connection, *, tenant_id: int, prefix: str, values: dict[str, int | None]
) -> int:
    """Set columns of the client's live (not revoked) key with this prefix; rows changed."""
    stmt = (
        scoped_update(api_keys, tenant_id=tenant_id)
        .where(api_keys.c.prefix == prefix, api_keys.c.revoked_at.is_(None))
        .values(values)
    )
    return conn.execute(stmt).rowcount
