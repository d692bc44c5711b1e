"""The server's clock: now as UTC microseconds, the one place Python reads the time."""

from collections.abc import Callable
from datetime import UTC, datetime

from boxoffice.server.values.instants import instant_to_micros

# What reads the time, for code that takes a clock so that tests can set it.
Clock = Callable[[], int]


def now_micros() -> int:
    return instant_to_micros(datetime.now(UTC))
