"""Instants as the API writes them: the fast paths give datetime.isoformat's text."""

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from boxoffice.server.values.rendering import instant_renderer, render_instant

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
# Whole-hour, half-hour and 45-minute offsets, DST north and south, and local mean time.
ZONES = [
    ZoneInfo(name)
    for name in (
        "Europe/Amsterdam",
        "America/New_York",
        "Asia/Kolkata",
        "Asia/Kathmandu",
        "Australia/Lord_Howe",
        "Pacific/Chatham",
        "America/St_Johns",
        "Africa/Monrovia",
        "America/Sao_Paulo",
        "UTC",
    )
]
# 1850 to 2100, in microseconds.
INSTANTS = st.integers(min_value=-3_786_825_600_000_000, max_value=4_102_444_800_000_000)


def isoformat(micros: int, tz: ZoneInfo) -> str:
    return (EPOCH + timedelta(microseconds=micros)).astimezone(tz).isoformat(timespec="seconds")


@settings(max_examples=3000, deadline=None)
@given(micros=INSTANTS, zone=st.sampled_from(ZONES))
def test_render_instant_is_isoformat(micros: int, zone: ZoneInfo) -> None:
    assert render_instant(micros, zone) == isoformat(micros, zone)


@settings(max_examples=3000, deadline=None)
@given(micros=st.none() | INSTANTS, zone=st.sampled_from(ZONES))
def test_the_renderer_of_one_zone_is_isoformat_and_keeps_none(
    micros: int | None, zone: ZoneInfo
) -> None:
    expected = None if micros is None else isoformat(micros, zone)
    assert instant_renderer(zone)(micros) == expected


def test_a_zone_has_one_renderer() -> None:
    zone = ZoneInfo("Europe/Amsterdam")
    assert instant_renderer(zone) is instant_renderer(ZoneInfo("Europe/Amsterdam"))


def test_instants_on_either_side_of_a_change_of_offset() -> None:
    amsterdam = ZoneInfo("Europe/Amsterdam")
    render = instant_renderer(amsterdam)
    change = int((datetime(2026, 10, 25, 1, tzinfo=UTC) - EPOCH).total_seconds()) * 1_000_000
    for delta in (-3_600_000_001, -1, 0, 1, 1_799_999_999):
        assert render(change + delta) == isoformat(change + delta, amsterdam)
    assert render(change - 1) == "2026-10-25T02:59:59+02:00"
    assert render(change) == "2026-10-25T02:00:00+01:00"
