"""The public API read as the PHP clients read it: the WordPress plugins and the scrapers.

PHP's `DateTime::createFromFormat('Y-m-d H:i:s', ..., new DateTimeZone(...))` and its
`(float)` cast, written out in Python so that the tests parse answers exactly that way.
"""

import re
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

NO_VIEW_END = "0000-00-00 00:00:00"
_PHP_FLOAT = re.compile(r"^\s*[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?")


def php_datetime(value: str, tz: str) -> datetime:
    """createFromFormat('Y-m-d H:i:s', value, tz): the whole string, exactly that shape."""
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}", value), value
    return datetime.strptime(value, "%Y-%m-%d %H:%M:%S").replace(tzinfo=ZoneInfo(tz))


def php_float(value: Any) -> float:
    """(float) $value of a string: the leading number, 0.0 when there is none."""
    assert isinstance(value, str), value
    match = _PHP_FLOAT.match(value)
    return float(match.group(0)) if match else 0.0


def agency_start_end(sub: dict[str, Any], tz: str) -> tuple[datetime, datetime]:
    """The agency plugin's start and end of a sub-event: date + time, date + end (a day later
    when that is before the start), or event_view_end when it is set and after the start."""
    start = php_datetime(f"{sub['event_date']} {sub['event_time']}", tz)
    end = php_datetime(f"{sub['event_date']} {sub['event_end']}", tz)
    if sub["event_view_end"] != NO_VIEW_END:
        view_end = php_datetime(sub["event_view_end"], tz)
        if view_end > start:
            end = view_end
    if end < start:
        end += timedelta(days=1)
    return start, end


def official_on_sale(main_events: list[dict[str, Any]]) -> list[int]:
    """The official plugin's date buttons: the sub-events with event_status 'pub'."""
    return [
        sub["event_id"]
        for main in main_events
        for sub in main["sub_events"]
        if sub["event_status"] == "pub"
    ]
