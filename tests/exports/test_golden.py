"""Golden files: the exact bytes of each export (key order, 49.00-style money, offsets).

The data is fixed, timestamps included; only database-assigned ids and the random order
keys differ between runs, so they are renumbered to fixed values before comparing. A
`.json` golden file holds the body and a final newline; an `.ndjson` file, whose every
line ends in one already, holds exactly the body.
"""

import re
from pathlib import Path

import orjson
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from tests.builders import Seat, at, building
from tests.conftest import Client
from tests.exports.conftest import post_export

GOLDEN = Path(__file__).parent / "golden"
_ID = re.compile(rb'"(customerId|orderId|seatId|waitingId)":(\d+)')


class GoldenData:
    """The golden data set of one client, and the fixed values its real ids and keys map to."""

    def __init__(self, engine: Engine, client: Client) -> None:
        self.fixed: dict[tuple[bytes, int], int] = {}
        self.order_keys: dict[str, str] = {}
        with building(engine, client.tenant.id) as b:
            b.client_types("vip", "friend", "donor")
            anna = b.customer(
                changed_at=at("2026-04-22T13:08:55.123456+02:00"),
                created_at=at("2026-01-15T10:00:00+01:00"),
                email="Anna@Example.org",
                first_name="Anna",
                last_name="Vries",
                salutation="F",
                preposition="de",
                address="Kerkstraat",
                house_nr="1a",
                zip="1017 GA",
                city="Amsterdam",
                country="NL",
                phone="0201234567",
                credit_cents=4900,
                tags=["vip", "friend"],
            )
            erased = b.customer(
                changed_at=at("2026-04-23T08:00:00+02:00"),
                created_at=at("2025-11-02T09:30:00+01:00"),
                email=None,
                first_name=None,
                last_name=None,
                erased_at=at("2026-04-23T08:00:00+02:00"),
            )
            paid = b.order(
                changed_at=at("2026-04-22T13:05:00.500000+02:00"),
                order_date_at=at("2026-04-22T13:00:00+02:00"),
                customer_id=anna,
                seats=[
                    Seat(row_nr=3, seat_nr=7, hall_seat_id=501),
                    Seat(row_nr=3, seat_nr=8, hall_seat_id=502),
                    Seat(
                        row_nr=3,
                        seat_nr=9,
                        hall_seat_id=503,
                        deleted_at=at("2026-04-22T13:05:00.500000+02:00"),
                    ),
                ],
            )
            reservation = b.order(
                changed_at=at("2026-04-23T10:00:00+02:00"),
                order_date_at=at("2026-04-23T09:58:30+02:00"),
                status="res",
                payment_status="none",
                channel="sp",
                time_out_at=at("2026-04-24T12:00:00+02:00"),
                payment_method_id=2,
                handling_text="Invoice",
                discount_name="Vriendenkorting",
                fee_cents=250,
                donation_cents=500,
                seats=[
                    Seat(
                        amount_cents=1500,
                        event_id=96,
                        rank_id=43,
                        price_id="k3Jd9sPq2Z",
                        price_name="Vrije plaats",
                    )
                ],
            )
            trashed = b.order(
                changed_at=at("2026-01-10T20:00:00+01:00"),
                order_date_at=at("2026-01-09T19:45:00+01:00"),
                customer_id=erased,
                status="trash",
                payment_status="refund",
            )
            waiting = b.waiting(
                customer_id=anna,
                changed_at=at("2026-03-01T12:00:00+01:00"),
                event_id=95,
                number_of_tickets=2,
            )
            notified = b.waiting(
                customer_id=erased,
                created_at=at("2026-03-28T18:00:00+01:00"),
                notified_at=at("2026-03-30T09:00:00+02:00"),
                changed_at=at("2026-03-30T09:00:00.000001+02:00"),
                event_id=96,
                number_of_tickets=4,
                type="notified",
            )
            seat_ids = b.seat_ids[paid] + b.seat_ids[reservation]
        for kind, pairs in (
            (b"customerId", [(anna, 1001), (erased, 1002)]),
            (b"orderId", [(paid, 2001), (reservation, 2002), (trashed, 2003)]),
            (b"seatId", [(seat, 3001 + n) for n, seat in enumerate(seat_ids)]),
            (b"waitingId", [(waiting, 4001), (notified, 4002)]),
        ):
            for real, fixed in pairs:
                self.fixed[(kind, real)] = fixed

    def normalise(self, body: bytes) -> bytes:
        """The body with every id renumbered and every order key replaced by a fixed one."""

        def renumber(match: re.Match[bytes]) -> bytes:
            kind, real = match.group(1), int(match.group(2))
            return b'"%s":%d' % (kind, self.fixed[(kind, real)])

        body = _ID.sub(renumber, body)
        for n, key in enumerate(re.findall(rb'"orderKey":"([A-Za-z0-9-]+)"', body)):
            fixed = f"Gold{n}-AAAAA-BBBBB-CCCCC".encode()
            body = body.replace(key, fixed)
        return body


@pytest.fixture
def golden(engine: Engine, client: Client) -> GoldenData:
    return GoldenData(engine, client)


def golden_bytes(name: str) -> bytes:
    text = (GOLDEN / name).read_bytes()
    assert text.endswith(b"\n") and not text.endswith(b"\n\n")
    return text[:-1] if name.endswith(".json") else text


@pytest.mark.parametrize("dataset", ["customers", "orders", "waitinglist"])
def test_json_export_matches_its_golden_file(
    http: TestClient, client: Client, golden: GoldenData, dataset: str
) -> None:
    response = post_export(http, client, dataset)
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    assert golden.normalise(response.content) == golden_bytes(f"{dataset}.json")


def test_ndjson_export_matches_its_golden_file(
    http: TestClient, client: Client, golden: GoldenData
) -> None:
    response = post_export(http, client, "orders", headers={"Accept": "application/x-ndjson"})
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/x-ndjson"
    assert golden.normalise(response.content) == golden_bytes("orders.ndjson")


def test_golden_files_agree_with_each_other() -> None:
    """The NDJSON file holds the same records as the JSON one, one per line."""
    lines = golden_bytes("orders.ndjson").split(b"\n")
    assert lines[-1] == b""
    assert [orjson.loads(line) for line in lines[:-1]] == orjson.loads(golden_bytes("orders.json"))


def test_client_types_are_sorted(http: TestClient, client: Client, golden: GoldenData) -> None:
    response = http.get(f"{client.base}/export/clienttypes", headers=client.auth)
    assert response.status_code == 200
    assert response.content == b'["donor","friend","vip"]'
