"""Running an export: take the snapshot, plan the page, and hand both to a streaming response."""

from dataclasses import dataclass, replace
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, Engine

from boxoffice.server.config import Settings
from boxoffice.server.db.paging import Window
from boxoffice.server.db.transactions import close_snapshot, open_export_snapshot, read_transaction
from boxoffice.server.exports import repository
from boxoffice.server.exports.cursor import Cursor, encode_cursor, filter_digest
from boxoffice.server.exports.exporters import Exporter
from boxoffice.server.exports.request import ExportRequest
from boxoffice.server.exports.streaming import ExportResponse, ExportStream
from boxoffice.server.exports.writers import Writer
from boxoffice.server.tenancy.service import Tenant
from boxoffice.server.values.instants import micros_to_instant


@dataclass(frozen=True, slots=True)
class Page:
    """What one response returns: the window of rows, the bound it is complete up to
    (X-Sync-Watermark), and the cursor of the next page when more rows remain."""

    window: Window
    watermark: int
    next_cursor: Cursor | None


def plan_page(
    conn: Connection, exporter: Exporter, *, tenant_id: int, request: ExportRequest, watermark: int
) -> Page:
    """Decide, inside the snapshot and before any byte is sent, which rows this response holds.

    Only rows stamped before the snapshot's watermark W are returned. Every row stamped
    before W was committed before the snapshot was taken (the write barrier waited for its
    writer), so the response holds all of them; every write not yet visible is stamped at
    or after W. Hence passing W back as changedSince repeats nothing and misses nothing,
    and the largest lastChanged a client saw is below every change still to come, so the
    reference pattern (pass back the largest lastChanged) never misses one either.
    (db/transactions.py and docs/sync-guarantee.md give the whole argument.)

    With a limit, the page's last position is looked up first (an index-only read), because
    X-Next-Cursor is a header and must be known before the body starts.
    """
    until = watermark
    if request.changed_until is not None:
        until = min(until, request.changed_until)
    after = None
    if request.cursor is not None:
        # Later pages keep the first page's bound: the paged export covers one fixed range.
        until = min(until, request.cursor.until)
        after = request.cursor.position
    window = Window(until=until, since=request.changed_since, after=after)
    next_cursor = None
    if request.limit is not None:
        end = repository.find_page_end(
            conn, exporter.name, tenant_id=tenant_id, window=window, limit=request.limit
        )
        if end is not None:
            window = replace(window, through=end)
            next_cursor = Cursor(
                dataset=exporter.cursor_code,
                position=end,
                until=until,
                filter_digest=filter_digest(request.changed_since, request.changed_until),
            )
    return Page(window=window, watermark=until, next_cursor=next_cursor)


def render_watermark(micros: int, tz: ZoneInfo) -> str:
    """The watermark with microseconds: passed back as changedSince, it repeats nothing."""
    return micros_to_instant(micros, tz).isoformat(timespec="microseconds")


def start_export(
    engine: Engine,
    settings: Settings,
    *,
    tenant: Tenant,
    exporter: Exporter,
    request: ExportRequest,
    writer: Writer,
) -> ExportResponse:
    """Open the snapshot, plan the page and return the response that streams it.

    From here on the response owns the snapshot and closes it whatever happens.
    """
    snapshot = open_export_snapshot(engine)
    try:
        page = plan_page(
            snapshot.conn,
            exporter,
            tenant_id=tenant.id,
            request=request,
            watermark=snapshot.watermark,
        )
    except BaseException:
        close_snapshot(snapshot)
        raise
    headers: dict[str, str] = {}
    if settings.extensions:
        headers["X-Sync-Watermark"] = render_watermark(page.watermark, tenant.timezone)
        headers["Vary"] = "Accept"
        if page.next_cursor is not None:
            headers["X-Next-Cursor"] = encode_cursor(
                page.next_cursor, secret=settings.cursor_secret, tenant_id=tenant.id
            )
    stream = ExportStream(
        snapshot,
        exporter,
        tenant_id=tenant.id,
        tz=tenant.timezone,
        window=page.window,
        writer=writer,
        batch_size=settings.export_batch_size,
        user_cache_bytes=settings.export_user_cache_mib * 1024 * 1024,
    )
    return ExportResponse(stream, media_type=writer.media_type, headers=headers)


def list_client_types(engine: Engine, *, tenant: Tenant) -> list[str]:
    """The client's tag vocabulary, sorted by code point (the same on every database)."""
    with read_transaction(engine) as conn:
        return sorted(repository.list_client_types(conn, tenant_id=tenant.id))
