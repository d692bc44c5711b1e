"""The body of an export: keyset batches read from one snapshot, rendered and written as they go.

The stream owns the snapshot (a connection in an open read transaction) from the moment the
route hands it over, and releases it exactly once: when the last batch is written, when
reading fails, or when the client goes away mid-stream (ExportResponse closes it then).
"""

from collections.abc import Generator, Iterator, Mapping
from zoneinfo import ZoneInfo

import anyio
import anyio.to_thread
from starlette.responses import StreamingResponse
from starlette.types import Receive, Scope, Send

from boxoffice.server.db.paging import Position, Window
from boxoffice.server.db.transactions import Snapshot, close_snapshot
from boxoffice.server.exports import repository
from boxoffice.server.exports.exporters import Exporter
from boxoffice.server.exports.writers import Writer


class ExportStream:
    """An iterable of byte chunks, one per batch of `batch_size` records.

    Iterating it reads batch after batch, so the first bytes leave before the last rows are
    read and memory holds one batch at a time, whatever the size of the export.
    """

    def __init__(
        self,
        snapshot: Snapshot,
        exporter: Exporter,
        *,
        tenant_id: int,
        tz: ZoneInfo,
        window: Window,
        writer: Writer,
        batch_size: int,
    ) -> None:
        self._snapshot: Snapshot | None = snapshot
        self._exporter = exporter
        self._tenant_id = tenant_id
        self._tz = tz
        self._window = window
        self._writer = writer
        self._batch_size = max(1, batch_size)
        self._chunks = self._generate(snapshot)

    def __iter__(self) -> Iterator[bytes]:
        return self._chunks

    def _generate(self, snapshot: Snapshot) -> Generator[bytes, None, None]:
        conn, writer, size = snapshot.conn, self._writer, self._batch_size
        window, first = self._window, True
        try:
            while True:
                batch = repository.Batch(self._exporter.name, self._tenant_id, window, size)
                rows = repository.list_batch(conn, batch)
                if not rows:
                    break
                records = self._exporter.render(conn, batch, rows, self._tz)
                chunk = writer.batch(records, first=first)
                del records
                if first:
                    chunk = writer.head + chunk
                    first = False
                # A short batch is the last one: the window is fixed, the snapshot frozen.
                last = len(rows) < size
                if last:
                    chunk += writer.tail
                else:
                    end = rows[-1]
                    window = window.continued_after(Position(end["last_changed_at"], end["id"]))
                del rows
                yield chunk
                if last:
                    return
            closing = writer.head + writer.tail if first else writer.tail
            if closing:
                yield closing
        finally:
            self._release()

    def _release(self) -> None:
        snapshot, self._snapshot = self._snapshot, None
        if snapshot is not None:
            close_snapshot(snapshot)

    def close(self) -> None:
        """Stop the stream and release its snapshot; safe to call more than once.

        A generator that never started does not run its `finally`, hence the explicit release.
        """
        try:
            self._chunks.close()
        finally:
            self._release()


class ExportResponse(StreamingResponse):
    """A StreamingResponse that always releases its export's snapshot, however it ends.

    When the client disconnects, Starlette cancels the sending task and the body iterator
    is merely abandoned; closing the stream here returns the connection to the pool at once
    instead of whenever the garbage collector gets to it. The close runs in a thread (it
    talks to the database) and is shielded from the cancellation that may have ended us.
    """

    def __init__(self, stream: ExportStream, *, media_type: str, headers: Mapping[str, str]):
        super().__init__(stream, media_type=media_type, headers=headers)
        self._export = stream

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await super().__call__(scope, receive, send)
        finally:
            with anyio.CancelScope(shield=True):
                await anyio.to_thread.run_sync(self._export.close)
