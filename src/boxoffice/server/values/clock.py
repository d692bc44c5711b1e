"""The server's clock: now as UTC microseconds, the one place Python reads the time."""

from datetime import UTC, datetime

from boxoffice.server.values.instants import instant_to_micros


def now_micros() -> int:
    return instant_to_micros(datetime.now(UTC))
