"""Best-available seat picking: pure functions over the free seats of one rank.

"Best" (docs/carts-and-catalog.md): the lowest section id (catalogs list sections front to
back), then the lowest row number (nearest the stage), then the seats nearest the middle of
their row, then the lowest seat number. A party sits together when it can: N seats in one
section and row with consecutive seat numbers. When no such run exists anywhere, the party
is split into as few groups as possible, each placed by the same rules.
"""

from collections.abc import Iterable, Mapping, Sequence

from boxoffice.server.catalog.service import HallSeat, RowKey
from boxoffice.server.catalog.service import row_centres as row_centres


def _runs(free: Iterable[HallSeat]) -> list[list[HallSeat]]:
    """Maximal runs of free seats with consecutive numbers in one section and row."""
    ordered = sorted(free, key=lambda s: (s.section_id, s.row_nr, s.seat_nr))
    runs: list[list[HallSeat]] = []
    for seat in ordered:
        last = runs[-1][-1] if runs else None
        if (
            last is not None
            and (last.section_id, last.row_nr) == (seat.section_id, seat.row_nr)
            and seat.seat_nr == last.seat_nr + 1
        ):
            runs[-1].append(seat)
        else:
            runs.append([seat])
    return runs


def _window_score(
    window: Sequence[HallSeat], centres: Mapping[RowKey, float]
) -> tuple[int, int, float, int]:
    first, last = window[0], window[-1]
    centre = centres.get((first.section_id, first.row_nr), (first.seat_nr + last.seat_nr) / 2)
    offset = abs((first.seat_nr + last.seat_nr) / 2 - centre)
    return (first.section_id, first.row_nr, offset, first.seat_nr)


def _best_window(
    runs: Iterable[Sequence[HallSeat]], size: int, centres: Mapping[RowKey, float]
) -> list[HallSeat] | None:
    best: list[HallSeat] | None = None
    best_score: tuple[int, int, float, int] | None = None
    for run in runs:
        for start in range(len(run) - size + 1):
            window = list(run[start : start + size])
            score = _window_score(window, centres)
            if best_score is None or score < best_score:
                best, best_score = window, score
    return best


def pick_best(
    free: Sequence[HallSeat], count: int, centres: Mapping[RowKey, float]
) -> list[HallSeat] | None:
    """`count` best free seats, adjacent where possible; None if fewer are free."""
    if count < 1 or len(free) < count:
        return None
    picked: list[HallSeat] = []
    remaining = list(free)
    while len(picked) < count:
        need = count - len(picked)
        runs = _runs(remaining)
        window = _best_window(runs, need, centres)
        if window is None:
            # No run holds the rest of the party: take the longest run whole (fewest
            # groups); among runs of that length, the best-placed one.
            longest = max(len(r) for r in runs)
            window = _best_window([r for r in runs if len(r) == longest], longest, centres)
        assert window is not None  # a run of `longest` seats is itself a window
        picked.extend(window)
        taken = {s.id for s in window}
        remaining = [s for s in remaining if s.id not in taken]
    return sorted(picked, key=lambda s: (s.section_id, s.row_nr, s.seat_nr))


def pick_best_in_one_row(
    rows: Iterable[Sequence[HallSeat]], count: int, centres: Mapping[RowKey, float]
) -> list[HallSeat] | None:
    """pick_best's answer when some row can seat the whole party together, found by
    walking the rows front to back: `rows` are the free seats of each row, the rows in
    (section, row) order and each by seat number. The section and the row come first in a
    window's score, so the first row with `count` free seats in a run holds the best
    window of all, and no row behind it is looked at. None when no row has such a run:
    then the party is split, and pick_best over every free seat decides."""
    if count < 1:
        return None
    for row in rows:
        if len(row) >= count:
            window = _best_window(_runs(row), count, centres)
            if window is not None:
                return window
    return None
