"""Concurrent writers: a duplicate email loses with a 422 whatever the interleaving."""

from sqlalchemy import Engine

from boxoffice.server.customers import service
from boxoffice.server.db.transactions import write_transaction
from boxoffice.server.errors import InvalidInput
from tests.conftest import Client
from tests.customers.conftest import stored
from tests.threads import WRITERS, run_together


def fields(email: str, last_name: str) -> dict[str, object]:
    return {
        "email": email,
        "first_name": None,
        "last_name": last_name,
        "salutation": None,
        "preposition": None,
        "address": None,
        "house_nr": None,
        "zip": None,
        "city": None,
        "country": None,
        "phone": None,
        "credit_cents": 0,
    }


def assert_one_winner(outcomes: list[BaseException | None]) -> None:
    assert outcomes.count(None) == 1, outcomes
    for outcome in outcomes:
        if outcome is not None:
            assert isinstance(outcome, InvalidInput), repr(outcome)
            assert outcome.errors is not None and list(outcome.errors) == ["email"]


def test_concurrent_creates_with_one_email_make_one_customer(
    engine: Engine, client: Client
) -> None:
    def create(i: int) -> None:
        with write_transaction(engine) as tx:
            service.create_customer(
                tx,
                tenant_id=client.tenant.id,
                fields=fields("Same@Example.org" if i % 2 else "same@example.org", f"N{i}"),
            )

    assert_one_winner(run_together(create))
    rows, _tags = stored(engine, client)
    assert [row["email_key"] for row in rows] == ["same@example.org"]


def test_concurrent_updates_to_one_email_leave_one_owner(engine: Engine, client: Client) -> None:
    ids = []
    for i in range(WRITERS):
        with write_transaction(engine) as tx:
            record = service.create_customer(
                tx, tenant_id=client.tenant.id, fields=fields(f"c{i}@example.org", f"N{i}")
            )
        ids.append(record.row["id"])

    def update(i: int) -> None:
        with write_transaction(engine) as tx:
            service.update_customer(
                tx,
                tenant_id=client.tenant.id,
                customer_id=ids[i],
                changes={"email": "wanted@example.org"},
            )

    assert_one_winner(run_together(update))
    rows, _tags = stored(engine, client)
    assert sorted(row["email_key"] for row in rows).count("wanted@example.org") == 1
