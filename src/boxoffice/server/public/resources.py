"""The public catalog's JSON: snake_case fields, money as strings, local dates and times."""

from collections.abc import Mapping
from typing import Any
from zoneinfo import ZoneInfo

from boxoffice.server.public.service import (
    Catalog,
    MainEvent,
    SubEvent,
    TicketType,
    sub_event_types,
)
from boxoffice.server.public.urls import absolute_url
from boxoffice.server.values.instants import micros_to_instant
from boxoffice.server.values.money import money_text

NO_VIEW_END = "0000-00-00 00:00:00"


def _override(event: Mapping[Any, Any], production: Mapping[Any, Any], column: str) -> Any:
    value = event[column]
    return production[column] if value is None else value


def sub_event_resource(
    sub: SubEvent,
    production: Mapping[Any, Any],
    halls: Mapping[int, Mapping[Any, Any]],
    tz: ZoneInfo,
    origin: str,
) -> dict[str, Any]:
    event = sub.event
    start = micros_to_instant(event["start_at"], tz)
    end = micros_to_instant(event["end_at"], tz)
    view_end = event["view_end_at"]
    hall = halls.get(event["hall_id"])
    return {
        "event_id": event["event_id"],
        "event_main_id": event["production_id"],
        "event_name": event["name"],
        "event_text": _override(event, production, "text"),
        "event_short_text": _override(event, production, "short_text"),
        "event_url": event["url"],
        "event_image": absolute_url(origin, _override(event, production, "image")),
        "event_type": sub_event_types(event, production),
        "event_date": start.strftime("%Y-%m-%d"),
        "event_time": start.strftime("%H:%M:%S"),
        "event_end": end.strftime("%H:%M:%S"),
        "event_view_end": (
            NO_VIEW_END
            if view_end is None
            else micros_to_instant(view_end, tz).strftime("%Y-%m-%d %H:%M:%S")
        ),
        "event_rep": "sub",
        "event_status": sub.status,
        "event_free": sub.free,
        "location_id": event["hall_id"],
        "location_name": None if hall is None else hall["name"],
    }


def main_event_resource(
    main: MainEvent, halls: Mapping[int, Mapping[Any, Any]], tz: ZoneInfo, origin: str
) -> dict[str, Any]:
    """A production with its sub-events; `origin` (`https://host`) makes a root-relative
    image absolute."""
    production = main.production
    return {
        "event_id": production["production_id"],
        "event_name": production["name"],
        "event_text": production["text"],
        "event_short_text": production["short_text"],
        "event_image": absolute_url(origin, production["image"]),
        "event_type": list(main.types),
        "sub_events": [
            sub_event_resource(s, production, halls, tz, origin) for s in main.sub_events
        ],
    }


def catalog_resource(catalog: Catalog, tz: ZoneInfo, origin: str) -> list[dict[str, Any]]:
    return [main_event_resource(m, catalog.halls, tz, origin) for m in catalog.main_events]


def ticket_type_resource(ticket_type: TicketType) -> dict[str, Any]:
    price = ticket_type.price
    amount = money_text(price["amount_cents"])
    return {
        "discount_id": price["price_id"],
        "discount_name": price["name"],
        "base_price": money_text(ticket_type.base_cents),
        "discount_type": "=",
        "discount_value": amount,
        "discounted_price": amount,
    }


def location_resource(hall: Mapping[Any, Any]) -> dict[str, Any]:
    return {
        "location_id": hall["hall_id"],
        "location_name": hall["name"],
        "location_address": hall["address"],
        "location_zip": hall["zip"],
        "location_city": hall["city"],
        # The catalog file has no country for a hall (docs/public-api.md).
        "location_country": None,
        "location_phone": hall["phone"],
        "location_url": hall["url"],
    }


def payment_method_resource(method: Mapping[Any, Any]) -> dict[str, Any]:
    return {
        "payment_id": method["payment_method_id"],
        "payment_desc": method["name"],
        "payment_cost": money_text(method["fee_cents"]),
    }
