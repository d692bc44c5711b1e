"""Best-available picking, as a pure function over free seats."""

from boxoffice.server.carts.seating import pick_best, row_centres
from boxoffice.server.catalog.service import HallSeat


def hall(rows: dict[tuple[int, int], int]) -> list[HallSeat]:
    """Seats of {(section, row): seats in the row}, numbered from 1, ids in plan order."""
    seats: list[HallSeat] = []
    for (section, row), count in sorted(rows.items()):
        for nr in range(1, count + 1):
            seats.append(HallSeat(len(seats) + 1, section, row, nr, 1))
    return seats


def places(picked: list[HallSeat] | None) -> list[tuple[int, int, int]]:
    assert picked is not None
    return [(s.section_id, s.row_nr, s.seat_nr) for s in picked]


def test_front_section_front_row_middle() -> None:
    seats = hall({(1, 1): 9, (1, 2): 9, (2, 1): 9})
    assert places(pick_best(seats, 3, row_centres(seats))) == [(1, 1, 4), (1, 1, 5), (1, 1, 6)]
    assert places(pick_best(seats, 1, row_centres(seats))) == [(1, 1, 5)]


def test_together_in_a_worse_row_beats_split_in_a_better_one() -> None:
    seats = hall({(1, 1): 10, (1, 2): 10})
    free = [s for s in seats if not (s.row_nr == 1 and s.seat_nr in (4, 7))]
    assert places(pick_best(free, 4, row_centres(seats))) == [
        (1, 2, 4),
        (1, 2, 5),
        (1, 2, 6),
        (1, 2, 7),
    ]


def test_the_middle_is_of_the_whole_row_not_of_the_free_seats() -> None:
    seats = hall({(1, 1): 10})
    free = [s for s in seats if s.seat_nr <= 4]  # only the left end is free
    assert places(pick_best(free, 2, row_centres(seats))) == [(1, 1, 3), (1, 1, 4)]


def test_split_into_as_few_groups_as_possible() -> None:
    seats = hall({(1, 1): 10, (1, 2): 10})
    # Row 1: 1-2 and 9-10 free; row 2: 1-3 free. No run of 4 anywhere.
    free = [
        s
        for s in seats
        if (s.row_nr == 1 and s.seat_nr in (1, 2, 9, 10)) or (s.row_nr == 2 and s.seat_nr <= 3)
    ]
    # The longest run (row 2, 1-3) whole, then the best single seat: row 1 wins over row 2.
    assert places(pick_best(free, 4, row_centres(seats))) == [
        (1, 1, 2),
        (1, 2, 1),
        (1, 2, 2),
        (1, 2, 3),
    ]


def test_seat_numbers_must_be_consecutive() -> None:
    seats = [HallSeat(1, 1, 1, 1, 1), HallSeat(2, 1, 1, 3, 1), HallSeat(3, 1, 2, 2, 1)]
    picked = pick_best(seats, 2, row_centres(seats))
    # No consecutive pair exists: a split, the longest runs (all of one) best-placed first.
    assert places(picked) == [(1, 1, 1), (1, 1, 3)]


def test_not_enough_free_seats() -> None:
    seats = hall({(1, 1): 3})
    assert pick_best(seats, 4, row_centres(seats)) is None
    assert pick_best([], 1, {}) is None
    assert pick_best(seats, 0, row_centres(seats)) is None
