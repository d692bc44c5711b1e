"""Cursor paging: each record exactly once, even when thousands share one lastChanged."""

import base64
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, update

from boxoffice.server.customers.tables import customers
from boxoffice.server.db.transactions import write_transaction
from tests.builders import Builder, Seat, at, building
from tests.conftest import Client
from tests.exports.conftest import MakeHttp, ids, post_export, records

SHARED = at("2026-04-22T13:08:55.500000+02:00")


def page_through(
    http: TestClient, client: Client, dataset: str, body: dict[str, Any], key: str
) -> tuple[list[list[int]], list[str]]:
    """Every page of a paged export: the ids of each page and each page's watermark."""
    pages, watermarks, cursor = [], [], None
    while True:
        response = post_export(http, client, dataset, body | ({"cursor": cursor} if cursor else {}))
        pages.append([record[key] for record in records(response)])
        watermarks.append(response.headers["x-sync-watermark"])
        cursor = response.headers.get("x-next-cursor")
        if cursor is None:
            return pages, watermarks
        assert len(pages) < 100, "paging does not end"


def test_five_thousand_records_sharing_one_instant_each_come_once(
    make_http: MakeHttp, engine: Engine, client: Client
) -> None:
    http = make_http(export_batch_size=97)
    with building(engine, client.tenant.id) as b:
        earlier = b.customer(changed_at=SHARED - 1)
        shared = b.many_customers(5000, changed_at=SHARED)
        later = b.customer(changed_at=SHARED + 1)
    pages, watermarks = page_through(http, client, "customers", {"limit": 700}, "customerId")
    assert [len(page) for page in pages] == [700] * 7 + [102]
    returned = [i for page in pages for i in page]
    assert returned == [earlier, *sorted(shared), later]
    # All pages are complete up to the first page's watermark: that is what to keep.
    assert len(set(watermarks)) == 1


def test_orders_page_with_their_seats(make_http: MakeHttp, engine: Engine, client: Client) -> None:
    http = make_http(export_batch_size=13)
    with building(engine, client.tenant.id) as b:
        buyers = b.many_customers(7, changed_at=SHARED)
        order_ids = b.many_orders(
            120, changed_at=SHARED, customer_ids=buyers, seats=[Seat(), Seat(amount_cents=1000)]
        )
    pages, _ = page_through(http, client, "orders", {"limit": 50}, "orderId")
    assert [len(page) for page in pages] == [50, 50, 20]
    assert [i for page in pages for i in page] == sorted(order_ids)
    whole = records(post_export(http, client, "orders"))
    assert all(len(o["seats"]) == 2 and o["amount"] == 34.5 for o in whole)
    assert {o["user"]["customerId"] for o in whole} == set(buyers)


def test_the_last_full_page_has_no_cursor(http: TestClient, engine: Engine, client: Client) -> None:
    with building(engine, client.tenant.id) as b:
        made = [b.customer(changed_at=SHARED + n) for n in range(10)]
    first = post_export(http, client, "customers", {"limit": 5})
    assert ids(first, "customerId") == made[:5]
    cursor = first.headers["x-next-cursor"]
    second = post_export(http, client, "customers", {"limit": 5, "cursor": cursor})
    assert ids(second, "customerId") == made[5:]
    assert "x-next-cursor" not in second.headers
    # Without a limit a cursor returns all that remains; a limit above the count, no cursor.
    rest = post_export(http, client, "customers", {"cursor": cursor})
    assert ids(rest, "customerId") == made[5:]
    everything = post_export(http, client, "customers", {"limit": 10})
    assert ids(everything, "customerId") == made
    assert "x-next-cursor" not in everything.headers


def test_paging_with_changed_since_and_until(
    http: TestClient, engine: Engine, client: Client
) -> None:
    with building(engine, client.tenant.id) as b:
        made = [b.customer(changed_at=at("2026-01-01T00:00:00+01:00") + n) for n in range(9)]
    body = {
        "changedSince": "2026-01-01T00:00:00.000002+01:00",
        "changedUntil": "2026-01-01T00:00:00.000008+01:00",
        "limit": 4,
    }
    pages, watermarks = page_through(http, client, "customers", body, "customerId")
    assert pages == [made[2:6], made[6:8]]
    # The data is complete only up to changedUntil: that is the watermark to keep.
    assert watermarks == ["2026-01-01T00:00:00.000008+01:00"] * 2


def test_writes_between_pages_neither_skip_nor_repeat(
    http: TestClient, engine: Engine, client: Client
) -> None:
    with building(engine, client.tenant.id) as b:
        made = [b.customer(changed_at=SHARED + n) for n in range(6)]
    first = post_export(http, client, "customers", {"limit": 3})
    assert ids(first, "customerId") == made[:3]
    # Between the pages: one delivered and one pending record change, and one is new.
    with write_transaction(engine) as tx:
        for changed in (made[0], made[4]):
            tx.conn.execute(
                update(customers).where(customers.c.id == changed).values(last_changed_at=tx.now)
            )
        new = Builder(tx.conn, client.tenant.id).customer(changed_at=tx.now)
    body = {"limit": 3, "cursor": first.headers["x-next-cursor"]}
    second = post_export(http, client, "customers", body)
    # The paged export covers the range of its first page: no record comes twice in it ...
    assert ids(second, "customerId") == [made[3], made[5]]
    assert second.headers["x-sync-watermark"] == first.headers["x-sync-watermark"]
    # ... and the next sync, from its watermark, brings every change made meanwhile.
    after = post_export(
        http, client, "customers", {"changedSince": second.headers["x-sync-watermark"]}
    )
    assert sorted(ids(after, "customerId")) == sorted([made[0], made[4], new])


def flip(token: str, index: int) -> str:
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    replacement = alphabet[(alphabet.index(token[index]) + 1) % len(alphabet)]
    return token[:index] + replacement + token[index + 1 :]


def test_a_tampered_cursor_is_refused(http: TestClient, engine: Engine, client: Client) -> None:
    with building(engine, client.tenant.id) as b:
        b.many_customers(4, changed_at=SHARED)
    cursor = post_export(http, client, "customers", {"limit": 2}).headers["x-next-cursor"]
    assert post_export(http, client, "customers", {"cursor": cursor}).status_code == 200
    raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
    forged_body = bytearray(raw)
    forged_body[10] ^= 1  # one bit of the position, tag left as it was
    forged = base64.urlsafe_b64encode(bytes(forged_body)).rstrip(b"=").decode()
    tampered = [
        *(flip(cursor, i) for i in range(len(cursor))),
        forged,
        cursor[:-1],
        cursor + "A",
        cursor + "=",
        cursor.replace(cursor[5], "+"),
        " " + cursor,
    ]
    for token in tampered:
        response = post_export(http, client, "customers", {"cursor": token})
        assert response.status_code == 422, token
        assert list(response.json()["errors"]) == ["cursor"]


def test_a_cursor_only_continues_its_own_export(
    make_http: MakeHttp, http: TestClient, engine: Engine, client: Client, other_client: Client
) -> None:
    with building(engine, client.tenant.id) as b:
        b.many_customers(4, changed_at=SHARED)
    body = {"changedSince": "2026-01-01", "limit": 2}
    cursor = post_export(http, client, "customers", body).headers["x-next-cursor"]
    resumed = {**body, "cursor": cursor}
    assert post_export(http, client, "customers", resumed).status_code == 200
    for dataset, changed_body in [
        ("orders", resumed),
        ("waitinglist", resumed),
        ("customers", {**resumed, "changedSince": "2026-01-02"}),
        ("customers", {"cursor": cursor, "limit": 2}),
        ("customers", {**resumed, "changedUntil": "2027-01-01"}),
    ]:
        response = post_export(http, client, dataset, changed_body)
        assert response.status_code == 422, (dataset, changed_body)
        assert list(response.json()["errors"]) == ["cursor"]
    # Another client's cursor, and a cursor signed with another secret, are not valid.
    assert post_export(http, other_client, "customers", resumed).status_code == 422
    rekeyed = make_http(cursor_secret="another secret")
    assert post_export(rekeyed, client, "customers", resumed).status_code == 422


@pytest.mark.parametrize("dataset", ["customers", "orders", "waitinglist"])
def test_limit_on_an_empty_export(http: TestClient, client: Client, dataset: str) -> None:
    response = post_export(http, client, dataset, {"limit": 1})
    assert records(response) == []
    assert "x-next-cursor" not in response.headers
