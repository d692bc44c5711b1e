"""Creating clients and managing their keys."""

import re
from dataclasses import dataclass
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from sqlalchemy import Connection

from boxoffice.server.errors import InvalidInput, NotFound
from boxoffice.server.tenancy import repository
from boxoffice.server.tenancy.keys import generate_key, hash_key, key_prefix, verify_key

CLIENT_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")


@dataclass(frozen=True, slots=True)
class Tenant:
    """The authenticated client of a request; every query is scoped to its id."""

    id: int
    name: str
    timezone: ZoneInfo


@dataclass(frozen=True, slots=True)
class VerifiedKey:
    """The key a request authenticated with: its client, public prefix and own rate limit
    (requests a minute, 0: none; None: the server's default)."""

    tenant: Tenant
    prefix: str
    per_minute: int | None


def check_timezone(name: str) -> ZoneInfo:
    if name not in available_timezones():
        raise InvalidInput.field("timezone", f"Unknown time zone {name!r}.")
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise InvalidInput.field("timezone", f"Unknown time zone {name!r}.") from None


def create_tenant(
    conn: Connection, *, name: str, timezone: str, now: int, per_minute: int | None = None
) -> tuple[Tenant, str]:
    """Create a client and its first key (with its own rate limit, or None: the server's
    default); returns the client and the key (shown once)."""
    if not CLIENT_NAME.match(name):
        raise InvalidInput.field("name", "The client name must match [a-z0-9][a-z0-9_-]{0,63}.")
    tz = check_timezone(timezone)
    check_per_minute(per_minute)
    if repository.get_client_by_name(conn, name) is not None:
        raise InvalidInput.field("name", f"A client named {name!r} exists already.")
    tenant_id = repository.insert_client(conn, name=name, timezone=timezone, now=now)
    key = create_key(conn, tenant_id=tenant_id, now=now, per_minute=per_minute)
    return Tenant(id=tenant_id, name=name, timezone=tz), key


def get_tenant(conn: Connection, name: str) -> Tenant:
    row = repository.get_client_by_name(conn, name)
    if row is None:
        raise NotFound("Client")
    return Tenant(id=row[0], name=row[1], timezone=ZoneInfo(row[2]))


# The largest rate limit a key may have: far above what any server answers in a minute.
MAX_PER_MINUTE = 100_000_000


def check_per_minute(per_minute: int | None) -> int | None:
    if per_minute is not None and not 0 <= per_minute <= MAX_PER_MINUTE:
        raise InvalidInput.field(
            "perMinute", f"A key's rate limit is 0 (none) to {MAX_PER_MINUTE} a minute."
        )
    return per_minute


def create_key(conn: Connection, *, tenant_id: int, now: int, per_minute: int | None = None) -> str:
    """A new key (shown once), with its own rate limit or (None) the server's default."""
    key, prefix = generate_key()
    repository.insert_key(
        conn,
        tenant_id=tenant_id,
        prefix=prefix,
        key_hash=hash_key(key),
        now=now,
        per_minute=check_per_minute(per_minute),
    )
    return key


def is_active_key(conn: Connection, *, client_name: str, key: str) -> bool:
    """Whether `key` is a live (not revoked) key of the client named `client_name`."""
    prefix = key_prefix(key)
    if prefix is None:
        return False
    found = repository.get_active_key_hash(conn, client_name=client_name, prefix=prefix)
    return found is not None and verify_key(key, found.key_hash)


def _change_live_key(
    conn: Connection, *, tenant_id: int, prefix: str, values: dict[str, int | None]
) -> None:
    if repository.update_live_key(conn, tenant_id=tenant_id, prefix=prefix, values=values) == 0:
        raise NotFound("Active key")


def revoke_key(conn: Connection, *, tenant_id: int, prefix: str, now: int) -> None:
    _change_live_key(conn, tenant_id=tenant_id, prefix=prefix, values={"revoked_at": now})


def set_key_rate_limit(
    conn: Connection, *, tenant_id: int, prefix: str, per_minute: int | None
) -> None:
    """Give a live key its own rate limit (requests a minute, 0: none), or (None) the
    server's default again. Every worker applies it from the key's next request."""
    values = {"rate_limit_per_minute": check_per_minute(per_minute)}
    _change_live_key(conn, tenant_id=tenant_id, prefix=prefix, values=values)


def list_keys(conn: Connection, *, tenant_id: int) -> list[repository.KeyRecord]:
    return repository.list_keys(conn, tenant_id=tenant_id)
