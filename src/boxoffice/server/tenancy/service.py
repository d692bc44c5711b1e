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


def check_timezone(name: str) -> ZoneInfo:
    if name not in available_timezones():
        raise InvalidInput.field("timezone", f"Unknown time zone {name!r}.")
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise InvalidInput.field("timezone", f"Unknown time zone {name!r}.") from None


def create_tenant(conn: Connection, *, name: str, timezone: str, now: int) -> tuple[Tenant, str]:
    """Create a client and its first key; returns the client and the key (shown once)."""
    if not CLIENT_NAME.match(name):
        raise InvalidInput.field("name", "The client name must match [a-z0-9][a-z0-9_-]{0,63}.")
    tz = check_timezone(timezone)
    if repository.get_client_by_name(conn, name) is not None:
        raise InvalidInput.field("name", f"A client named {name!r} exists already.")
    tenant_id = repository.insert_client(conn, name=name, timezone=timezone, now=now)
    key = create_key(conn, tenant_id=tenant_id, now=now)
    return Tenant(id=tenant_id, name=name, timezone=tz), key


def get_tenant(conn: Connection, name: str) -> Tenant:
    row = repository.get_client_by_name(conn, name)
    if row is None:
        raise NotFound("Client")
    return Tenant(id=row[0], name=row[1], timezone=ZoneInfo(row[2]))


def create_key(conn: Connection, *, tenant_id: int, now: int) -> str:
    key, prefix = generate_key()
    repository.insert_key(conn, tenant_id=tenant_id, prefix=prefix, key_hash=hash_key(key), now=now)
    return key


def is_active_key(conn: Connection, *, client_name: str, key: str) -> bool:
    """Whether `key` is a live (not revoked) key of the client named `client_name`."""
    prefix = key_prefix(key)
    if prefix is None:
        return False
    found = repository.get_active_key_hash(conn, client_name=client_name, prefix=prefix)
    return found is not None and verify_key(key, found[0])


def revoke_key(conn: Connection, *, tenant_id: int, prefix: str, now: int) -> None:
    if repository.update_key_revoked(conn, tenant_id=tenant_id, prefix=prefix, now=now) == 0:
        raise NotFound("Active key")


def list_keys(conn: Connection, *, tenant_id: int) -> list[repository.KeyRecord]:
    return repository.list_keys(conn, tenant_id=tenant_id)
