"""The seat map's drawing: where each seat of a hall goes in the SVG, and its state.

Halls have sections, rows and seat numbers, no coordinates: sections are drawn one
below the other (front first), each row centred under the stage, seats in number order.
"""

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import RowMapping

from boxoffice.server.catalog.service import HallSeat
from boxoffice.server.places.service import EventPlaces

SEAT = 22  # a seat's width and height
STEP = 26  # from one seat to the next, and one row to the next
MARGIN = 40  # room for the row numbers on both sides
STAGE = 36  # the stage's height
SECTION_GAP = 34  # room for a section's name
# A map at most this wide is scaled down to fit a phone's 375 pixels (its seats stay at
# least 15 pixels); a wider one keeps its size and scrolls inside its box.
FIT_WIDTH = 440


@dataclass(frozen=True, slots=True)
class DrawnSeat:
    seat: HallSeat
    x: int
    y: int
    state: str  # free, taken (sold, held or not for sale) or mine (in the buyer's cart)
    row_index: int  # the row's position over the whole map, for arrow-key navigation


@dataclass(frozen=True, slots=True)
class DrawnRow:
    number: int
    y: int
    left: int
    right: int


@dataclass(frozen=True, slots=True)
class DrawnSection:
    name: str
    y: int
    rows: Sequence[DrawnRow]
    seats: Sequence[DrawnSeat]


@dataclass(frozen=True, slots=True)
class SeatMap:
    width: int
    height: int
    sections: Sequence[DrawnSection]

    @property
    def fits(self) -> bool:
        return self.width <= FIT_WIDTH


def _state(places: EventPlaces, seat: HallSeat, own: frozenset[int]) -> str:
    if seat.id in own:
        return "mine"
    return "free" if places.seat_is_free(seat) else "taken"


def draw(places: EventPlaces, sections: Sequence[RowMapping], own: frozenset[int]) -> SeatMap:
    by_row: dict[tuple[int, int], list[HallSeat]] = {}
    for seat in places.seats:
        by_row.setdefault((seat.section_id, seat.row_nr), []).append(seat)
    widest = max((len(seats) for seats in by_row.values()), default=0)
    width = 2 * MARGIN + max(widest * STEP, 8 * STEP)
    names = {int(s["section_id"]): str(s["name"]) for s in sections}
    drawn: list[DrawnSection] = []
    y = STAGE + 16
    row_index = 0
    for section_id in sorted({key[0] for key in by_row}):
        section_y = y
        y += SECTION_GAP
        rows: list[DrawnRow] = []
        seats: list[DrawnSeat] = []
        for _section, row_nr in sorted(key for key in by_row if key[0] == section_id):
            row = sorted(by_row[(section_id, row_nr)], key=lambda s: s.seat_nr)
            left = (width - len(row) * STEP) // 2
            for position, seat in enumerate(row):
                x = left + position * STEP
                seats.append(DrawnSeat(seat, x, y, _state(places, seat, own), row_index))
            rows.append(DrawnRow(row_nr, y, left, left + len(row) * STEP))
            y += STEP
            row_index += 1
        drawn.append(DrawnSection(names.get(section_id, ""), section_y, rows, seats))
        y += STEP // 2
    return SeatMap(width=width, height=y, sections=drawn)
