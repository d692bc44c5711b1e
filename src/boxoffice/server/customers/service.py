"""Customer rules: unique emails, no-op updates, tag replacement and erasure."""

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import Connection, RowMapping

from boxoffice.server.customers import repository
from boxoffice.server.customers.resources import USER
from boxoffice.server.db.transactions import Tx
from boxoffice.server.errors import Conflict, InvalidInput, NotFound

# What erasure clears: the personal fields of USER and the email's lookup key. The credit
# is a balance owed, not personal data, so it stays.
PERSONAL_COLUMNS = (*(f.column for f in USER.fields if f.personal and f.column), "email_key")


@dataclass(frozen=True, slots=True)
class CustomerRecord:
    """A `customers` row and its tag names: what UserResource renders."""

    row: Mapping[str, Any]
    tags: list[str]


def _duplicate_email() -> InvalidInput:
    return InvalidInput.field("email", "A customer with this email address exists already.")


def _erased() -> Conflict:
    return Conflict("This customer has been erased and cannot be changed.")


def _record(conn: Connection, *, tenant_id: int, customer_id: int) -> CustomerRecord:
    row = repository.get_customer(conn, tenant_id=tenant_id, customer_id=customer_id)
    if row is None:
        raise NotFound("Customer")
    tags = repository.get_tags(conn, tenant_id=tenant_id, customer_id=customer_id)
    # RowMapping is typed with `str | Column` keys; rows of select(table) are keyed by name.
    return CustomerRecord(row=cast("Mapping[str, Any]", row), tags=tags)


def _locked(conn: Connection, *, tenant_id: int, customer_id: int) -> RowMapping:
    row = repository.lock_customer(conn, tenant_id=tenant_id, customer_id=customer_id)
    if row is None:
        raise NotFound("Customer")
    return row


def create_customer(tx: Tx, *, tenant_id: int, fields: Mapping[str, Any]) -> CustomerRecord:
    """Insert a customer; a duplicate email (case-insensitive) is a 422 on `email`."""
    values = {**fields, "email_key": fields["email"].lower()}
    customer_id = repository.insert_customer(
        tx.conn, tenant_id=tenant_id, values=values, now=tx.now
    )
    if customer_id is None:
        raise _duplicate_email()
    return _record(tx.conn, tenant_id=tenant_id, customer_id=customer_id)


def get_customer(conn: Connection, *, tenant_id: int, customer_id: int) -> CustomerRecord:
    return _record(conn, tenant_id=tenant_id, customer_id=customer_id)


def find_customer(conn: Connection, *, tenant_id: int, customer_id: int) -> CustomerRecord | None:
    """The customer and its tags, or None when the client has no customer of this id."""
    row = repository.get_customer(conn, tenant_id=tenant_id, customer_id=customer_id)
    if row is None:
        return None
    tags = repository.get_tags(conn, tenant_id=tenant_id, customer_id=customer_id)
    return CustomerRecord(row=cast("Mapping[str, Any]", row), tags=tags)


def lock_customer(conn: Connection, *, tenant_id: int, customer_id: int) -> RowMapping | None:
    """The customer row, locked until commit (None when there is no such customer): serialises
    the changes that depend on one customer."""
    return repository.lock_customer(conn, tenant_id=tenant_id, customer_id=customer_id)


def list_customers_by_ids(
    conn: Connection, *, tenant_id: int, customer_ids: Collection[int]
) -> dict[int, CustomerRecord]:
    """The client's customers of these ids that exist, with their tags, by id."""
    rows = repository.list_customers_by_ids(conn, tenant_id=tenant_id, customer_ids=customer_ids)
    tags = repository.list_tags_by_customer(conn, tenant_id=tenant_id, customer_ids=customer_ids)
    return {
        customer_id: CustomerRecord(
            row=cast("Mapping[str, Any]", row), tags=tags.get(customer_id, [])
        )
        for customer_id, row in rows.items()
    }


def find_customer_by_email(conn: Connection, *, tenant_id: int, email: str) -> CustomerRecord:
    row = repository.get_customer_by_email_key(conn, tenant_id=tenant_id, email_key=email.lower())
    if row is None:
        raise NotFound("Customer")
    return _record(conn, tenant_id=tenant_id, customer_id=row["id"])


def update_customer(
    tx: Tx, *, tenant_id: int, customer_id: int, changes: Mapping[str, Any]
) -> CustomerRecord:
    """Apply the fields present; nothing is written (lastChanged stays) if nothing differs."""
    row = _locked(tx.conn, tenant_id=tenant_id, customer_id=customer_id)
    values = dict(changes)
    if "email" in values:
        values["email_key"] = values["email"].lower()
    values = {column: value for column, value in values.items() if row[column] != value}
    if values:
        if row["erased_at"] is not None:
            raise _erased()
        updated = repository.update_customer(
            tx.conn, tenant_id=tenant_id, customer_id=customer_id, values=values, now=tx.now
        )
        if not updated:
            raise _duplicate_email()
    return _record(tx.conn, tenant_id=tenant_id, customer_id=customer_id)


def get_customer_tags(conn: Connection, *, tenant_id: int, customer_id: int) -> list[str]:
    return _record(conn, tenant_id=tenant_id, customer_id=customer_id).tags


def replace_customer_tags(
    tx: Tx, *, tenant_id: int, customer_id: int, names: Sequence[str]
) -> list[str]:
    """Make the customer's tags exactly `names`; every name must be in the vocabulary."""
    row = _locked(tx.conn, tenant_id=tenant_id, customer_id=customer_id)
    vocabulary = repository.list_client_type_names(tx.conn, tenant_id=tenant_id)
    unknown = [name for name in names if name not in vocabulary]
    if unknown:
        raise InvalidInput(
            {"clientTypes": [f"The client type {name!r} does not exist." for name in unknown]},
            message=f"Unknown client types: {', '.join(repr(name) for name in unknown)}.",
        )
    wanted = set(names)
    current = set(repository.get_tags(tx.conn, tenant_id=tenant_id, customer_id=customer_id))
    if wanted != current:
        if row["erased_at"] is not None:
            raise _erased()
        repository.delete_tags(
            tx.conn, tenant_id=tenant_id, customer_id=customer_id, names=current - wanted
        )
        repository.insert_tags(
            tx.conn, tenant_id=tenant_id, customer_id=customer_id, names=sorted(wanted - current)
        )
        repository.update_customer(
            tx.conn, tenant_id=tenant_id, customer_id=customer_id, values={}, now=tx.now
        )
    return sorted(wanted)


def erase_customer(tx: Tx, *, tenant_id: int, customer_id: int) -> CustomerRecord:
    """Clear personal data and tags; the id, credit, orders and waiting list stay.

    Erasing an erased customer changes nothing (and does not move lastChanged).
    """
    row = _locked(tx.conn, tenant_id=tenant_id, customer_id=customer_id)
    if row["erased_at"] is None:
        repository.delete_tags(tx.conn, tenant_id=tenant_id, customer_id=customer_id)
        values: dict[str, Any] = dict.fromkeys(PERSONAL_COLUMNS)
        values["erased_at"] = tx.now
        repository.update_customer(
            tx.conn, tenant_id=tenant_id, customer_id=customer_id, values=values, now=tx.now
        )
    return _record(tx.conn, tenant_id=tenant_id, customer_id=customer_id)
