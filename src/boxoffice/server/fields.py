"""Field tables: each rendered resource declared once; renderer, columns, schema made from it.

A resource (a customer, an order, a seat, ...) is a `Resource`: its JSON keys in contract
order, each with the column it renders and how (`Kind`). From that one table come:

- `Resource.columns`: the columns a row must hold, in the order the renderer reads them;
- `Resource.renderer()`: the Python rendering of a row tuple (the routes and the exports);
- `Resource.model`: the pydantic model that documents it in the OpenAPI document;
- the SQL that renders it in the database (`exports/json_sql.py`, from the same table).

Adding a field to a resource is one line in its table (once its column exists).
"""

import enum
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import cached_property
from typing import Annotated, Any

from pydantic import Field as SchemaField
from pydantic import create_model
from pydantic.alias_generators import to_camel, to_snake

from boxoffice.server.schemas import ApiModel
from boxoffice.server.values.rendering import ZONE_RENDERERS, render_money

Money = Annotated[float, SchemaField(description="Two decimals, e.g. 24.50.")]


class Kind(enum.Enum):
    """How a column's value is rendered (the same in Python and in both databases' SQL)."""

    INTEGER = "integer"  # an integer, never null
    NUMBER = "number"  # an integer or null
    TEXT = "text"  # a string or null, JSON-escaped
    MONEY = "money"  # integer cents, as a number with two decimals: 49.00
    INSTANT = "instant"  # UTC microseconds, never null, in the client's zone
    OPTIONAL_INSTANT = "optional_instant"  # the same or null
    GIVEN = "given"  # no column: the caller gives the rendered value (a list, a nested resource)


# What each kind is in the OpenAPI document unless the field says otherwise.
_SCHEMAS: dict[Kind, Any] = {
    Kind.INTEGER: int,
    Kind.NUMBER: int | None,
    Kind.TEXT: str | None,
    Kind.MONEY: Money,
    Kind.INSTANT: datetime,
    Kind.OPTIONAL_INSTANT: datetime | None,
}


@dataclass(frozen=True, slots=True)
class Field:
    """One key of a resource: the column it renders (None for a given value) and how.

    `only_if_set`: the key is left out when the column is null (a removed seat's deletedAt);
    such fields come last. `personal`: personal data, cleared when a customer is erased.
    `writable`: set from the request bodies of the resource's own endpoints: the type those
    bodies validate it with (None: not writable).
    """

    key: str
    column: str | None
    kind: Kind
    schema: Any = None
    description: str | None = None
    nested: "Resource | None" = None
    many: bool = False
    nullable: bool = False
    only_if_set: bool = False
    personal: bool = False
    writable: Any = None


def integer(key: str, column: str, schema: Any = int) -> Field:
    return Field(key, column, Kind.INTEGER, schema)


def number(key: str, column: str) -> Field:
    return Field(key, column, Kind.NUMBER)


def text(
    key: str, column: str, schema: Any = None, *, personal: bool = False, writable: Any = None
) -> Field:
    return Field(key, column, Kind.TEXT, schema, personal=personal, writable=writable)


def money(key: str, column: str, *, writable: Any = None) -> Field:
    return Field(key, column, Kind.MONEY, writable=writable)


def instant(key: str, column: str, *, only_if_set: bool = False, description: str = "") -> Field:
    if only_if_set:
        schema: Any = datetime | None
        return Field(key, column, Kind.INSTANT, schema, description, only_if_set=True)
    return Field(key, column, Kind.INSTANT)


def optional_instant(key: str, column: str) -> Field:
    return Field(key, column, Kind.OPTIONAL_INSTANT)


def given(key: str, schema: Any) -> Field:
    """A value the caller renders and gives to the renderer (e.g. a customer's tag names)."""
    return Field(key, None, Kind.GIVEN, schema)


def nested(key: str, resource: "Resource", *, many: bool = False, nullable: bool = False) -> Field:
    """A given value that is another resource (or a list of them, or null)."""
    return Field(key, None, Kind.GIVEN, nested=resource, many=many, nullable=nullable)


@dataclass(frozen=True)
class Resource:
    """A rendered resource: its name and description in the OpenAPI document, its fields."""

    name: str
    description: str
    fields: tuple[Field, ...]

    def __post_init__(self) -> None:
        keys = [f.key for f in self.fields]
        if len(set(keys)) != len(keys):
            raise ValueError(f"{self.name}: a key is declared twice")
        flags = [f.only_if_set for f in self.fields]
        if flags != sorted(flags):
            raise ValueError(f"{self.name}: fields rendered only if set must come last")
        for key in keys:
            if to_camel(to_snake(key)) != key:
                raise ValueError(f"{self.name}: {key!r} is not a camelCase name")

    @cached_property
    def columns(self) -> tuple[str, ...]:
        """The columns the fields render, in field order: how a row tuple is laid out."""
        return tuple(f.column for f in self.fields if f.column is not None)

    @cached_property
    def given_keys(self) -> tuple[str, ...]:
        """The keys whose values the caller gives the renderer, in this order."""
        return tuple(f.key for f in self.fields if f.kind is Kind.GIVEN)

    def column_of(self, key: str) -> str:
        """The column the field `key` renders."""
        found = next(f.column for f in self.fields if f.key == key)
        assert found is not None
        return found

    def renderer(self, columns: Sequence[str] | None = None) -> Callable[..., dict[str, Any]]:
        """A function `render(row, tz, *given)`: the resource (a dict, keys in field order) of
        `row`, a tuple laid out as `columns` (default: self.columns; it may hold more), and
        the values of the given fields in given_keys order.

        The function is compiled from the table, as dataclasses compiles its __init__: the
        exports render millions of rows, and a loop over the fields costs 2.4 times as much
        as the same code written out. Its source names only this table's keys and columns.
        """
        layout = tuple(self.columns if columns is None else columns)
        missing = set(self.columns) - set(layout)
        if missing:
            raise ValueError(f"{self.name}: the row lacks {sorted(missing)}")
        names = [f"c{index}" if name in self.columns else "_" for index, name in enumerate(layout)]
        args = [f"g{index}" for index in range(len(self.given_keys))]
        items: list[str] = []
        tail: list[str] = []
        for f in self.fields:
            if f.kind is Kind.GIVEN:
                items.append(f"{f.key!r}: g{self.given_keys.index(f.key)}")
                continue
            value = f"c{layout.index(f.column or '')}"
            rendered = _PYTHON[f.kind].format(value)
            if f.only_if_set:
                tail.append(f"    if {value} is not None:\n        d[{f.key!r}] = {rendered}")
            else:
                items.append(f"{f.key!r}: {rendered}")
        body = "{" + ", ".join(items) + "}"
        unpack = f"    ({', '.join(names)},) = row\n"
        if tail:
            source = f"    d = {body}\n" + "\n".join(tail) + "\n    return d\n"
        else:
            source = f"    return {body}\n"
        if any(f.kind in (Kind.INSTANT, Kind.OPTIONAL_INSTANT) for f in self.fields):
            # The zone's renderer once a row, then a plain call per instant.
            unpack = "    instant = zone_renderers[tz]\n" + unpack
        source = f"def render(row, tz, {', '.join(args)}):\n" + unpack + source
        namespace: dict[str, Any] = {"zone_renderers": ZONE_RENDERERS, "render_money": render_money}
        exec(compile(source, f"<{self.name} renderer>", "exec"), namespace)  # noqa: S102
        render: Callable[..., dict[str, Any]] = namespace["render"]
        return render

    def mapping_renderer(self) -> Callable[..., dict[str, Any]]:
        """renderer() for a row given as a mapping keyed by column name (a `RowMapping` of
        `select(table)`): `render(row, tz, *given)`. For the routes' few rows; the exports
        read tuples."""
        render = self.renderer()
        columns = self.columns

        def render_mapping(row: Mapping[Any, Any], tz: Any = None, *given: Any) -> dict[str, Any]:
            return render([row[name] for name in columns], tz, *given)

        return render_mapping

    @cached_property
    def model(self) -> type[ApiModel]:
        """The pydantic model of the resource, for the OpenAPI document only (made once, so
        a nested resource is one schema however many resources hold it)."""
        definitions: dict[str, Any] = {}
        for f in self.fields:
            schema: Any = _SCHEMAS.get(f.kind) if f.schema is None else f.schema
            if f.nested is not None:
                schema = list[f.nested.model] if f.many else f.nested.model  # type: ignore[name-defined]
                if f.nullable:
                    schema = schema | None
            default: Any = ...
            if f.only_if_set:
                default = SchemaField(default=None, description=f.description)
            definitions[to_snake(f.key)] = (schema, default)
        return create_model(self.name, __base__=ApiModel, __doc__=self.description, **definitions)

    @cached_property
    def list_model(self) -> Any:
        """A list of the resource, for the OpenAPI document (`response_model=`)."""
        return list[self.model]  # type: ignore[name-defined]


# The Python rendering of each kind; `{}` is the column's value (`instant`: the renderer of
# the client's zone, which keeps None).
_PYTHON: dict[Kind, str] = {
    Kind.INTEGER: "{}",
    Kind.NUMBER: "{}",
    Kind.TEXT: "{}",
    Kind.MONEY: "render_money({})",
    Kind.INSTANT: "instant({})",
    Kind.OPTIONAL_INSTANT: "instant({})",
}
