"""Rows as Arrow tables: the bulk path into DuckDB and the format of the Parquet files."""

from collections.abc import Sequence
from typing import Any

import pyarrow as pa  # type: ignore[import-untyped]

from boxoffice.client.schema import Kind, Table

_TYPES: dict[Kind, pa.DataType] = {
    Kind.INT: pa.int64(),
    Kind.TEXT: pa.string(),
    Kind.CENTS: pa.int64(),
    Kind.BOOL: pa.bool_(),
    Kind.UTC: pa.timestamp("us", tz="UTC"),
}


def arrow_schema(table: Table, columns: Sequence[str] | None = None) -> pa.Schema:
    names = columns or table.column_names
    kinds = {c.name: c for c in table.columns}
    return pa.schema(
        [pa.field(n, _TYPES[kinds[n].kind], nullable=kinds[n].nullable) for n in names]
    )


def arrow_table(
    table: Table, rows: Sequence[tuple[Any, ...]], columns: Sequence[str] | None = None
) -> pa.Table:
    """`rows` (tuples in `columns` order, all columns by default) as an Arrow table."""
    schema = arrow_schema(table, columns)
    data = [list(column) for column in zip(*rows, strict=True)] if rows else []
    if not data:
        return schema.empty_table()
    return pa.table(
        [pa.array(values, type=f.type) for values, f in zip(data, schema, strict=True)],
        schema=schema,
    )
