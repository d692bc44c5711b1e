"""The public catalog: which events are listed, their public status, and what one order may take.

Decisions where the contract is silent are in docs/public-api.md ("Decisions").
"""

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import orjson
from sqlalchemy import Connection, RowMapping

from boxoffice.server.catalog.service import MAX_ID
from boxoffice.server.places.service import count_available
from boxoffice.server.public import repository
from boxoffice.server.public.errors import (
    EVENT_NOT_FOUND,
    LOCATION_NOT_FOUND,
    SUB_EVENT_NOT_FOUND,
    PublicNotFound,
)
from boxoffice.server.tenancy.service import Tenant


@dataclass(frozen=True, slots=True)
class SubEvent:
    event: RowMapping
    status: str  # pub, nosal, arch, trash
    free: int  # min(maxTicketsPerOrder, available); 0 unless on sale


@dataclass(frozen=True, slots=True)
class MainEvent:
    production: RowMapping
    sub_events: Sequence[SubEvent]
    # The event-type names of the main event (its own, or its events' legacy eventType).
    types: Sequence[str]


@dataclass(frozen=True, slots=True)
class Catalog:
    main_events: Sequence[MainEvent]
    halls: dict[int, RowMapping]


def parse_id(value: str) -> int | None:
    """A catalog id from a path segment; anything else names no event."""
    if not value.isascii() or not value.isdigit() or len(value) > 10:
        return None
    number = int(value)
    return number if 0 < number <= MAX_ID else None


def public_status(event: RowMapping, now: int) -> str:
    """`trash` stays trash; an event that has ended is `arch`; otherwise the catalog's status."""
    if event["status"] == "trash":
        return "trash"
    if event["end_at"] <= now:
        return "arch"
    return str(event["status"])


def listed(event: RowMapping, now: int) -> bool:
    """Whether the event is in the lists: until its viewEnd, always when it has none."""
    view_end = event["view_end_at"]
    return view_end is None or view_end > now


def names(value: str | None) -> list[str] | None:
    """Event-type names stored as a JSON array; None when not set."""
    if value is None:
        return None
    decoded = orjson.loads(value)
    return [str(name) for name in decoded] if isinstance(decoded, list) else None


def sub_event_types(event: Mapping[Any, Any], production: Mapping[Any, Any]) -> list[str]:
    """The event's own types, else its production's, else its legacy `eventType`."""
    own = names(event["event_types"])
    if own is not None:
        return own
    inherited = names(production["event_types"])
    if inherited is not None:
        return inherited
    return [event["event_type"]] if event["event_type"] else []


def _main_types(production: RowMapping, events: Sequence[RowMapping]) -> list[str]:
    own = names(production["event_types"])
    if own is not None:
        return own
    found: list[str] = []
    for event in events:
        if event["event_type"] and event["event_type"] not in found:
            found.append(event["event_type"])
    return found


def _sub_event(conn: Connection, tenant: Tenant, event: RowMapping, now: int) -> SubEvent:
    status = public_status(event, now)
    free = 0
    if status == "pub":
        available = count_available(conn, tenant_id=tenant.id, event=event, now=now)
        free = min(int(event["max_tickets_per_order"]), available)
    return SubEvent(event=event, status=status, free=free)


def _catalog(
    conn: Connection,
    tenant: Tenant,
    now: int,
    events: Sequence[RowMapping],
    keep: Callable[[RowMapping, RowMapping], bool],
    *,
    production_ids: Sequence[int] | None = None,
) -> Catalog:
    """Main events with the sub-events `keep` lets through; a main event with none is left
    out unless it is one of `production_ids` (asked for by id)."""
    grouped = repository.group_by_production(list(events))
    wanted = set(grouped) | set(production_ids or ())
    found = repository.list_productions(conn, tenant_id=tenant.id, production_ids=wanted)
    main_events: list[MainEvent] = []
    for production_id in sorted(wanted, key=lambda p: _first_start(grouped.get(p, []), p)):
        production = found.get(production_id)
        if production is None:
            continue
        own = grouped.get(production_id, [])
        kept = [e for e in own if keep(e, production)]
        if not kept and production_id not in (production_ids or ()):
            continue
        main_events.append(
            MainEvent(
                production=production,
                sub_events=[_sub_event(conn, tenant, e, now) for e in kept],
                types=_main_types(production, own),
            )
        )
    return Catalog(main_events=main_events, halls=repository.list_halls(conn, tenant_id=tenant.id))


def _first_start(events: Sequence[RowMapping], production_id: int) -> tuple[int, int]:
    return (min((e["start_at"] for e in events), default=0), production_id)


def list_main_events(conn: Connection, *, tenant: Tenant, now: int) -> Catalog:
    """Every main event with its listed sub-events (GET /events)."""
    rows = repository.list_events(conn, tenant_id=tenant.id)
    return _catalog(conn, tenant, now, rows, lambda e, _p: listed(e, now))


def list_upcoming(conn: Connection, *, tenant: Tenant, now: int) -> Catalog:
    """Main events with sub-events still to start, with only those (not withdrawn ones)."""
    rows = repository.list_events(conn, tenant_id=tenant.id, start_after=now)
    return _catalog(
        conn, tenant, now, rows, lambda e, _p: listed(e, now) and e["status"] != "trash"
    )


def get_main_event(conn: Connection, *, tenant: Tenant, now: int, event_id: str) -> Catalog:
    """A main event with its listed sub-events, or a sub-event inside its main event."""
    ident = parse_id(event_id)
    if ident is None:
        raise PublicNotFound(EVENT_NOT_FOUND)
    if repository.get_production(conn, tenant_id=tenant.id, production_id=ident) is not None:
        rows = repository.list_events(conn, tenant_id=tenant.id, production_id=ident)
        return _catalog(
            conn, tenant, now, rows, lambda e, _p: listed(e, now), production_ids=[ident]
        )
    event = repository.get_event(conn, tenant_id=tenant.id, event_id=ident)
    if event is None:
        raise PublicNotFound(EVENT_NOT_FOUND)
    return _catalog(conn, tenant, now, [event], lambda _e, _p: True)


def list_main_events_of_type(conn: Connection, *, tenant: Tenant, now: int, name: str) -> Catalog:
    """Main events with their listed sub-events of the event type `name`, only those."""
    rows = repository.list_events(conn, tenant_id=tenant.id)
    return _catalog(
        conn, tenant, now, rows, lambda e, p: listed(e, now) and name in sub_event_types(e, p)
    )


def list_event_type_names(conn: Connection, *, tenant: Tenant) -> list[str]:
    """Every event-type name the client's productions and events use, sorted."""
    found: set[str] = set()
    for production_types, event_types, event_type in repository.list_event_type_columns(
        conn, tenant_id=tenant.id
    ):
        found.update(names(production_types) or ())
        found.update(names(event_types) or ())
        if event_type:
            found.add(event_type)
    return sorted(found, key=lambda n: (n.casefold(), n))


@dataclass(frozen=True, slots=True)
class TicketType:
    price: RowMapping
    base_cents: int


def list_ticket_types(conn: Connection, *, tenant: Tenant, event_id: str) -> list[TicketType]:
    """The prices of a sub-event, each with the dearest price of its rank as base price."""
    ident = parse_id(event_id)
    event = (
        repository.get_event(conn, tenant_id=tenant.id, event_id=ident)
        if ident is not None
        else None
    )
    if event is None:
        raise PublicNotFound(SUB_EVENT_NOT_FOUND)
    rows = repository.list_prices(conn, tenant_id=tenant.id, event_id=event["event_id"])
    dearest: dict[int, int] = {}
    for row in rows:
        dearest[row["rank_id"]] = max(dearest.get(row["rank_id"], 0), row["amount_cents"])
    return [TicketType(price=row, base_cents=dearest[row["rank_id"]]) for row in rows]


def list_locations(conn: Connection, *, tenant: Tenant) -> list[RowMapping]:
    return list(repository.list_halls(conn, tenant_id=tenant.id).values())


def get_location(conn: Connection, *, tenant: Tenant, location_id: str) -> RowMapping:
    ident = parse_id(location_id)
    found = (
        repository.list_halls(conn, tenant_id=tenant.id, hall_id=ident) if ident is not None else {}
    )
    if not found:
        raise PublicNotFound(LOCATION_NOT_FOUND)
    return next(iter(found.values()))


def list_payment_methods(conn: Connection, *, tenant: Tenant) -> list[RowMapping]:
    """The payment methods offered online."""
    return repository.list_online_payment_methods(conn, tenant_id=tenant.id)
