"""The demo's SQL: ids reserved up front, rows written in large batches, hall seats read back."""

from collections.abc import Sequence

from sqlalchemy import Connection, Table, func, select, text

from boxoffice.server.catalog.tables import hall_seats
from boxoffice.server.db.scoping import cross_tenant, scoped_select


class BulkWriter:
    """Writes many rows fast inside the caller's transaction.

    Ids are reserved before the rows are written, so that orders, their seats and the seats'
    place claims can refer to each other without reading anything back.
    """

    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        self.postgres = conn.dialect.name == "postgresql"
        self._next_id: dict[str, int] = {}

    def reserve_ids(self, table: Table, count: int) -> list[int]:
        """`count` fresh ids of `table`, ascending."""
        if count == 0:
            return []
        if self.postgres:
            # From the table's own sequence: later inserts by the API can never collide.
            stmt = text(
                "SELECT nextval(pg_get_serial_sequence(:table, 'id')) FROM generate_series(1, :n)"
            )
            found = self.conn.execute(stmt, {"table": table.name, "n": count}).scalars().all()
            return sorted(int(i) for i in found)
        # SQLite hands out max(id) + 1 by itself; this transaction holds the database's write
        # lock, so nobody else can take these ids before the rows are written.
        start = self._next_id.get(table.name)
        if start is None:
            largest = cross_tenant(
                select(func.coalesce(func.max(table.c.id), 0)), "ids are shared by all clients"
            )
            start = int(self.conn.execute(largest).scalar_one()) + 1
        self._next_id[table.name] = start + count
        return list(range(start, start + count))

    def insert(
        self, table: Table, columns: Sequence[str], rows: Sequence[tuple[object, ...]]
    ) -> None:
        """Insert rows given as tuples in `columns` order."""
        if not rows:
            return
        if self.postgres:
            self._copy(table, columns, rows)
            return
        # Straight to the driver's executemany: building a parameter dict per row through
        # SQLAlchemy cost more than SQLite's own work, for a million rows.
        marks = ", ".join("?" for _ in columns)
        sql = f"INSERT INTO {table.name} ({', '.join(columns)}) VALUES ({marks})"
        self.conn.exec_driver_sql(sql, list(rows))

    def analyze(self, tables: Sequence[Table]) -> None:
        """Fresh planner statistics on PostgreSQL, so the first queries on a new demo are fast.

        Inside the transaction ANALYZE samples this transaction's own rows too. SQLite is left
        alone: its ANALYZE would change query plans for the whole database file.
        """
        if self.postgres:
            self.conn.exec_driver_sql(f"ANALYZE {', '.join(t.name for t in tables)}")

    def _copy(
        self, table: Table, columns: Sequence[str], rows: Sequence[tuple[object, ...]]
    ) -> None:
        # COPY is several times faster than batched INSERTs on PostgreSQL; it runs on the same
        # driver connection, so it is part of the caller's transaction.
        driver = self.conn.connection.driver_connection
        assert driver is not None
        names = ", ".join(columns)
        with (
            driver.cursor() as cursor,
            cursor.copy(f"COPY {table.name} ({names}) FROM STDIN") as copy,
        ):
            for row in rows:
                copy.write_row(row)


def list_hall_seats(
    conn: Connection, *, tenant_id: int
) -> list[tuple[int, int, int, int, int, int]]:
    """(id, hall, section, row, seat, rank) of every hall seat of the client."""
    stmt = scoped_select(
        hall_seats,
        hall_seats.c.id,
        hall_seats.c.hall_id,
        hall_seats.c.section_id,
        hall_seats.c.row_nr,
        hall_seats.c.seat_nr,
        hall_seats.c.rank_id,
        tenant_id=tenant_id,
    )
    return [(a, b, c, d, e, f) for a, b, c, d, e, f in conn.execute(stmt)]
