"""changedSince (inclusive) and changedUntil (exclusive): every input form, to the microsecond."""

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from tests.builders import at, building
from tests.conftest import Client, new_client
from tests.exports.conftest import ids, post_export, records

ONE_MICROSECOND = 1


def customers_at(engine: Engine, client: Client, *stamps: int) -> list[int]:
    with building(engine, client.tenant.id) as b:
        return [b.customer(changed_at=stamp) for stamp in stamps]


def since(http: TestClient, client: Client, value: str, **more: str) -> list[int]:
    return ids(
        post_export(http, client, "customers", {"changedSince": value, **more}), "customerId"
    )


def test_inclusive_at_the_exact_microsecond(
    http: TestClient, engine: Engine, client: Client
) -> None:
    t = at("2026-04-22T13:08:55.123456+02:00")
    before, exact, after = customers_at(engine, client, t - 1, t, t + 1)
    assert since(http, client, "2026-04-22T13:08:55.123456+02:00") == [exact, after]
    assert since(http, client, "2026-04-22T11:08:55.123456Z") == [exact, after]
    assert since(http, client, "2026-04-22T13:08:55.123455+02:00") == [before, exact, after]
    assert since(http, client, "2026-04-22T13:08:55.123457+02:00") == [after]


def test_a_date_is_midnight_in_the_clients_zone(
    http: TestClient, engine: Engine, client: Client
) -> None:
    # Midnight of 22 April in Amsterdam (summer time) is 22:00 UTC the day before.
    midnight = at("2026-04-21T22:00:00+00:00")
    early, on_time, utc_midnight = customers_at(
        engine, client, midnight - 1, midnight, at("2026-04-22T00:00:00+00:00")
    )
    assert since(http, client, "2026-04-22") == [on_time, utc_midnight]
    # A date-time without offset is read in the client's zone too: the same instant.
    assert since(http, client, "2026-04-22T00:00:00") == [on_time, utc_midnight]
    assert since(http, client, "2026-04-22T00:00") == [on_time, utc_midnight]
    assert since(http, client, "2026-04-22 00:00:00") == [on_time, utc_midnight]
    # With Z (either case) or an offset it is that instant, wherever the client is.
    assert since(http, client, "2026-04-22T00:00:00Z") == [utc_midnight]
    assert since(http, client, "2026-04-22T00:00:00z") == [utc_midnight]
    assert since(http, client, "2026-04-22T00:00:00+00:00") == [utc_midnight]
    assert since(http, client, "2026-04-21T23:59:59.999999+02:00") == [early, on_time, utc_midnight]


@pytest.mark.parametrize(
    ("day", "utc_midnight"),
    [
        # Summer time starts at 02:00 on 29 March 2026: that midnight is still +01:00.
        ("2026-03-29", "2026-03-28T23:00:00+00:00"),
        # Summer time ends at 03:00 on 25 October 2026: that midnight is still +02:00.
        ("2026-10-25", "2026-10-24T22:00:00+00:00"),
        # The day after each change has the new offset.
        ("2026-03-30", "2026-03-29T22:00:00+00:00"),
        ("2026-10-26", "2026-10-25T23:00:00+00:00"),
    ],
)
def test_dates_on_daylight_saving_days(
    http: TestClient, engine: Engine, client: Client, day: str, utc_midnight: str
) -> None:
    midnight = at(utc_midnight)
    _early, on_time = customers_at(engine, client, midnight - 1, midnight)
    assert since(http, client, day) == [on_time]


def test_naive_times_on_the_autumn_change_day_take_the_first_occurrence(
    http: TestClient, engine: Engine, client: Client
) -> None:
    # 02:30 happens twice on 25 October 2026 in Amsterdam: first at +02:00 (00:30 UTC).
    first = at("2026-10-25T00:30:00+00:00")
    _before, at_first, at_second = customers_at(
        engine, client, first - 1, first, first + 3600_000_000
    )
    assert since(http, client, "2026-10-25T02:30:00") == [at_first, at_second]


def test_naive_times_that_do_not_exist_take_the_offset_before_the_change(
    http: TestClient, engine: Engine, client: Client
) -> None:
    # 02:30 never happens on 29 March 2026 in Amsterdam; read with +01:00 it is 01:30 UTC.
    instant = at("2026-03-29T01:30:00+00:00")
    _before, on_time = customers_at(engine, client, instant - 1, instant)
    assert since(http, client, "2026-03-29T02:30:00") == [on_time]


def test_a_client_in_another_zone(http: TestClient, engine: Engine) -> None:
    client = new_client(engine, timezone="America/New_York")
    # 8 March 2026 is the US spring-forward day; its midnight is still EST (-05:00).
    midnight = at("2026-03-08T05:00:00+00:00")
    _early, on_time = customers_at(engine, client, midnight - 1, midnight)
    response = post_export(http, client, "customers", {"changedSince": "2026-03-08"})
    [record] = records(response)
    assert record["customerId"] == on_time
    # Rendered in the client's zone, with its offset.
    assert record["lastChanged"] == "2026-03-08T00:00:00-05:00"
    assert response.headers["x-sync-watermark"].endswith(("-05:00", "-04:00"))
    assert since(http, client, "2026-03-08T00:00:00") == [on_time]
    assert since(http, client, "2026-03-08T05:00:00Z") == [on_time]


def test_changed_until_is_exclusive(http: TestClient, engine: Engine, client: Client) -> None:
    t = at("2026-06-01T00:00:00+02:00")
    first, last_before, exact = customers_at(engine, client, t - 86_400_000_000, t - 1, t)
    body = {"changedUntil": "2026-06-01"}
    assert ids(post_export(http, client, "customers", body), "customerId") == [first, last_before]
    assert since(http, client, "2026-05-31T23:59:59.999999", changedUntil="2026-06-01") == [
        last_before
    ]
    assert since(http, client, "2026-05-01", changedUntil="2026-06-01T00:00:00.000001") == [
        first,
        last_before,
        exact,
    ]


def test_no_body_empty_body_and_empty_object_mean_everything(
    http: TestClient, engine: Engine, client: Client
) -> None:
    everyone = customers_at(
        engine, client, at("2001-01-01T00:00:00+00:00"), at("2026-01-01T00:00:00+00:00")
    )
    url = f"{client.base}/export/customers"
    for content in (None, b"", b"  \n", b"{}", b'{"changedSince": null}'):
        response = http.post(url, content=content, headers=client.auth)
        assert [r["customerId"] for r in records(response)] == everyone, content
    # Whatever the Content-Type says (curl -d sends a form type), the body is read as JSON.
    form = {**client.auth, "Content-Type": "application/x-www-form-urlencoded"}
    response = http.post(url, content=b'{"changedSince":"2020-01-01"}', headers=form)
    assert [r["customerId"] for r in records(response)] == everyone[1:]
