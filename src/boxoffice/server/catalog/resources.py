"""Event, production, hall, seat-plan and payment-method resources: their one JSON rendering.

Rows are `RowMapping`s of `select(table)`, keyed by column name.
"""

from collections.abc import Mapping, Sequence
from itertools import groupby
from typing import Any
from zoneinfo import ZoneInfo

import orjson

from boxoffice.server.catalog.service import (
    BLOCK_NAMES,
    EventPlaces,
    EventView,
    ProductionView,
    SeatPlanView,
)
from boxoffice.server.values.rendering import render_instant, render_money


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


def event_detail_resource(places: EventPlaces, tz: ZoneInfo) -> dict[str, Any]:
    """The single-event shape: adds `availability` per rank and `blockAvailability`."""
    body = event_resource(EventView(event=places.event, prices=places.prices), tz)
    body["availability"] = [
        {"rankId": rank_id, "available": places.available(rank_id)} for rank_id in places.ranks()
    ]
    known = [t for t in BLOCK_NAMES if t in places.block_counts]
    # A block type the contract does not name still shows, after the known ones.
    other = sorted(t for t in places.block_counts if t not in BLOCK_NAMES)
    body["blockAvailability"] = [
        {
            "blockType": block_type,
            "blockName": BLOCK_NAMES.get(block_type, block_type),
            "count": places.block_counts[block_type],
        }
        for block_type in (*known, *other)
    ]
    return body


def production_resource(view: ProductionView, tz: ZoneInfo) -> dict[str, Any]:
    return {
        "productionId": view.production["production_id"],
        "productionName": view.production["name"],
        "events": [event_resource(e, tz) for e in view.events],
    }


def hall_resource(row: Mapping[Any, Any]) -> dict[str, Any]:
    return {
        "hallId": row["hall_id"],
        "hallName": row["name"],
        "hallAddress": row["address"],
        "hallZip": row["zip"],
        "hallCity": row["city"],
        "hallPhone": row["phone"],
        "hallUrl": row["url"],
    }


def seat_plan_resource(view: SeatPlanView) -> dict[str, Any]:
    places = view.places
    names = {s["section_id"]: s["name"] for s in view.sections}
    sections: list[dict[str, Any]] = []
    # `places.seats` is in plan order (section, row, seat), so grouping keeps that order.
    for section_id, section_seats in groupby(places.seats, key=lambda s: s.section_id):
        rows = [
            {
                "rowNr": row_nr,
                "seats": [
                    {
                        "seatId": seat.id,
                        "seatNr": seat.seat_nr,
                        "rankId": seat.rank_id,
                        "available": places.seat_is_free(seat),
                    }
                    for seat in row_seats
                ],
            }
            for row_nr, row_seats in groupby(section_seats, key=lambda s: s.row_nr)
        ]
        sections.append(
            {"sectionId": section_id, "sectionName": names.get(section_id), "rows": rows}
        )
    return {
        "eventId": places.event["event_id"],
        "hallId": places.event["hall_id"],
        "priceLevels": [
            {
                "priceId": p["price_id"],
                "rankId": p["rank_id"],
                "name": p["name"],
                "amount": render_money(p["amount_cents"]),
            }
            for p in places.prices
        ],
        "sections": sections,
        "available": places.total_available(),
    }


def payment_method_resource(row: Mapping[Any, Any]) -> dict[str, Any]:
    return {
        "paymentMethodId": row["payment_method_id"],
        "name": row["name"],
        "fee": render_money(row["fee_cents"]),
    }


def payment_methods_resource(rows: Sequence[Mapping[Any, Any]]) -> list[dict[str, Any]]:
    return [payment_method_resource(r) for r in rows]
