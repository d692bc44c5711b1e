"""Catalog file fields the public API shows: validated, stored, reloaded without changes."""

import copy
from typing import Any

import pytest
from sqlalchemy import Engine, select

from boxoffice.server.catalog.loading import load_catalog
from boxoffice.server.catalog.tables import events, payment_methods, productions
from boxoffice.server.db.transactions import write_transaction
from boxoffice.server.errors import InvalidInput
from tests.catalog.test_loading import CATALOG_TABLES, snapshot
from tests.conftest import Client, new_client
from tests.public.conftest import CATALOG, HAMLET, NOT_ON_SALE, ON_SALE, OUTDOOR, build_venue


def load(engine: Engine, client: Client, data: object) -> str:
    with write_transaction(engine) as tx:
        return load_catalog(tx, tenant=client.tenant, data=data)


def refused(engine: Engine, client: Client, data: object) -> dict[str, list[str]]:
    with pytest.raises(InvalidInput) as caught:
        load(engine, client, data)
    assert "nothing was loaded" in caught.value.message
    return caught.value.errors or {}


def catalog() -> dict[str, Any]:
    return copy.deepcopy(CATALOG)


def test_the_fields_are_stored_and_a_reload_changes_nothing(engine: Engine, client: Client) -> None:
    load(engine, client, catalog())
    with engine.connect() as conn:
        hamlet = (
            conn.execute(
                select(productions).where(
                    productions.c.tenant_id == client.tenant.id,
                    productions.c.production_id == HAMLET,
                )
            )
            .mappings()
            .one()
        )
        rows = {
            row["event_id"]: row
            for row in conn.execute(
                select(events).where(events.c.tenant_id == client.tenant.id)
            ).mappings()
        }
        methods = {
            row["payment_method_id"]: (row["provider"], row["online"])
            for row in conn.execute(
                select(payment_methods).where(payment_methods.c.tenant_id == client.tenant.id)
            ).mappings()
        }
    assert hamlet["short_text"] == "Toneel in de Grote Zaal"
    assert hamlet["event_types"] == '["toneel","klassiek"]'
    assert rows[ON_SALE]["max_tickets_per_order"] == 4
    assert rows[ON_SALE]["status"] == "pub"
    assert rows[ON_SALE]["text"] is None  # falls back to the production's
    assert rows[NOT_ON_SALE]["status"] == "nosal"
    assert rows[OUTDOOR]["max_tickets_per_order"] == 10
    assert rows[OUTDOOR]["view_end_at"] is None
    assert methods == {1: ("test", True), 2: ("invoice", True), 3: ("invoice", False)}
    assert load(engine, client, catalog()).endswith("nothing changed")
    changed = catalog()
    changed["productions"][0]["events"][0]["status"] = "trash"
    assert "0 records added, 1 changed" in load(engine, client, changed)


@pytest.mark.parametrize(
    ("where", "field", "value", "path"),
    [
        ("production", "image", "javascript:alert(1)", "productions[0].image"),
        ("production", "image", "img/relative.jpg", "productions[0].image"),
        ("production", "image", "//x.example/a.jpg", "productions[0].image"),
        ("production", "image", "/img\\a.jpg", "productions[0].image"),
        ("production", "image", "https://x.example/a b.jpg", "productions[0].image"),
        ("production", "text", 42, "productions[0].text"),
        ("production", "shortText", "x" * 256, "productions[0].shortText"),
        ("production", "eventTypes", "toneel", "productions[0].eventTypes"),
        ("production", "eventTypes", ["toneel", "toneel"], "productions[0].eventTypes[1]"),
        ("production", "eventTypes", [" toneel"], "productions[0].eventTypes[0]"),
        ("production", "eventTypes", [""], "productions[0].eventTypes[0]"),
        ("event", "url", "ftp://x.example/", "productions[0].events[0].url"),
        ("event", "status", "arch", "productions[0].events[0].status"),
        ("event", "status", "PUB", "productions[0].events[0].status"),
        ("event", "viewEnd", "tomorrow", "productions[0].events[0].viewEnd"),
        ("event", "maxTicketsPerOrder", 0, "productions[0].events[0].maxTicketsPerOrder"),
        ("event", "maxTicketsPerOrder", "4", "productions[0].events[0].maxTicketsPerOrder"),
        ("event", "maxTicketsPerOrder", 1001, "productions[0].events[0].maxTicketsPerOrder"),
        ("event", "image", "data:image/png;base64,AAAA", "productions[0].events[0].image"),
        ("payment", "provider", "Mollie Pay", "paymentMethods[0].provider"),
        ("payment", "online", "yes", "paymentMethods[0].online"),
    ],
)
def test_bad_values_are_refused_with_their_path(
    engine: Engine, client: Client, where: str, field: str, value: object, path: str
) -> None:
    data = catalog()
    target = {
        "production": data["productions"][0],
        "event": data["productions"][0]["events"][0],
        "payment": data["paymentMethods"][0],
    }[where]
    target[field] = value
    errors = refused(engine, client, data)
    assert path in errors, errors


def test_a_production_and_an_event_may_not_share_an_id(engine: Engine, client: Client) -> None:
    data = catalog()
    data["productions"][1]["productionId"] = ON_SALE
    errors = refused(engine, client, data)
    assert any("share one id space" in p for p in errors["productions[1].productionId"]), errors


def test_nor_with_what_an_earlier_file_stored(engine: Engine, client: Client) -> None:
    load(engine, client, catalog())
    later = catalog()
    # A new production that takes the id of an event the first file stored.
    later["productions"] = [
        {"productionId": ON_SALE, "productionName": "Nieuw", "events": []},
    ]
    errors = refused(engine, client, later)
    assert "stored event" in errors["productions"][0]
    later["productions"] = [
        {
            **catalog()["productions"][1],
            "events": [{**catalog()["productions"][1]["events"][0], "eventId": HAMLET}],
        }
    ]
    errors = refused(engine, client, later)
    assert "stored production" in errors["productions"][0]


def _rows(engine: Engine, client: Client) -> dict[str, list[tuple[Any, ...]]]:
    """The client's catalog rows, without the tenant and the hall seats' generated ids."""
    found = snapshot(engine, client)
    del found["clients"]
    for name, rows in found.items():
        table = next(t for t in CATALOG_TABLES if t.name == name)
        keep = [i for i, c in enumerate(table.c) if c.name not in ("tenant_id", "id")]
        found[name] = sorted((tuple(row[i] for i in keep) for row in rows), key=repr)
    return found


def test_the_public_tests_build_the_rows_that_loading_the_catalog_makes(
    engine: Engine, client: Client
) -> None:
    # The public API's tests build CATALOG with the test data builder; they read what they
    # expect from CATALOG, so the two must agree row for row.
    load(engine, client, catalog())
    built = new_client(engine)
    build_venue(engine, built)
    assert _rows(engine, built) == _rows(engine, client)
