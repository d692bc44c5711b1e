"""The public catalog as the WordPress plugins and scrapers request and parse it."""

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from tests.conftest import Client, new_client
from tests.public.clients import (
    NO_VIEW_END,
    agency_start_end,
    official_on_sale,
    php_datetime,
    php_float,
)
from tests.public.conftest import (
    CATALOG,
    EMPTY,
    ENDED,
    HALL,
    HAMLET,
    HIDDEN,
    MAX_TICKETS,
    NOT_ON_SALE,
    ON_SALE,
    OUTDOOR,
    PARK,
    PARK_PLACES,
    PARKFEEST,
    TIMEZONE,
    VIEW_END,
    WITHDRAWN,
    get_json,
    public,
)

pytestmark = pytest.mark.usefixtures("venue")


def catalog_event(event_id: int) -> dict[str, Any]:
    for production in CATALOG["productions"]:
        for event in production["events"]:
            if event["eventId"] == event_id:
                return dict(event)
    raise KeyError(event_id)


def instant(value: str) -> datetime:
    parsed = datetime.fromisoformat(value)
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=ZoneInfo(TIMEZONE))


def subs(main_events: list[dict[str, Any]]) -> dict[int, dict[str, Any]]:
    return {sub["event_id"]: sub for main in main_events for sub in main["sub_events"]}


def test_the_agency_plugin_imports_every_main_event_with_its_sub_events(
    http: TestClient, venue: Client
) -> None:
    # Its Client.php: GET {base}/{client}/events, keep objects with event_id and sub_events.
    body = get_json(http, f"{public(venue)}/events")
    kept = [main for main in body if "event_id" in main and main["sub_events"]]
    assert [main["event_id"] for main in kept] == [HAMLET, PARKFEEST]
    assert [main["event_id"] for main in body] == [HAMLET, PARKFEEST]  # EMPTY has none
    listed = subs(body)
    assert list(listed) == [ENDED, ON_SALE, NOT_ON_SALE, WITHDRAWN, VIEW_END, OUTDOOR]
    for event_id, sub in listed.items():
        start, end = agency_start_end(sub, TIMEZONE)
        source = catalog_event(event_id)
        assert start == instant(source["start"]), sub
        expected_end = instant(source.get("viewEnd") or source["end"])
        assert end == expected_end, sub
        assert sub["event_rep"] == "sub"
        assert sub["event_main_id"] in (HAMLET, PARKFEEST)


def test_local_dates_and_times_across_summer_time(http: TestClient, venue: Client) -> None:
    listed = subs(get_json(http, f"{public(venue)}/events"))
    on_sale, matinee, outdoor = listed[ON_SALE], listed[NOT_ON_SALE], listed[OUTDOOR]
    assert (on_sale["event_date"], on_sale["event_time"], on_sale["event_end"]) == (
        "2031-03-30",
        "20:15:00",
        "22:45:00",
    )
    assert (matinee["event_date"], matinee["event_time"]) == ("2031-10-26", "14:30:00")
    # Across midnight: the end is a time of the next day; clients add the day.
    assert (outdoor["event_date"], outdoor["event_time"], outdoor["event_end"]) == (
        "2031-06-21",
        "21:00:00",
        "01:00:00",
    )
    assert php_datetime("2031-06-21 21:00:00", TIMEZONE).utcoffset() is not None
    assert on_sale["event_view_end"] == NO_VIEW_END
    assert listed[VIEW_END]["event_view_end"] == "2031-12-31 23:59:00"


def test_statuses_and_what_the_official_plugin_offers(http: TestClient, venue: Client) -> None:
    body = get_json(http, f"{public(venue)}/events")
    statuses = {event_id: sub["event_status"] for event_id, sub in subs(body).items()}
    assert statuses == {
        ENDED: "arch",
        ON_SALE: "pub",
        NOT_ON_SALE: "nosal",
        WITHDRAWN: "trash",
        VIEW_END: "pub",
        OUTDOOR: "pub",
    }
    assert official_on_sale(body) == [ON_SALE, VIEW_END, OUTDOOR]


def test_event_free_is_censored_to_what_one_order_may_take(http: TestClient, venue: Client) -> None:
    listed = subs(get_json(http, f"{public(venue)}/events"))
    free = {event_id: sub["event_free"] for event_id, sub in listed.items()}
    # 10 seats on sale, at most 4 per order; 3 places in the park, at most 10 per order.
    assert free == {
        ENDED: 0,
        ON_SALE: MAX_TICKETS,
        NOT_ON_SALE: 0,
        WITHDRAWN: 0,
        VIEW_END: 10,
        OUTDOOR: PARK_PLACES,
    }
    # Two park places held in a Peppered cart: one left to sell.
    cart = http.post(f"{venue.base}/cart", headers=venue.auth).json()["cartId"]
    held = http.post(
        f"{venue.base}/cart/{cart}",
        json=[{"priceId": "PARK", "rankId": 3, "numberOfTickets": 2}],
        headers=venue.auth,
    )
    assert held.status_code == 200, held.text
    outdoor = get_json(http, f"{public(venue)}/events/{OUTDOOR}")[0]["sub_events"][0]
    assert outdoor["event_free"] == 1


def test_texts_images_and_types_fall_back_to_the_production(
    http: TestClient, venue: Client
) -> None:
    body = get_json(http, f"{public(venue)}/events")
    hamlet = body[0]
    assert hamlet["event_text"] == "Shakespeares tragedie over de Deense prins."
    assert hamlet["event_short_text"] == "Toneel in de Grote Zaal"
    assert hamlet["event_image"] == "https://schouwburcht.example.nl/img/hamlet.jpg"
    assert hamlet["event_type"] == ["toneel", "klassiek"]
    listed = subs(body)
    on_sale = listed[ON_SALE]
    assert on_sale["event_name"] == f"Hamlet {ON_SALE}"
    assert on_sale["event_text"] == hamlet["event_text"]
    assert on_sale["event_short_text"] == "Première"
    assert on_sale["event_url"] == "https://schouwburcht.example.nl/programma/101"
    assert on_sale["event_image"] == hamlet["event_image"]
    assert on_sale["event_type"] == ["toneel", "klassiek"]
    assert on_sale["location_id"] == HALL
    assert on_sale["location_name"] == "Grote Zaal"
    matinee = listed[NOT_ON_SALE]
    # A path of the app itself (its posters) is answered absolute, on the request's host.
    assert matinee["event_image"] == "http://127.0.0.1/media/posters/matinee.svg"
    assert matinee["event_type"] == ["toneel", "familie"]
    assert matinee["event_url"] is None
    assert listed[VIEW_END]["event_text"] == "Oudejaarsvoorstelling met een extra scène."
    park = body[1]
    assert park["event_text"] is None and park["event_image"] is None
    assert park["event_type"] == ["festival"]  # the events' eventType, without eventTypes
    assert listed[OUTDOOR]["event_type"] == ["festival"]
    assert listed[OUTDOOR]["location_id"] == PARK


def test_a_scraper_reads_sub_events_and_base_price(http: TestClient, venue: Client) -> None:
    main = get_json(http, f"{public(venue)}/events/{HAMLET}")
    assert len(main) == 1 and main[0]["event_id"] == HAMLET
    assert [sub["event_id"] for sub in main[0]["sub_events"]] == [
        ENDED,
        ON_SALE,
        NOT_ON_SALE,
        WITHDRAWN,
        VIEW_END,
    ]
    types = get_json(http, f"{public(venue)}/tickettypes/{ON_SALE}")
    assert php_float(types[0]["base_price"]) == 34.5
    by_id = {t["discount_id"]: t for t in types}
    assert set(by_id) == {f"R1-{ON_SALE}", f"C1-{ON_SALE}", f"R2-{ON_SALE}"}
    cjp = by_id[f"C1-{ON_SALE}"]
    assert cjp == {
        "discount_id": f"C1-{ON_SALE}",
        "discount_name": "CJP",
        "base_price": "34.50",
        "discount_type": "=",
        "discount_value": "21.50",
        "discounted_price": "21.50",
    }
    assert php_float(by_id[f"R2-{ON_SALE}"]["base_price"]) == 26.0
    assert by_id[f"R2-{ON_SALE}"]["discounted_price"] == "26.00"
    for ticket_type in types:
        for field in ("base_price", "discount_value", "discounted_price"):
            assert php_float(ticket_type[field]) == float(ticket_type[field])
            assert ticket_type[field].count(".") == 1
            assert len(ticket_type[field].split(".")[1]) == 2


def test_a_sub_event_comes_inside_its_main_event(http: TestClient, venue: Client) -> None:
    body = get_json(http, f"{public(venue)}/events/{NOT_ON_SALE}")
    assert [main["event_id"] for main in body] == [HAMLET]
    assert [sub["event_id"] for sub in body[0]["sub_events"]] == [NOT_ON_SALE]
    # Asked for by id, an event past its viewEnd and a main event without any still answer.
    hidden = get_json(http, f"{public(venue)}/events/{HIDDEN}")
    assert hidden[0]["sub_events"][0]["event_status"] == "arch"
    assert hidden[0]["sub_events"][0]["event_view_end"] == "2020-02-02 12:00:00"
    empty = get_json(http, f"{public(venue)}/events/{EMPTY}")
    assert empty == [
        {
            "event_id": EMPTY,
            "event_name": "Nog geen data",
            "event_text": None,
            "event_short_text": None,
            "event_image": None,
            "event_type": [],
            "sub_events": [],
        }
    ]


def test_upcoming_has_only_sub_events_still_to_start(http: TestClient, venue: Client) -> None:
    body = get_json(http, f"{public(venue)}/events/upcoming")
    assert [
        (main["event_id"], [sub["event_id"] for sub in main["sub_events"]]) for main in body
    ] == [(HAMLET, [ON_SALE, NOT_ON_SALE, VIEW_END]), (PARKFEEST, [OUTDOOR])]


@pytest.mark.parametrize(
    ("path", "message"),
    [
        ("/events/999", "Event not found"),
        ("/events/abc", "Event not found"),
        ("/events/0", "Event not found"),
        ("/events/99999999999999999999", "Event not found"),
        ("/events/-1", "Event not found"),
        ("/tickettypes/999", "sub_event not found"),
        (f"/tickettypes/{HAMLET}", "sub_event not found"),
        ("/tickettypes/x", "sub_event not found"),
        ("/locations/999", "Location not found"),
        ("/no-such-thing", "Not found."),
    ],
)
def test_unknown_ids_are_404(http: TestClient, venue: Client, path: str, message: str) -> None:
    response = http.get(f"{public(venue)}{path}")
    assert response.status_code == 404
    assert response.json() == {"message": message}


def test_an_unknown_client_is_the_404_of_an_unknown_path(http: TestClient) -> None:
    for path in ("/v1/nobody-here/events", "/v1/nobody-here/events/1", "/v1/NOT%20A%20NAME/events"):
        response = http.get(path)
        assert response.status_code == 404
        assert response.json() == {"message": "Not found."}


def test_another_clients_ids_are_404(http: TestClient, engine: Engine, venue: Client) -> None:
    other = new_client(engine)
    for path, message in (
        (f"/events/{HAMLET}", "Event not found"),
        (f"/events/{ON_SALE}", "Event not found"),
        (f"/tickettypes/{ON_SALE}", "sub_event not found"),
        (f"/locations/{HALL}", "Location not found"),
    ):
        response = http.get(f"{public(other)}{path}")
        assert response.status_code == 404, path
        assert response.json() == {"message": message}
    assert get_json(http, f"{public(other)}/events") == []
    assert get_json(http, f"{public(other)}/locations") == []
    assert get_json(http, f"{public(other)}/eventtypes") == []
    assert get_json(http, f"{public(other)}/paymentmethods") == []


def test_locations(http: TestClient, venue: Client) -> None:
    body = get_json(http, f"{public(venue)}/locations")
    assert body == [
        {
            "location_id": HALL,
            "location_name": "Grote Zaal",
            "location_address": "Schouwburgplein 12",
            "location_zip": "1012 WX",
            "location_city": "Amsterdam",
            "location_country": None,
            "location_phone": "0201234567",
            "location_url": "https://schouwburcht.example.nl",
        },
        {
            "location_id": PARK,
            "location_name": "Wilgenpark",
            "location_address": None,
            "location_zip": None,
            "location_city": "Amsterdam",
            "location_country": None,
            "location_phone": None,
            "location_url": None,
        },
    ]
    assert get_json(http, f"{public(venue)}/locations/{PARK}") == [body[1]]


def test_event_types_and_the_main_events_of_one(http: TestClient, venue: Client) -> None:
    body = get_json(http, f"{public(venue)}/eventtypes")
    assert body == [
        {"eventtype_name": name} for name in ("familie", "festival", "klassiek", "toneel")
    ]
    family = get_json(http, f"{public(venue)}/eventtypes/familie")
    assert [(m["event_id"], [s["event_id"] for s in m["sub_events"]]) for m in family] == [
        (HAMLET, [NOT_ON_SALE])
    ]
    classical = get_json(http, f"{public(venue)}/eventtypes/klassiek")
    assert [(m["event_id"], [s["event_id"] for s in m["sub_events"]]) for m in classical] == [
        (HAMLET, [ENDED, ON_SALE, WITHDRAWN, VIEW_END])
    ]
    assert get_json(http, f"{public(venue)}/eventtypes/festival")[0]["event_id"] == PARKFEEST
    assert get_json(http, f"{public(venue)}/eventtypes/opera") == []


def test_payment_methods_offered_online(http: TestClient, venue: Client) -> None:
    assert get_json(http, f"{public(venue)}/paymentmethods") == [
        {"payment_id": 1, "payment_desc": "iDEAL", "payment_cost": "0.35"},
        {"payment_id": 2, "payment_desc": "Factuur", "payment_cost": "2.50"},
    ]
    # The box office still sees every method.
    response = http.get(f"{venue.base}/paymentmethods", headers=venue.auth)
    assert response.status_code == 200, response.text
    assert len(response.json()) == 3


def test_no_key_is_needed_and_any_key_is_ignored(http: TestClient, venue: Client) -> None:
    plain = get_json(http, f"{public(venue)}/events")
    for headers in (
        {"Authorization": "bo_nonsense"},
        {"Authorization": "Bearer x"},
        {"Authorization": venue.key},
    ):
        response = http.get(f"{public(venue)}/events", headers=headers)
        assert response.status_code == 200
        assert response.json() == plain
    # The Peppered API of the same client still wants its key.
    assert http.get(f"{venue.base}/event").status_code == 401
