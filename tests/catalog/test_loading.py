"""Catalog loading: the contract's example, reloads, blocks, and every rule that refuses a file."""

import copy
import json
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, Table, select
from typer.testing import CliRunner

from boxoffice import cli
from boxoffice.server.catalog.loading import load_catalog
from boxoffice.server.catalog.tables import (
    client_types,
    event_blocks,
    event_capacities,
    events,
    hall_seats,
    hall_sections,
    halls,
    payment_methods,
    prices,
    productions,
    ranks,
)
from boxoffice.server.db.transactions import write_transaction
from boxoffice.server.errors import InvalidInput
from boxoffice.server.tenancy.service import get_tenant
from boxoffice.server.tenancy.tables import clients
from boxoffice.server.values.instants import instant_to_micros
from tests.conftest import Client

EXAMPLE = Path(__file__).with_name("example_catalog.json")
DOCS = Path(__file__).resolve().parents[2] / "docs" / "catalog.md"
CATALOG_TABLES: list[Table] = [
    client_types,
    payment_methods,
    ranks,
    halls,
    hall_sections,
    hall_seats,
    productions,
    events,
    event_capacities,
    prices,
    event_blocks,
]

Catalog = dict[str, Any]


def example() -> Catalog:
    data: Catalog = json.loads(EXAMPLE.read_text(encoding="utf-8"))
    return data


def load(engine: Engine, client: Client, data: object) -> str:
    with write_transaction(engine) as tx:
        # The stored time zone, as the CLI reads it: a file may have changed it.
        tenant = get_tenant(tx.conn, client.name)
        return load_catalog(tx, tenant=tenant, data=data)


def snapshot(engine: Engine, client: Client) -> dict[str, list[tuple[Any, ...]]]:
    """Every catalog row of the client (ids included) and its client row."""
    tenant_id = client.tenant.id
    with engine.connect() as conn:
        found = {
            table.name: sorted(
                (
                    tuple(row)
                    for row in conn.execute(select(table).where(table.c.tenant_id == tenant_id))
                ),
                key=repr,
            )
            for table in CATALOG_TABLES
        }
        found["clients"] = [
            tuple(r) for r in conn.execute(select(clients).where(clients.c.id == tenant_id))
        ]
    return found


def seat_ids(engine: Engine, client: Client) -> dict[tuple[int, int, int, int], tuple[int, int]]:
    """(hall, section, row, seat) -> (hall seat id, rank id)."""
    stmt = select(
        hall_seats.c.hall_id,
        hall_seats.c.section_id,
        hall_seats.c.row_nr,
        hall_seats.c.seat_nr,
        hall_seats.c.id,
        hall_seats.c.rank_id,
    ).where(hall_seats.c.tenant_id == client.tenant.id)
    with engine.connect() as conn:
        return {(h, s, r, n): (i, rank) for h, s, r, n, i, rank in conn.execute(stmt)}


def rows(engine: Engine, client: Client, table: Table, *columns: str) -> list[tuple[Any, ...]]:
    stmt = select(*(table.c[c] for c in columns)).where(table.c.tenant_id == client.tenant.id)
    with engine.connect() as conn:
        return sorted(tuple(r) for r in conn.execute(stmt))


def test_the_contract_example_loads(engine: Engine, client: Client) -> None:
    summary = load(engine, client, example())

    assert summary.startswith("2 ranks, 1 hall, 2 seats, 1 production, 2 events, 2 prices")
    assert "2 payment methods, 6 client types" in summary
    assert rows(engine, client, ranks, "rank_id", "name") == [(42, "Rang 1"), (43, "Rang 2")]
    assert rows(engine, client, halls, "hall_id", "name", "zip", "phone", "url") == [
        (1, "Grote Zaal", "1017 GA", "0201234567", "https://example.org")
    ]
    assert rows(engine, client, hall_sections, "hall_id", "section_id", "name") == [
        (1, 5, "Parket")
    ]
    assert sorted((k, rank) for k, (_id, rank) in seat_ids(engine, client).items()) == [
        ((1, 5, 1, 1), 42),
        ((1, 5, 1, 2), 42),
    ]
    assert rows(engine, client, payment_methods, "payment_method_id", "name", "fee_cents") == [
        (1, "iDEAL", 0),
        (2, "Invoice", 250),
    ]
    assert rows(engine, client, client_types, "name") == sorted(
        [("friend",), ("donor",), ("vip",), ("press",), ("student",), ("subscriber",)]
    )
    assert rows(
        engine, client, events, "event_id", "production_id", "event_type", "event_tags", "seating"
    ) == [(95, 94, None, None, "reserved"), (96, 94, None, None, "unreserved")]
    start = rows(engine, client, events, "event_id", "start_at", "end_at")[0]
    assert start[1] == instant_to_micros(datetime.fromisoformat("2026-04-01T18:30:00+00:00"))
    assert start[2] - start[1] == 2 * 3600 * 1_000_000
    assert rows(engine, client, event_capacities, "event_id", "rank_id", "places") == [
        (96, 43, 150)
    ]
    assert rows(
        engine, client, prices, "price_id", "event_id", "name", "rank_id", "amount_cents"
    ) == [
        ("2ePdA8q3BN", 95, "Standard", 42, 2450),
        ("k3Jd9sPq2Z", 96, "Vrije plaats", 43, 1500),
    ]
    assert rows(engine, client, productions, "production_id", "name") == [(94, "Hamlet")]


def test_the_documented_example_loads_as_documented(engine: Engine, client: Client) -> None:
    page = DOCS.read_text(encoding="utf-8")
    data = json.loads(page.split("```json\n", 1)[1].split("```", 1)[0])
    documented = page.split("```text\n", 1)[1].split("\n", 1)[0]

    summary = load(engine, client, data)

    assert documented == f"catalog loaded into NAME: {summary}"
    assert load(engine, client, data).endswith("; nothing changed")
    assert len(rows(engine, client, event_blocks, "id")) == 4


def test_loading_the_same_file_twice_changes_nothing(engine: Engine, client: Client) -> None:
    data = with_blocks(example())
    data["productions"][0]["events"][0]["eventTags"] = ["klassiek", "familie"]
    load(engine, client, data)
    before = snapshot(engine, client)

    summary = load(engine, client, data)

    assert summary.endswith("; nothing changed")
    assert snapshot(engine, client) == before
    assert before["event_blocks"]  # the comparison covered blocks, with their ids


def test_reload_updates_in_place_and_keeps_seat_ids(engine: Engine, client: Client) -> None:
    load(engine, client, example())
    first = seat_ids(engine, client)
    data = example()
    hall = data["halls"][0]
    hall["hallName"] = "Grote Zaal (verbouwd)"
    row = hall["sections"][0]["rows"][0]
    row["seats"][1]["rankId"] = 43
    row["seats"].append({"seatNr": 3, "rankId": 42})
    production = data["productions"][0]
    production["events"][0]["prices"][0]["amount"] = 26
    del production["events"][1]  # no longer in the file: kept

    summary = load(engine, client, data)

    assert "1 record added, 3 changed" in summary
    second = seat_ids(engine, client)
    assert second[(1, 5, 1, 1)] == first[(1, 5, 1, 1)]
    assert second[(1, 5, 1, 2)] == (first[(1, 5, 1, 2)][0], 43)
    assert second[(1, 5, 1, 3)][0] not in {i for i, _ in first.values()}
    assert rows(engine, client, halls, "name") == [("Grote Zaal (verbouwd)",)]
    assert rows(engine, client, prices, "price_id", "amount_cents") == [
        ("2ePdA8q3BN", 2600),
        ("k3Jd9sPq2Z", 1500),
    ]
    assert rows(engine, client, events, "event_id") == [(95,), (96,)]


def with_blocks(data: Catalog) -> Catalog:
    reserved, unreserved = data["productions"][0]["events"]
    reserved["blocks"] = [
        {"blockType": "press", "seats": [{"sectionId": 5, "rowNr": 1, "seatNr": 2}]},
        {"blockType": "tech", "seats": [{"sectionId": 5, "rowNr": 1, "seatNr": 1}]},
    ]
    unreserved["blocks"] = [{"blockType": "wheel", "rankId": 43, "places": 4}]
    return data


def test_blocks_are_stored_and_a_reload_replaces_them(engine: Engine, client: Client) -> None:
    data = with_blocks(example())
    load(engine, client, data)
    ids = seat_ids(engine, client)
    columns = ("event_id", "block_type", "hall_seat_id", "rank_id", "places")
    assert rows(engine, client, event_blocks, *columns) == sorted(
        [
            (95, "press", ids[(1, 5, 1, 2)][0], 42, 1),
            (95, "tech", ids[(1, 5, 1, 1)][0], 42, 1),
            (96, "wheel", None, 43, 4),
        ]
    )

    data["productions"][0]["events"][0]["blocks"] = [
        {"blockType": "sight", "seats": [{"sectionId": 5, "rowNr": 1, "seatNr": 1}]}
    ]
    del data["productions"][0]["events"][1]["blocks"]
    load(engine, client, data)

    assert rows(engine, client, event_blocks, *columns) == [
        (95, "sight", ids[(1, 5, 1, 1)][0], 42, 1)
    ]


def test_event_tags_are_stored_as_json_and_event_type_may_be_set(
    engine: Engine, client: Client
) -> None:
    data = example()
    event = data["productions"][0]["events"][0]
    event["eventType"] = "toneel"
    event["eventTags"] = ["klassiek", "première"]
    load(engine, client, data)

    stored = rows(engine, client, events, "event_id", "event_type", "event_tags")
    assert stored[0] == (95, "toneel", '["klassiek","première"]')
    assert json.loads(stored[0][2]) == ["klassiek", "première"]
    assert stored[1] == (96, None, None)


def test_timezone_sets_the_client_time_zone_and_reads_naive_times(
    engine: Engine, client: Client
) -> None:
    data = example()
    data["timezone"] = "Europe/London"
    data["productions"][0]["events"][0]["start"] = "2026-04-01T20:30:00"
    load(engine, client, data)

    with engine.connect() as conn:
        tz = conn.execute(select(clients.c.timezone).where(clients.c.id == client.tenant.id))
        assert tz.scalar_one() == "Europe/London"
    start = rows(engine, client, events, "event_id", "start_at")[0][1]
    # 20:30 in London in April (BST, +01:00) is 19:30 UTC.
    assert start == instant_to_micros(datetime.fromisoformat("2026-04-01T19:30:00+00:00"))


def test_client_types_and_missing_records_are_never_deleted(engine: Engine, client: Client) -> None:
    load(engine, client, example())
    before = snapshot(engine, client)

    summary = load(
        engine,
        client,
        {"clientTypes": ["friend", "member"], "ranks": [{"rankId": 44, "name": "Rang 3"}]},
    )

    assert "2 records added, 0 changed" in summary
    after = snapshot(engine, client)
    assert ("member" in {r[1] for r in after["client_types"]}) and len(after["client_types"]) == 7
    for table in ("halls", "hall_seats", "events", "prices", "payment_methods", "event_blocks"):
        assert after[table] == before[table]


def test_a_second_client_loads_the_same_ids_independently(
    engine: Engine, client: Client, other_client: Client
) -> None:
    load(engine, client, example())
    changed = example()
    changed["halls"][0]["hallName"] = "Theater aan het IJ"
    changed["productions"][0]["events"][0]["prices"][0]["amount"] = "30.00"

    summary = load(engine, other_client, changed)

    assert "nothing changed" not in summary
    assert rows(engine, client, halls, "name") == [("Grote Zaal",)]
    assert rows(engine, other_client, halls, "name") == [("Theater aan het IJ",)]
    assert rows(engine, client, prices, "price_id", "amount_cents")[0] == ("2ePdA8q3BN", 2450)
    assert rows(engine, other_client, prices, "price_id", "amount_cents")[0] == ("2ePdA8q3BN", 3000)
    mine = {i for i, _ in seat_ids(engine, client).values()}
    theirs = {i for i, _ in seat_ids(engine, other_client).values()}
    assert len(mine) == len(theirs) == 2 and not mine & theirs


# --- refused files ----------------------------------------------------------------------------

Mutation = Callable[[Catalog], object]


def _set(path: str, value: object) -> Mutation:
    """A mutation setting the value at a JSON path like `productions[0].events[1].hallId`."""

    def mutate(data: Catalog) -> Catalog:
        *parents, last = _steps(path)
        target: Any = data
        for step in parents:
            target = target[step]
        if value is _DELETE:
            del target[last]
        else:
            target[last] = value
        return data

    return mutate


def _steps(path: str) -> list[str | int]:
    steps: list[str | int] = []
    for part in path.split("."):
        name, *indexes = part.replace("]", "").split("[")
        steps.append(name)
        steps.extend(int(i) for i in indexes)
    return steps


_DELETE = object()
EV0 = "productions[0].events[0]"
EV1 = "productions[0].events[1]"
SEAT0 = "halls[0].sections[0].rows[0].seats[0]"


def _append(path: str, item: object) -> Mutation:
    def mutate(data: Catalog) -> Catalog:
        target: Any = data
        for step in _steps(path):
            target = target[step]
        target.append(copy.deepcopy(item))
        return data

    return mutate


def _replace(new: object) -> Mutation:
    return lambda _data: new


BROKEN: list[tuple[str, Mutation, str, str]] = [
    (
        "unknown rank of a price",
        _set(f"{EV0}.prices[0].rankId", 99),
        f"{EV0}.prices[0].rankId",
        "Unknown rank 99.",
    ),
    ("unknown rank of a seat", _set(f"{SEAT0}.rankId", 7), f"{SEAT0}.rankId", "Unknown rank 7."),
    (
        "unknown rank of a capacity",
        _set(f"{EV1}.capacity[0].rankId", 8),
        f"{EV1}.capacity[0].rankId",
        "Unknown rank 8.",
    ),
    ("unknown hall", _set(f"{EV1}.hallId", 2), f"{EV1}.hallId", "Unknown hall 2."),
    (
        "duplicate rankId",
        _append("ranks", {"rankId": 42, "name": "Dubbel"}),
        "ranks[2].rankId",
        "Duplicate rankId 42 (also at ranks[0].rankId).",
    ),
    (
        "duplicate hallId",
        _append("halls", {"hallId": 1, "hallName": "Kleine Zaal"}),
        "halls[1].hallId",
        "Duplicate hallId 1",
    ),
    (
        "duplicate sectionId",
        _append("halls[0].sections", {"sectionId": 5, "sectionName": "Balkon"}),
        "halls[0].sections[1].sectionId",
        "Duplicate sectionId 5",
    ),
    (
        "duplicate row",
        _append("halls[0].sections[0].rows", {"rowNr": 1, "seats": []}),
        "halls[0].sections[0].rows[1].rowNr",
        "Duplicate row 1",
    ),
    (
        "duplicate seat position",
        _set("halls[0].sections[0].rows[0].seats[1].seatNr", 1),
        "halls[0].sections[0].rows[0].seats[1].seatNr",
        "Duplicate seat 1 in row 1 of section 5",
    ),
    (
        "duplicate productionId",
        _append("productions", {"productionId": 94, "productionName": "Hamlet 2"}),
        "productions[1].productionId",
        "Duplicate productionId 94",
    ),
    ("duplicate eventId", _set(f"{EV1}.eventId", 95), f"{EV1}.eventId", "Duplicate eventId 95"),
    (
        "duplicate priceId",
        _set(f"{EV1}.prices[0].priceId", "2ePdA8q3BN"),
        f"{EV1}.prices[0].priceId",
        "Duplicate priceId '2ePdA8q3BN'",
    ),
    (
        "duplicate paymentMethodId",
        _set("paymentMethods[1].paymentMethodId", 1),
        "paymentMethods[1].paymentMethodId",
        "Duplicate paymentMethodId 1",
    ),
    (
        "duplicate client type",
        _append("clientTypes", "vip"),
        "clientTypes[6]",
        "Duplicate client type 'vip'",
    ),
    (
        "duplicate capacity rank",
        _append(f"{EV1}.capacity", {"rankId": 43, "places": 5}),
        f"{EV1}.capacity[1].rankId",
        "Duplicate capacity of rank 43",
    ),
    (
        "amount with three decimals",
        _set(f"{EV0}.prices[0].amount", "24.505"),
        f"{EV0}.prices[0].amount",
        "at most two decimals",
    ),
    (
        "negative amount",
        _set(f"{EV0}.prices[0].amount", "-1.00"),
        f"{EV0}.prices[0].amount",
        "at least 0.00",
    ),
    (
        "amount not a number",
        _set(f"{EV0}.prices[0].amount", "gratis"),
        f"{EV0}.prices[0].amount",
        "at most two decimals",
    ),
    (
        "amount a boolean",
        _set(f"{EV0}.prices[0].amount", True),
        f"{EV0}.prices[0].amount",
        "must be a number",
    ),
    (
        "float amount with three decimals",
        _set(f"{EV0}.prices[0].amount", 1.005),
        f"{EV0}.prices[0].amount",
        "at most two decimals",
    ),
    (
        "bad fee",
        _set("paymentMethods[1].fee", "2,50"),
        "paymentMethods[1].fee",
        "at most two decimals",
    ),
    (
        "reserved price of a rank without seats",
        _set(f"{EV0}.prices[0].rankId", 43),
        f"{EV0}.prices[0].rankId",
        "hall 1 has no seats of that rank",
    ),
    (
        "unreserved price of a rank without capacity",
        _set(f"{EV1}.prices[0].rankId", 42),
        f"{EV1}.prices[0].rankId",
        "no capacity entry for that rank",
    ),
    (
        "capacity on a reserved event",
        _set(f"{EV0}.capacity", [{"rankId": 42, "places": 3}]),
        f"{EV0}.capacity",
        "only an unreserved event has a capacity",
    ),
    ("id given as a string", _set("halls[0].hallId", "1"), "halls[0].hallId", "must be an integer"),
    ("id zero", _set("ranks[0].rankId", 0), "ranks[0].rankId", "between 1 and"),
    ("name not a string", _set(f"{EV0}.eventName", 5), f"{EV0}.eventName", "must be a string"),
    (
        "section not an object",
        _set("halls[0].sections[0]", "Parket"),
        "halls[0].sections[0]",
        "Must be a JSON object.",
    ),
    ("ranks not an array", _set("ranks", {"rankId": 42}), "ranks", "must be an array"),
    (
        "places negative",
        _set(f"{EV1}.capacity[0].places", -1),
        f"{EV1}.capacity[0].places",
        "between 0 and",
    ),
    (
        "missing start",
        _set(f"{EV0}.start", _DELETE),
        f"{EV0}.start",
        "The start field is required.",
    ),
    (
        "missing price name",
        _set(f"{EV1}.prices[0].priceName", _DELETE),
        f"{EV1}.prices[0].priceName",
        "required",
    ),
    ("missing hall name", _set("halls[0].hallName", None), "halls[0].hallName", "required"),
    (
        "missing seats of a row",
        _set("halls[0].sections[0].rows[0].seats", _DELETE),
        "halls[0].sections[0].rows[0].seats",
        "required",
    ),
    (
        "impossible date",
        _set(f"{EV0}.start", "2026-13-01T20:30:00+02:00"),
        f"{EV0}.start",
        "not a valid date-time",
    ),
    ("date without time", _set(f"{EV0}.end", "2026-04-01"), f"{EV0}.end", "ISO 8601 date-time"),
    (
        "end before start",
        _set(f"{EV0}.end", "2026-04-01T19:00:00+02:00"),
        f"{EV0}.end",
        "must not be before the start",
    ),
    (
        "unknown block type",
        _set(f"{EV1}.blocks", [{"blockType": "vip", "rankId": 43, "places": 2}]),
        f"{EV1}.blocks[0].blockType",
        "Unknown blockType 'vip'",
    ),
    (
        "blocked seat not in the hall",
        _set(
            f"{EV0}.blocks",
            [{"blockType": "press", "seats": [{"sectionId": 5, "rowNr": 2, "seatNr": 1}]}],
        ),
        f"{EV0}.blocks[0].seats[0]",
        "Hall 1 has no seat 1 in row 2 of section 5.",
    ),
    (
        "seat blocked twice",
        _set(
            f"{EV0}.blocks",
            [
                {"blockType": "press", "seats": [{"sectionId": 5, "rowNr": 1, "seatNr": 1}]},
                {"blockType": "tech", "seats": [{"sectionId": 5, "rowNr": 1, "seatNr": 1}]},
            ],
        ),
        f"{EV0}.blocks[1].seats[0]",
        "Duplicate blocked seat",
    ),
    (
        "places in a reserved block",
        _set(f"{EV0}.blocks", [{"blockType": "wheel", "rankId": 42, "places": 2}]),
        f"{EV0}.blocks[0].rankId",
        "lists seats, not places",
    ),
    (
        "seats in an unreserved block",
        _set(
            f"{EV1}.blocks",
            [{"blockType": "wheel", "seats": [{"sectionId": 5, "rowNr": 1, "seatNr": 1}]}],
        ),
        f"{EV1}.blocks[0].seats",
        "gives rankId and places, not seats",
    ),
    (
        "blocks beyond capacity",
        _set(
            f"{EV1}.blocks",
            [
                {"blockType": "wheel", "rankId": 43, "places": 100},
                {"blockType": "group", "rankId": 43, "places": 51},
            ],
        ),
        f"{EV1}.blocks[1].places",
        "more than its capacity of 150",
    ),
    (
        "unknown seating",
        _set(f"{EV0}.seating", "standing"),
        f"{EV0}.seating",
        "Unknown seating 'standing'",
    ),
    (
        "unknown timezone",
        _set("timezone", "Mars/Olympus_Mons"),
        "timezone",
        "Unknown time zone 'Mars/Olympus_Mons'.",
    ),
    (
        "unknown field",
        _set("halls[0].colour", "rood"),
        "halls[0].colour",
        "Unknown field 'colour'.",
    ),
    (
        "reserved priceId",
        _set(f"{EV0}.prices[0].priceId", "donation"),
        f"{EV0}.prices[0].priceId",
        "not 'donation'",
    ),
    (
        "event tags not strings",
        _set(f"{EV0}.eventTags", ["ok", 3]),
        f"{EV0}.eventTags[1]",
        "non-empty string",
    ),
    ("not an object", _replace(["halls"]), "$", "Must be a JSON object."),
]


@pytest.mark.parametrize(
    ("mutate", "path", "problem"),
    [pytest.param(m, p, problem, id=name) for name, m, p, problem in BROKEN],
)
def test_a_broken_file_is_refused_whole_with_the_path(
    engine: Engine, client: Client, mutate: Mutation, path: str, problem: str
) -> None:
    data = mutate(example())
    before = snapshot(engine, client)

    with pytest.raises(InvalidInput) as raised:
        load(engine, client, data)

    errors = raised.value.errors or {}
    assert path in errors, errors
    assert any(problem in message for message in errors[path]), errors[path]
    assert raised.value.message.endswith("nothing was loaded.")
    assert snapshot(engine, client) == before
    assert all(not found for name, found in before.items() if name != "clients")


def test_a_broken_reload_changes_nothing(engine: Engine, client: Client) -> None:
    load(engine, client, with_blocks(example()))
    before = snapshot(engine, client)
    data = with_blocks(example())
    data["timezone"] = "America/New_York"
    data["halls"][0]["hallName"] = "Nieuwe naam"
    data["productions"][0]["events"][0]["blocks"] = []
    data["productions"][0]["events"][1]["prices"][0]["amount"] = "1.001"

    with pytest.raises(InvalidInput):
        load(engine, client, data)

    assert snapshot(engine, client) == before


def test_every_problem_is_reported_at_once(engine: Engine, client: Client) -> None:
    data = example()
    data["ranks"][1]["rankId"] = 42
    data["productions"][0]["events"][0]["hallId"] = 3
    data["paymentMethods"][0]["fee"] = "-0.01"

    with pytest.raises(InvalidInput) as raised:
        load(engine, client, data)

    assert raised.value.message == "The catalog file has 5 problems; nothing was loaded."
    assert set(raised.value.errors or {}) == {
        "ranks[1].rankId",
        "productions[0].events[0].hallId",
        "paymentMethods[0].fee",
        # Rank 43 is gone, so what referred to it is unknown too.
        "productions[0].events[1].capacity[0].rankId",
        "productions[0].events[1].prices[0].rankId",
    }


def test_a_file_with_very_many_problems_reports_the_first_ones(
    engine: Engine, client: Client
) -> None:
    data = example()
    data["halls"][0]["sections"][0]["rows"][0]["seats"] = [
        {"seatNr": n, "rankId": 1000 + n} for n in range(1, 201)
    ]

    with pytest.raises(InvalidInput) as raised:
        load(engine, client, data)

    assert len(raised.value.errors or {}) == 50
    assert "201 problems (151 more not shown)" in raised.value.message


def test_cli_loads_a_file_and_reports_errors(
    engine: Engine, client: Client, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The command's own engine is the session's: an engine per call would leak connections.
    monkeypatch.setattr(cli, "_engine", lambda: engine)
    runner = CliRunner()
    loaded = runner.invoke(cli.app, ["catalog", "load", client.name, str(EXAMPLE)])
    assert loaded.exit_code == 0, loaded.output
    assert f"catalog loaded into {client.name}: 2 ranks, 1 hall" in loaded.output

    broken = example()
    broken["ranks"][0]["rankId"] = "42"
    path = tmp_path / "broken.json"
    path.write_text(json.dumps(broken), encoding="utf-8")
    refused = runner.invoke(cli.app, ["catalog", "load", client.name, str(path)])
    assert refused.exit_code == 2
    assert "ranks[0].rankId: The rankId must be an integer." in refused.output
