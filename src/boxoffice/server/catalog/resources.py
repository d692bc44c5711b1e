"""Event, production, hall and payment-method resources: their one JSON rendering.

Rows are `RowMapping`s of `select(table)`, keyed by column name.
"""

from collections.abc import Mapping, Sequence
from typing import Any
from zoneinfo import ZoneInfo

import orjson

from boxoffice.server.catalog.service import EventView, ProductionView
from boxoffice.server.fields import Resource, integer, text
from boxoffice.server.values.rendering import render_instant, render_money

# A hall, keys in contract order.
HALL = Resource(
    "HallResource",
    # No description in the OpenAPI document, as before the table (the model had none).
    description="",
    fields=(
        integer("hallId", "hall_id"),
        text("hallName", "name", str),
        text("hallAddress", "address"),
        text("hallZip", "zip"),
        text("hallCity", "city"),
        text("hallPhone", "phone"),
        text("hallUrl", "url"),
    ),
)
HallResource = HALL.model
hall_resource = HALL.mapping_renderer()


def price_resource(row: Mapping[Any, Any]) -> dict[str, Any]:
    return {
        "priceId": row["price_id"],
        "priceName": row["name"],
        "rankId": row["rank_id"],
        "amount": render_money(row["amount_cents"]),
    }


def event_resource(view: EventView, tz: ZoneInfo) -> dict[str, Any]:
    event = view.event
    tags = event["event_tags"]
    return {
        "eventId": event["event_id"],
        "productionId": event["production_id"],
        "eventName": event["name"],
        "eventType": event["event_type"],
        "eventTags": None if tags is None else orjson.loads(tags),
        "start": render_instant(event["start_at"], tz),
        "end": render_instant(event["end_at"], tz),
        "hallId": event["hall_id"],
        "prices": [price_resource(p) for p in view.prices],
    }


def production_resource(view: ProductionView, tz: ZoneInfo) -> dict[str, Any]:
    return {
        "productionId": view.production["production_id"],
        "productionName": view.production["name"],
        "events": [event_resource(e, tz) for e in view.events],
    }


def payment_method_resource(row: Mapping[Any, Any]) -> dict[str, Any]:
    return {
        "paymentMethodId": row["payment_method_id"],
        "name": row["name"],
        "fee": render_money(row["fee_cents"]),
    }


def payment_methods_resource(rows: Sequence[Mapping[Any, Any]]) -> list[dict[str, Any]]:
    return [payment_method_resource(r) for r in rows]
