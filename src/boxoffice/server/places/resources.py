"""Availability resources: an event with its availability, and the seat plan."""

from dataclasses import dataclass
from itertools import groupby
from typing import Any
from weakref import WeakKeyDictionary
from zoneinfo import ZoneInfo

import orjson

from boxoffice.server.catalog.resources import event_resource
from boxoffice.server.catalog.service import BLOCK_NAMES, EventView
from boxoffice.server.places.layouts import HallPlaces
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


def _price_levels(places: EventCounts) -> list[dict[str, Any]]:
    return [
        {
            "priceId": p["price_id"],
            "rankId": p["rank_id"],
            "name": p["name"],
            "amount": render_money(p["amount_cents"]),
        }
        for p in places.prices
    ]


def seat_plan_resource(view: SeatPlanView) -> dict[str, Any]:
    """The seat plan's shape, seat by seat (`seat_plan_json` writes the same bytes)."""
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
        "priceLevels": _price_levels(places),
        "sections": sections,
        "available": places.total_available(),
    }


@dataclass(frozen=True, slots=True)
class _PlanPieces:
    """A hall's part of the seat plan's JSON, made once per cached hall: `template` is the
    `sections` array's text in pieces, literal bytes or the position of a seat in the
    hall's seats, whose text is `seats[position][available]` (with the comma before it
    when it is not the first of its row)."""

    template: tuple[bytes | int, ...]
    seats: tuple[tuple[bytes, bytes], ...]


_pieces: "WeakKeyDictionary[HallPlaces, _PlanPieces]" = WeakKeyDictionary()


def _plan_pieces(hall: HallPlaces) -> _PlanPieces:
    found = _pieces.get(hall)
    if found is not None:
        return found
    names = {s["section_id"]: s["name"] for s in hall.hall.sections}
    position = {seat.id: i for i, seat in enumerate(hall.hall.seats)}
    seats: list[tuple[bytes, bytes]] = [(b"", b"")] * len(hall.hall.seats)
    template: list[bytes | int] = []
    section_id: int | None = None
    for row in hall.hall.rows:
        first = row[0]
        if first.section_id != section_id:
            opening = b"]}]}," if section_id is not None else b""
            section = {"sectionId": first.section_id, "sectionName": names.get(first.section_id)}
            template.append(opening + orjson.dumps(section)[:-1] + b',"rows":[')
        else:
            template.append(b"]},")
        section_id = first.section_id
        template.append(b'{"rowNr":' + str(first.row_nr).encode() + b',"seats":[')
        for n, seat in enumerate(row):
            text = orjson.dumps(
                {"seatId": seat.id, "seatNr": seat.seat_nr, "rankId": seat.rank_id}
            )[:-1]
            text = (b"," if n else b"") + text + b',"available":'
            seats[position[seat.id]] = (text + b"false}", text + b"true}")
            template.append(position[seat.id])
    if section_id is not None:
        template.append(b"]}]}")
    found = _PlanPieces(template=tuple(template), seats=tuple(seats))
    _pieces[hall] = found
    return found


def seat_plan_json(view: SeatPlanView) -> bytes:
    """The seat plan as JSON: byte for byte `orjson.dumps(seat_plan_resource(view))`, from
    text made once per cached hall, so that each request only decides each seat's
    `available` (tests/places/test_seat_plan_json.py compares the two)."""
    places = view.places
    pieces = _plan_pieces(places.hall)
    blocked, ranks = places.blocked_seat_ids, places.price_ranks
    free = [
        seat.rank_id in ranks and seat.id not in blocked and not taken
        for seat, taken in zip(places.hall.hall.seats, places.taken_seats(), strict=True)
    ]
    texts = pieces.seats
    sections = [
        piece if isinstance(piece, bytes) else texts[piece][free[piece]]
        for piece in pieces.template
    ]
    head = orjson.dumps(
        {
            "eventId": places.event["event_id"],
            "hallId": places.event["hall_id"],
            "priceLevels": _price_levels(places),
        }
    )
    return b"".join(
        (
            head[:-1],
            b',"sections":[',
            *sections,
            b'],"available":',
            # A reserved event's places are its free seats: those just marked available.
            str(sum(free) if places.reserved else places.total_available()).encode(),
            b"}",
        )
    )
