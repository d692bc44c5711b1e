"""The demo generator: consistent data, places never sold twice, reruns, determinism."""

import io
import re
import uuid
from typing import Any
from urllib.parse import urlsplit

import pytest
from fastapi.testclient import TestClient
from rich.console import Console
from sqlalchemy import Engine, text

from boxoffice.demo.catalog import SCALES, Scale
from boxoffice.demo.generator import DEMO_TODAY, create_demo
from boxoffice.server.errors import InvalidInput
from boxoffice.server.tenancy.keys import key_prefix
from boxoffice.server.values.instants import instant_to_micros

# Few events and many orders: events sell out, buyers move to other events, places run out.
DENSE = Scale(
    name="dense",
    customers=300,
    orders=2_400,
    waiting=200,
    client_types=12,
    events=(2, 2, 2),
    park_capacity=(300, 80, 20),
)
NOW = instant_to_micros(DEMO_TODAY)
LIVE = "('ord', 'reemit', 'reissue', 'res', 'pros')"


def quiet() -> Console:
    return Console(file=io.StringIO(), width=200)


def new_name() -> str:
    return f"demo-{uuid.uuid4().hex[:10]}"


def tenant_id(engine: Engine, name: str) -> int:
    with engine.connect() as conn:
        found = conn.execute(text("SELECT id FROM clients WHERE name = :n"), {"n": name})
        return int(found.scalar_one())


def scalar(engine: Engine, sql: str, tenant: int) -> Any:
    with engine.connect() as conn:
        return conn.execute(text(sql), {"t": tenant}).scalar_one()


def rows(engine: Engine, sql: str, tenant: int) -> list[tuple[Any, ...]]:
    with engine.connect() as conn:
        return [tuple(r) for r in conn.execute(text(sql), {"t": tenant})]


@pytest.fixture(scope="module")
def dense(engine: Engine) -> int:
    """A dense demo client, generated once per database (the checks below only read it)."""
    name = new_name()
    create_demo(engine, client=name, scale=DENSE, seed=7, console=quiet())
    return tenant_id(engine, name)


def test_counts(engine: Engine, dense: int) -> None:
    t = dense
    assert scalar(engine, "SELECT count(*) FROM customers WHERE tenant_id = :t", t) == 300
    orders = scalar(engine, "SELECT count(*) FROM orders WHERE tenant_id = :t", t)
    assert 1_500 < orders <= 2_400  # buyers who find everything sold out buy nothing
    seats = scalar(engine, "SELECT count(*) FROM order_seats WHERE tenant_id = :t", t)
    assert 2.0 < seats / orders < 3.2
    removed = scalar(
        engine,
        "SELECT count(*) FROM order_seats WHERE tenant_id = :t AND deleted_at IS NOT NULL",
        t,
    )
    assert 0.01 < removed / seats < 0.06
    waiting = scalar(engine, "SELECT count(*) FROM waiting_list_entries WHERE tenant_id = :t", t)
    assert 100 < waiting <= 200
    assert scalar(engine, "SELECT count(*) FROM events WHERE tenant_id = :t", t) == 6
    assert scalar(engine, "SELECT count(*) FROM client_types WHERE tenant_id = :t", t) == 12
    assert scalar(engine, "SELECT count(*) FROM customer_tags WHERE tenant_id = :t", t) > 100
    statuses = dict(
        rows(engine, "SELECT status, count(*) FROM orders WHERE tenant_id = :t GROUP BY status", t)
    )
    assert statuses["ord"] > 0.8 * orders and statuses["cancel"] > 0 and statuses["trash"] > 0


def test_amount_is_current_seats_plus_donation_plus_fee(engine: Engine, dense: int) -> None:
    wrong = scalar(
        engine,
        "SELECT count(*) FROM orders o WHERE o.tenant_id = :t AND o.amount_cents <> "
        " o.fee_cents + o.donation_cents + COALESCE((SELECT sum(s.amount_cents) FROM order_seats s"
        "  WHERE s.order_id = o.id AND s.deleted_at IS NULL), 0)",
        dense,
    )
    assert wrong == 0
    assert (
        scalar(
            engine, "SELECT count(*) FROM orders WHERE tenant_id = :t AND donation_cents > 0", dense
        )
        > 0
    )


def test_timestamps_are_ordered_and_not_later_than_now(engine: Engine, dense: int) -> None:
    t = dense
    bad_orders = scalar(
        engine,
        "SELECT count(*) FROM orders WHERE tenant_id = :t AND NOT (created_at <= order_date_at"
        f" AND order_date_at <= last_changed_at AND last_changed_at <= {NOW})",
        t,
    )
    assert bad_orders == 0
    bad_seats = scalar(
        engine,
        "SELECT count(*) FROM order_seats s JOIN orders o ON o.id = s.order_id WHERE"
        f" s.tenant_id = :t AND NOT (s.deleted_at >= o.order_date_at AND s.deleted_at <= {NOW}"
        " AND s.deleted_at <= o.last_changed_at)",
        t,
    )
    assert bad_seats == 0
    bad_customers = scalar(
        engine,
        "SELECT count(*) FROM customers WHERE tenant_id = :t AND NOT (created_at <= last_changed_at"
        f" AND last_changed_at <= {NOW})",
        t,
    )
    assert bad_customers == 0
    # An order's customer existed when the order was placed.
    assert (
        scalar(
            engine,
            "SELECT count(*) FROM orders o JOIN customers c ON c.id = o.customer_id"
            " WHERE o.tenant_id = :t AND c.created_at > o.created_at",
            t,
        )
        == 0
    )


def test_statuses_and_payments_are_consistent(engine: Engine, dense: int) -> None:
    combos = set(
        rows(
            engine, "SELECT DISTINCT status, payment_status FROM orders WHERE tenant_id = :t", dense
        )
    )
    allowed = {
        ("ord", "paid"), ("ord", "none"), ("ord", "partial"), ("cancel", "refund"),
        ("cancel", "none"), ("res", "none"), ("pros", "none"), ("trash", "none"),
    }  # fmt: skip
    assert combos <= allowed
    assert ("ord", "paid") in combos and ("cancel", "refund") in combos
    # A time-out belongs to reservations, and every reservation has one.
    assert (
        scalar(
            engine,
            "SELECT count(*) FROM orders WHERE tenant_id = :t"
            " AND (time_out_at IS NULL) <> (status <> 'res')",
            dense,
        )
        == 0
    )
    # The fee and the label come from the payment method.
    assert (
        scalar(
            engine,
            "SELECT count(*) FROM orders o LEFT JOIN payment_methods m ON m.tenant_id = o.tenant_id"
            " AND m.payment_method_id = o.payment_method_id WHERE o.tenant_id = :t AND"
            " (o.fee_cents <> COALESCE(m.fee_cents, 0)"
            " OR COALESCE(o.handling_text, '') <> COALESCE(m.name, ''))",
            dense,
        )
        == 0
    )
    anonymous = scalar(
        engine, "SELECT count(*) FROM orders WHERE tenant_id = :t AND customer_id IS NULL", dense
    )
    assert anonymous > 0
    channels = {
        c
        for (c,) in rows(engine, "SELECT DISTINCT channel FROM orders WHERE tenant_id = :t", dense)
    }
    assert channels == {"www", "sp"}


def test_claims_match_live_seats_exactly(engine: Engine, dense: int) -> None:
    t = dense
    live_seats = rows(
        engine,
        "SELECT s.id FROM order_seats s JOIN orders o ON o.id = s.order_id WHERE s.tenant_id = :t"
        f" AND s.deleted_at IS NULL AND o.status IN {LIVE} ORDER BY s.id",
        t,
    )
    claimed = rows(
        engine,
        "SELECT order_seat_id FROM place_claims WHERE tenant_id = :t ORDER BY order_seat_id",
        t,
    )
    assert claimed == live_seats and len(claimed) > 1_000
    assert (
        scalar(
            engine,
            "SELECT count(*) FROM place_claims WHERE tenant_id = :t AND (cart_item_id IS NOT NULL"
            " OR expires_at IS NOT NULL)",
            t,
        )
        == 0
    )
    # The claim is the seat's place: same event and rank, key from the hall seat or the unit.
    mismatched = rows(
        engine,
        "SELECT c.place_key, s.hall_seat_id FROM place_claims c JOIN order_seats s"
        " ON s.id = c.order_seat_id WHERE c.tenant_id = :t AND (c.event_id <> s.event_id"
        " OR c.rank_id <> s.rank_id)",
        t,
    )
    assert mismatched == []
    for key, hall_seat_id in rows(
        engine,
        "SELECT c.place_key, s.hall_seat_id FROM place_claims c JOIN order_seats s"
        " ON s.id = c.order_seat_id WHERE c.tenant_id = :t",
        t,
    ):
        if hall_seat_id is None:
            assert re.fullmatch(r"u\d+:\d+", key), key
        else:
            assert key == f"s{hall_seat_id}"


def test_no_place_is_sold_twice_and_blocked_places_are_not_sold(engine: Engine, dense: int) -> None:
    t = dense
    twice = rows(
        engine,
        "SELECT s.event_id, s.hall_seat_id FROM order_seats s JOIN orders o ON o.id = s.order_id"
        f" WHERE s.tenant_id = :t AND s.deleted_at IS NULL AND o.status IN {LIVE}"
        " AND s.hall_seat_id IS NOT NULL GROUP BY s.event_id, s.hall_seat_id HAVING count(*) > 1",
        t,
    )
    assert twice == []
    blocked_sold = scalar(
        engine,
        "SELECT count(*) FROM order_seats s JOIN event_blocks b ON b.tenant_id = s.tenant_id"
        " AND b.event_id = s.event_id AND b.hall_seat_id = s.hall_seat_id WHERE s.tenant_id = :t",
        t,
    )
    assert blocked_sold == 0
    # Units of unreserved events are numbered 1..(capacity - blocked).
    highest: dict[tuple[int, int], int] = {}
    for event_id, rank_id, key in rows(
        engine,
        "SELECT event_id, rank_id, place_key FROM place_claims WHERE tenant_id = :t"
        " AND place_key LIKE 'u%'",
        t,
    ):
        rank, unit = key[1:].split(":")
        assert int(rank) == rank_id and int(unit) >= 1
        highest[(event_id, rank_id)] = max(highest.get((event_id, rank_id), 0), int(unit))
    sellable = {
        (event_id, rank_id): places - blocked
        for event_id, rank_id, places, blocked in rows(
            engine,
            "SELECT c.event_id, c.rank_id, c.places, COALESCE((SELECT sum(b.places)"
            " FROM event_blocks b WHERE b.tenant_id = c.tenant_id AND b.event_id = c.event_id"
            " AND b.rank_id = c.rank_id), 0) FROM event_capacities c WHERE c.tenant_id = :t",
            t,
        )
    }
    assert highest and all(unit <= sellable[place] for place, unit in highest.items())
    # Places ran out somewhere: the dense demo really tests that they are never sold twice.
    assert any(unit == sellable[place] for place, unit in highest.items())


def test_seats_carry_their_place_and_price(engine: Engine, dense: int) -> None:
    t = dense
    # Reserved: row and seat of the hall seat; unreserved: no row, no seat, no hall seat.
    assert (
        scalar(
            engine,
            "SELECT count(*) FROM order_seats s JOIN events e ON e.tenant_id = s.tenant_id"
            " AND e.event_id = s.event_id LEFT JOIN hall_seats h ON h.id = s.hall_seat_id"
            " WHERE s.tenant_id = :t AND NOT ("
            "  (e.seating = 'reserved' AND h.row_nr = s.row_nr AND h.seat_nr = s.seat_nr"
            "   AND h.rank_id = s.rank_id AND h.hall_id = e.hall_id)"
            "  OR (e.seating = 'unreserved' AND s.hall_seat_id IS NULL AND s.row_nr IS NULL"
            "   AND s.seat_nr IS NULL))",
            t,
        )
        == 0
    )
    # Every seat has a price of its event and rank, at that price or discounted.
    assert (
        scalar(
            engine,
            "SELECT count(*) FROM order_seats s LEFT JOIN prices p ON p.tenant_id = s.tenant_id"
            " AND p.price_id = s.price_id WHERE s.tenant_id = :t AND (p.event_id IS NULL"
            " OR p.event_id <> s.event_id OR p.rank_id <> s.rank_id OR p.name <> s.price_name"
            " OR s.amount_cents > p.amount_cents)",
            t,
        )
        == 0
    )


def test_customers_look_real_and_are_unique(engine: Engine, dense: int) -> None:
    found = rows(
        engine,
        "SELECT email, email_key, salutation, phone, zip, country, first_name, last_name"
        " FROM customers WHERE tenant_id = :t AND erased_at IS NULL",
        dense,
    )
    emails = [r[0] for r in found]
    assert len(set(emails)) == len(emails)
    for email, email_key, salutation, phone, zip_code, country, first, last in found:
        assert email == email_key == email.lower()
        assert re.fullmatch(r"[a-z0-9.]+@example\.(nl|com|org)", email), email
        assert salutation in ("M", "F")
        assert phone is None or re.fullmatch(r"0\d{9}", phone), phone
        if country == "NL":
            assert re.fullmatch(r"[1-9]\d{3} [A-Z]{2}", zip_code), zip_code
        assert first and last


def test_waiting_list_types_and_notifications(engine: Engine, dense: int) -> None:
    found = rows(
        engine,
        "SELECT type, created_at, notified_at, last_changed_at, number_of_tickets"
        " FROM waiting_list_entries WHERE tenant_id = :t",
        dense,
    )
    types = {r[0] for r in found}
    assert {"waiting", "converted", "expired", "cancelled"} <= types
    for kind, created_at, notified_at, last_changed_at, tickets in found:
        if kind in ("notified", "converted", "expired"):
            assert notified_at is not None
        elif kind == "waiting":
            assert notified_at is None
        assert created_at <= (notified_at or created_at) <= last_changed_at <= NOW
        assert 1 <= tickets <= 20
    assert any(k == "cancelled" and n is not None for k, _c, n, _l, _t in found)
    assert any(k == "cancelled" and n is None for k, _c, n, _l, _t in found)
    duplicates = rows(
        engine,
        "SELECT customer_id, event_id FROM waiting_list_entries WHERE tenant_id = :t"
        " GROUP BY customer_id, event_id HAVING count(*) > 1",
        dense,
    )
    assert duplicates == []


def test_small_scale_through_create_demo_and_the_key_works(
    engine: Engine, http: TestClient
) -> None:
    name = new_name()
    key = create_demo(engine, client=name, scale="small", seed=2026, console=quiet())

    assert key_prefix(key) is not None
    t = tenant_id(engine, name)
    assert scalar(engine, "SELECT count(*) FROM customers WHERE tenant_id = :t", t) == 2_000
    assert 4_500 <= scalar(engine, "SELECT count(*) FROM orders WHERE tenant_id = :t", t) <= 5_000
    assert scalar(engine, "SELECT count(*) FROM halls WHERE tenant_id = :t", t) == 3
    assert scalar(engine, "SELECT count(*) FROM events WHERE tenant_id = :t", t) == sum(
        SCALES["small"].events
    )
    response = http.get(f"/v1/{name}/peppered/export/clienttypes", headers={"Authorization": key})
    assert response.status_code == 200
    assert len(response.json()) == 12


def test_a_rerun_returns_a_new_key_and_keeps_the_data(engine: Engine) -> None:
    name = new_name()
    first = create_demo(engine, client=name, scale=DENSE, seed=3, console=quiet())
    t = tenant_id(engine, name)
    before = snapshot(engine, t)
    console = quiet()

    second = create_demo(engine, client=name, scale=DENSE, seed=99, console=console)

    assert second != first and key_prefix(second) is not None
    assert snapshot(engine, t) == before
    assert "exists already" in console.file.getvalue()  # type: ignore[attr-defined]
    assert scalar(engine, "SELECT count(*) FROM api_keys WHERE tenant_id = :t", t) == 2


def test_unknown_scale_is_refused(engine: Engine) -> None:
    with pytest.raises(InvalidInput):
        create_demo(engine, client=new_name(), scale="huge", seed=1, console=quiet())


def snapshot(engine: Engine, t: int) -> dict[str, list[tuple[Any, ...]]]:
    """The client's data with database ids replaced by what they stand for."""
    return {
        "customers": rows(
            engine,
            "SELECT email, first_name, preposition, last_name, salutation, address, house_nr,"
            " zip, city, country, phone, credit_cents, created_at, last_changed_at, erased_at"
            " FROM customers WHERE tenant_id = :t ORDER BY id",
            t,
        ),
        "tags": rows(
            engine,
            "SELECT c.created_at, c.email, g.name FROM customer_tags g JOIN customers c"
            " ON c.id = g.customer_id WHERE g.tenant_id = :t ORDER BY c.id, g.name",
            t,
        ),
        "orders": rows(
            engine,
            "SELECT c.email, o.status, o.payment_status, o.channel, o.order_date_at,"
            " o.time_out_at, o.payment_method_id, o.handling_text, o.discount_name,"
            " o.amount_cents, o.fee_cents, o.donation_cents, o.created_at, o.last_changed_at"
            " FROM orders o LEFT JOIN customers c ON c.id = o.customer_id"
            " WHERE o.tenant_id = :t ORDER BY o.id",
            t,
        ),
        "seats": rows(
            engine,
            "SELECT o.order_date_at, s.event_id, s.rank_id, h.section_id, s.row_nr, s.seat_nr,"
            " s.price_id, s.price_name, s.amount_cents, s.deleted_at FROM order_seats s"
            " JOIN orders o ON o.id = s.order_id LEFT JOIN hall_seats h ON h.id = s.hall_seat_id"
            " WHERE s.tenant_id = :t ORDER BY s.id",
            t,
        ),
        "claims": rows(
            engine,
            "SELECT c.event_id, c.rank_id, s.row_nr, s.seat_nr, CASE WHEN s.hall_seat_id IS NULL"
            " THEN c.place_key END FROM place_claims c JOIN order_seats s ON s.id = c.order_seat_id"
            " WHERE c.tenant_id = :t ORDER BY s.id",
            t,
        ),
        "waiting": rows(
            engine,
            "SELECT c.email, w.event_id, w.number_of_tickets, w.type, w.created_at, w.notified_at,"
            " w.last_changed_at FROM waiting_list_entries w"
            " JOIN customers c ON c.id = w.customer_id"
            " WHERE w.tenant_id = :t ORDER BY w.id",
            t,
        ),
        "events": rows(
            engine,
            "SELECT event_id, production_id, name, event_type, event_tags, start_at, end_at,"
            " hall_id, seating FROM events WHERE tenant_id = :t ORDER BY event_id",
            t,
        ),
        "prices": rows(
            engine,
            "SELECT price_id, event_id, name, rank_id, amount_cents FROM prices"
            " WHERE tenant_id = :t ORDER BY price_id",
            t,
        ),
    }


def test_the_same_seed_gives_the_same_data(engine: Engine) -> None:
    names = [new_name() for _ in range(3)]
    for name, seed in zip(names, (11, 11, 12), strict=True):
        create_demo(engine, client=name, scale=DENSE, seed=seed, console=quiet())
    first, second, other = (snapshot(engine, tenant_id(engine, n)) for n in names)

    assert first == second
    assert first["orders"] and first["claims"] and first["waiting"]
    assert other["customers"] != first["customers"]
    assert other["orders"] != first["orders"]
    # Order keys are unique across clients, so they come from the seed and the client name.
    keys = [
        {
            k
            for (k,) in rows(
                engine, "SELECT order_key FROM orders WHERE tenant_id = :t", tenant_id(engine, n)
            )
        }
        for n in names[:2]
    ]
    assert not keys[0] & keys[1]
    assert all(re.fullmatch(r"([A-Za-z0-9]{5}-){3}[A-Za-z0-9]{5}", k) for k in keys[0])


def test_the_public_api_shows_the_demo_catalog(engine: Engine, http: TestClient) -> None:
    name = new_name()
    create_demo(engine, client=name, scale=SCALES["small"], seed=3, console=quiet())
    main_events = http.get(f"/v1/{name}/events").json()
    assert main_events
    for main in main_events:
        assert main["event_text"] and main["event_short_text"]
        # The app's own poster, made absolute with the request's scheme and host.
        assert re.fullmatch(
            r"http://127\.0\.0\.1/media/posters/schouwburcht-\d+\.svg", main["event_image"]
        )
        assert main["event_type"]
    sub_events = [sub for main in main_events for sub in main["sub_events"]]
    assert all(sub["event_url"].startswith("https://") for sub in sub_events)
    statuses = {sub["event_status"] for sub in sub_events}
    assert {"arch", "trash"} <= statuses
    with engine.connect() as conn:
        found = conn.execute(
            text(
                "SELECT count(*) FROM events e JOIN clients c ON c.id = e.tenant_id "
                "WHERE c.name = :n AND e.status = 'nosal'"
            ),
            {"n": name},
        ).scalar_one()
    assert found > 0
    types = {t["eventtype_name"] for t in http.get(f"/v1/{name}/eventtypes").json()}
    assert {"opera", "familie", "festival"} <= types
    methods = http.get(f"/v1/{name}/paymentmethods").json()
    assert {m["payment_desc"] for m in methods} >= {"iDEAL", "Factuur"}
    assert "PIN (kassa)" not in {m["payment_desc"] for m in methods}
    with engine.connect() as conn:
        providers = conn.execute(
            text(
                "SELECT DISTINCT p.provider FROM payment_methods p JOIN clients c "
                "ON c.id = p.tenant_id WHERE c.name = :n AND p.online"
            ),
            {"n": name},
        ).scalars()
        assert "test" in set(providers)


_REFERENCES = re.compile(r'\b(?:src|href|action)="([^"]*)"')


def test_the_demo_shop_loads_everything_from_the_app_itself(
    engine: Engine, http: TestClient
) -> None:
    """No page of the demo's shop names another host (no picture, script or style from
    the internet), and every picture it shows is served by the app."""
    name = new_name()
    create_demo(engine, client=name, scale=SCALES["small"], seed=3, console=quiet())
    programme = http.get(f"/{name}/shop").text
    events = re.findall(rf'href="(/{name}/shop/event/\d+)"', programme)
    assert events
    pages = [programme, *(http.get(path).text for path in events[:4])]
    pages.append(http.get(f"/{name}/shop/cart").text)
    references = {ref for page in pages for ref in _REFERENCES.findall(page)}
    hosts = {urlsplit(ref).netloc for ref in references} - {""}
    assert hosts <= {"127.0.0.1"}, hosts
    images = {ref for page in pages for ref in re.findall(r'<img[^>]* src="([^"]*)"', page)}
    assert any("/media/posters/" in image for image in images)
    for image in images:
        answer = http.get(image)
        assert answer.status_code == 200
        assert answer.headers["content-type"].startswith("image/svg+xml")
        assert answer.content.startswith(b"<svg") and b"http://" not in answer.content.replace(
            b"http://www.w3.org/2000/svg", b""
        )


def test_a_poster_is_the_same_for_one_name_and_unknown_names_are_404(http: TestClient) -> None:
    first = http.get("/media/posters/schouwburcht-101.svg")
    assert first.status_code == 200
    assert first.content == http.get("/media/posters/schouwburcht-101.svg").content
    assert first.content != http.get("/media/posters/schouwburcht-102.svg").content
    for bad in ("Upper", "-dash", "x" * 65, "a.b"):
        assert http.get(f"/media/posters/{bad}.svg").status_code == 404
