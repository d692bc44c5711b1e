"""Best-available picking, as a pure function over free seats."""

from hypothesis import given
from hypothesis import strategies as st

from boxoffice.server.carts.seating import pick_best, pick_best_in_one_row, row_centres
from boxoffice.server.catalog.service import Hall, HallSeat


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


@st.composite
def halls_with_free_seats(draw: st.DrawFn) -> tuple[Hall, list[HallSeat]]:
    """A hall of up to 3 sections of up to 4 rows, seat numbers with gaps, and a free subset."""
    seats: list[HallSeat] = []
    for section in range(1, draw(st.integers(1, 3)) + 1):
        for row in range(1, draw(st.integers(1, 4)) + 1):
            numbers = draw(st.sets(st.integers(1, 12), min_size=1, max_size=10))
            for nr in sorted(numbers):
                seats.append(HallSeat(len(seats) + 1, section, row, nr, 1))
    free = [s for s in seats if draw(st.booleans())]
    return Hall(seats=tuple(seats), sections=()), free


@given(halls_with_free_seats(), st.integers(0, 8))
def test_picking_row_by_row_finds_what_pick_best_finds(
    hall_and_free: tuple[Hall, list[HallSeat]], count: int
) -> None:
    """The rows walked front to back give pick_best's answer whenever one row can seat the
    party together, and None (pick_best decides) only when none can."""
    found, free = hall_and_free
    free_ids = {s.id for s in free}
    rows = [[s for s in row if s.id in free_ids] for row in found.rows]
    by_rows = pick_best_in_one_row(rows, count, found.centres)
    best = pick_best(free, count, row_centres(found.seats))
    if by_rows is not None:
        assert by_rows == best
    else:
        assert all(longest_run(row) < count for row in rows) or count < 1


def longest_run(row: list[HallSeat]) -> int:
    """The most free seats with consecutive numbers in one row."""
    longest = run = 0
    for n, seat in enumerate(row):
        run = run + 1 if n and seat.seat_nr == row[n - 1].seat_nr + 1 else 1
        longest = max(longest, run)
    return longest
