"""Weighted picks and random instants, cheaper than `random.choices` for one value at a time.

The demo draws a few million values; `random.choices` builds a list per call, which made it
the generator's largest cost.
"""

import random
from bisect import bisect
from collections.abc import Iterable, Sequence
from itertools import accumulate
from typing import TypeVar

T = TypeVar("T")


def cumulative(weights: Iterable[float]) -> list[float]:
    return list(accumulate(weights))


def pick(rng: random.Random, items: Sequence[T], cum_weights: Sequence[float]) -> T:
    """One of `items`, chosen with the given cumulative weights."""
    return items[bisect(cum_weights, rng.random() * cum_weights[-1])]


def between(rng: random.Random, low: int, high: int) -> int:
    """An integer in [low, high] (microsecond instants: spans far below 2**53)."""
    return low + int(rng.random() * (high - low + 1))
