"""A hold's pick reads the free seats row by row; a row whose every seat is sold is told
by its blocks' bits. Whichever way a row is decided, its free seats are those of the
definition: of the rank, not blocked, not sold, not held."""

from collections import defaultdict

from hypothesis import given, settings
from hypothesis import strategies as st

from boxoffice.server.catalog.service import Hall, HallSeat
from boxoffice.server.places.layouts import HallPlaces
from boxoffice.server.places.repository import seat_block
from boxoffice.server.places.service import EventPlaces, seat_key


@st.composite
def sold_halls(draw: st.DrawFn) -> tuple[list[HallSeat], set[int], set[int], set[int]]:
    """A hall (rows of up to 70 seats, ids with gaps so that rows cross the 63-seat blocks)
    and its seats blocked, sold and held; whole rows sold now and then, or their front."""
    seats: list[HallSeat] = []
    sold: set[int] = set()
    seat_id = draw(st.integers(1, 200))
    for row_nr in range(1, draw(st.integers(1, 8)) + 1):
        row = []
        for seat_nr in range(1, draw(st.integers(1, 70)) + 1):
            seat_id += draw(st.integers(1, 3))
            row.append(HallSeat(seat_id, 1, row_nr, seat_nr, draw(st.integers(1, 2))))
        # Sold: the whole row, its front seats (filling a block's part of it, not the
        # others'), or only what is drawn below.
        sold |= {
            s.id
            for s in row[: draw(st.sampled_from([0, len(row), draw(st.integers(0, len(row)))]))]
        }
        seats += row
    ids = [s.id for s in seats]
    some = st.sets(st.sampled_from(ids), max_size=len(ids))
    return seats, draw(some), sold | draw(some), draw(some)


def places_of(
    seats: list[HallSeat], blocked: set[int], sold: set[int], held: set[int]
) -> EventPlaces:
    blocks: defaultdict[int, int] = defaultdict(int)
    for seat_id in sold:
        block, mask = seat_block(seat_id)
        blocks[block] |= mask
    return EventPlaces(
        event={"seating": "reserved"},  # type: ignore[arg-type]
        prices=[{"rank_id": 1}, {"rank_id": 2}],  # type: ignore[list-item]
        seats=seats,
        sections=[],
        blocked_seat_ids=frozenset(blocked),
        capacities={},
        blocked_units={},
        block_counts={},
        unblocked_seats={},
        claimed_by_rank={},
        claimed_keys=frozenset(seat_key(i) for i in held),
        hall=HallPlaces(Hall(seats=tuple(seats), sections=())),
        sold_blocks=dict(blocks),
    )


@settings(max_examples=150, deadline=None)
@given(sold_halls(), st.integers(1, 2))
def test_free_rows_are_the_free_seats_of_each_row(
    hall: tuple[list[HallSeat], set[int], set[int], set[int]], rank_id: int
) -> None:
    seats, blocked, sold, held = hall
    rows: defaultdict[int, list[HallSeat]] = defaultdict(list)
    for seat in seats:
        rows[seat.row_nr].append(seat)
    expected = [
        [s for s in row if s.rank_id == rank_id and s.id not in blocked | sold | held]
        for _row_nr, row in sorted(rows.items())
    ]
    # Decided row by row (a hold's pick), and from the whole hall's seats decided first.
    assert list(places_of(seats, blocked, sold, held).free_rows(rank_id)) == expected
    decided = places_of(seats, blocked, sold, held)
    decided.taken_seats()
    assert list(decided.free_rows(rank_id)) == expected
