"""The SQL that renders a resource as JSON text in the database, made from its field table.

`json_sql(resource, dialect, ...)` gives an SQL expression whose value is the same text
orjson makes of the resource's Python rendering (fields.Resource.renderer): the same keys in
the same order, no whitespace, strings escaped by to_json / json_quote exactly as orjson
escapes them, money with two decimals. PostgreSQL concatenates (`||`); SQLite makes one
printf() per resource, which costs less than chains of `||`.

Instants: PostgreSQL renders them itself in the transaction's TimeZone (see
repository.use_zone); SQLite, which knows no zones, calls back into Python's render_instant
through the boxoffice_instant() function registered for the export.

The SQL text holds only the field table's keys and columns and the caller's SQL for the
given fields: no input reaches it. It is made once per process (the repository keeps it).
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import orjson

from boxoffice.server.fields import Kind, Resource


@dataclass(frozen=True, slots=True)
class Raw:
    """A piece of the JSON text itself (a key, a bracket)."""

    text: str


@dataclass(frozen=True, slots=True)
class Value:
    """An SQL expression whose value is a piece of the JSON text; `format` is its printf()
    conversion on SQLite (an integer can be given as `%d` without a cast)."""

    sql: str
    format: str = "%s"


Part = Raw | Value


def pg_instant(micros: str) -> str:
    """`micros` (UTC microseconds, bigint) as render_instant's text, in the session's
    TimeZone: 2026-04-22T13:08:55+02:00, seconds floored as datetime.isoformat does."""
    ts = f"to_timestamp(({micros} - mod(mod({micros}, 1000000) + 1000000, 1000000)) / 1000000)"
    offset = f"extract(timezone FROM {ts})::int"
    # to_char's offset has no seconds; Python writes them when there are any (local mean time,
    # as in +00:19:32). Every zone's offset has been whole minutes since 1972-01-07 (Liberia),
    # so the check is made only for earlier instants (before 1973-01-01, in microseconds).
    seconds = (
        f"CASE WHEN {micros} < 94694400000000 AND mod({offset}, 60) <> 0"
        f" THEN ':' || lpad(mod(abs({offset}), 60)::text, 2, '0') ELSE '' END"
    )
    return f"""to_char({ts}, 'YYYY-MM-DD"T"HH24:MI:SSTZH:TZM') || {seconds}"""


def _pg_value(kind: Kind, column: str) -> list[Part]:
    if kind is Kind.INTEGER:
        return [Value(column)]
    if kind is Kind.NUMBER:
        return [Value(f"coalesce({column}::text, 'null')")]
    if kind is Kind.TEXT:
        return [Value(f"coalesce(to_json({column})::text, 'null')")]
    if kind is Kind.MONEY:
        # bigint * numeric of scale 2 is a numeric of scale 2: 4900 -> 49.00, -50 -> -0.50.
        return [Value(f"({column} * 0.01)")]
    if kind is Kind.INSTANT:
        return [Raw('"'), Value(pg_instant(column)), Raw('"')]
    if kind is Kind.OPTIONAL_INSTANT:
        return [Value(f"""coalesce('"' || {pg_instant(column)} || '"', 'null')""")]
    raise ValueError(f"no SQL for a {kind} field")


def _sqlite_value(kind: Kind, column: str) -> list[Part]:
    if kind is Kind.INTEGER:
        return [Value(column, "%d")]
    if kind is Kind.NUMBER:
        return [Value(f"coalesce({column}, 'null')")]
    if kind is Kind.TEXT:
        return [Value(f"json_quote({column})")]
    if kind is Kind.MONEY:
        # A sign, whole units and two-digit cents in integer arithmetic (as values.money_text).
        return [
            Value(f"CASE WHEN {column} < 0 THEN '-' ELSE '' END"),
            Value(f"abs({column}) / 100", "%d"),
            Raw("."),
            Value(f"abs({column}) % 100", "%02d"),
        ]
    if kind is Kind.INSTANT:
        return [Raw('"'), Value(f"boxoffice_instant({column})"), Raw('"')]
    if kind is Kind.OPTIONAL_INSTANT:
        return [Value(f"""coalesce('"' || boxoffice_instant({column}) || '"', 'null')""")]
    raise ValueError(f"no SQL for a {kind} field")


_VALUES = {"postgresql": _pg_value, "sqlite": _sqlite_value}


def _sql_string(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _merged(parts: Sequence[Part]) -> list[Part]:
    """Adjacent raw pieces as one."""
    merged: list[Part] = []
    for part in parts:
        last = merged[-1] if merged else None
        if isinstance(part, Raw) and isinstance(last, Raw):
            merged[-1] = Raw(last.text + part.text)
        else:
            merged.append(part)
    return merged


def pg_text(parts: Sequence[Part]) -> str:
    """PostgreSQL: the pieces concatenated (the first is raw text, so `||` takes any type)."""
    return " || ".join(
        _sql_string(part.text) if isinstance(part, Raw) else part.sql for part in _merged(parts)
    )


def sqlite_text(parts: Sequence[Part]) -> str:
    """SQLite: one printf() of the pieces."""
    template = "".join(
        part.text.replace("%", "%%") if isinstance(part, Raw) else part.format for part in parts
    )
    args = [part.sql for part in parts if isinstance(part, Value)]
    return f"printf({', '.join([_sql_string(template), *args])})"


def json_sql(
    resource: Resource,
    dialect: str,
    table: str,
    given: Mapping[str, Sequence[Part]],
    *,
    open_at: str | None = None,
    only_if_set: bool = False,
) -> str:
    """An SQL expression: the JSON text of the resource of a row of `table`, made of its
    columns' values and, for each given field, the pieces in `given`.

    `open_at`: the text stops after that (last) field's key, for the caller to append its
    value and the closing brace. `only_if_set`: whether the fields rendered only when set
    are there (the caller's query then selects only rows where they are set).
    """
    value_of = _VALUES[dialect]
    parts: list[Part] = [Raw("{")]
    fields = [f for f in resource.fields if only_if_set or not f.only_if_set]
    for index, f in enumerate(fields):
        parts.append(Raw(("," if index else "") + orjson.dumps(f.key).decode() + ":"))
        if f.key == open_at:
            if index != len(fields) - 1:
                raise ValueError(f"{resource.name}: the open field {open_at!r} is not last")
            break
        if f.column is None:
            parts.extend(given[f.key])
        else:
            parts.extend(value_of(f.kind, f"{table}.{f.column}"))
    else:
        parts.append(Raw("}"))
    return pg_text(parts) if dialect == "postgresql" else sqlite_text(parts)
