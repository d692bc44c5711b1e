"""Availability resources: an event with its availability, and the seat plan."""

from itertools import groupby
from typing import Any
from zoneinfo import ZoneInfo

from boxoffice.server.catalog.resources import event_resource
from boxoffice.server.catalog.service import BLOCK_NAMES, EventView
from boxoffice.server.places.service import EventCounts, SeatPlanView
from boxoffice.server.values.rendering import render_money


def event_detail_resource(places: EventCounts, tz: ZoneInfo) -> dict[str, Any]:
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
