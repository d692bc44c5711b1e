"""One sync run: for each stream, load its state, fetch page after page, and commit each
page together with the state that follows it.

How a stream advances (docs/sync.md, "Guarantees"):

* Extensions (the response carries X-Sync-Watermark): ask for `limit` records a page and
  follow X-Next-Cursor; after the last page store the watermark (the smallest of the
  pages', which is the first page's: later pages keep its bound) as the next changedSince.
* Reference behaviour (no watermark): one request per range; store the largest lastChanged
  received, which the next run sends back inclusively, so its records are received again
  (counted as duplicates) and upserted. A response too large to hold is split into date
  ranges with changedUntil when the server honours it, checked on every response.
"""

import hashlib
import json
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from boxoffice.client.api import ExportPage, PepperedApi, RetryEvent
from boxoffice.client.errors import (
    ApiError,
    RecordError,
    RequestRejected,
    ResponseTooLarge,
    SinkError,
    SourceMismatch,
)
from boxoffice.client.records import (
    LastChanged,
    Parsed,
    dedupe_last,
    parse_client_type,
    parse_instant,
    parse_record,
    read_last_changed,
    record_id_text,
)
from boxoffice.client.report import Observer, Quiet, StreamReport, SyncReport
from boxoffice.client.schema import CLIENT_TYPES, REJECTED_RECORDS, STREAM_TABLES, STREAMS
from boxoffice.client.sinks.base import Batch, Row, Sink, TableChange
from boxoffice.client.state import (
    LAST_CHANGED,
    RANGE_START,
    RESPONSE_DATE,
    SERVER_WATERMARK,
    StreamState,
    utc_text,
)

# Body fields that only a server with the extensions knows; one that refuses them (422
# naming only these fields) is asked again without them.
EXTENSION_FIELDS = frozenset({"limit", "cursor", "changedUntil"})


@dataclass(frozen=True, slots=True)
class SyncOptions:
    streams: tuple[str, ...] = STREAMS
    page_size: int = 5000
    # A reference-mode response (one JSON array) larger than this is split into date
    # ranges, when the server honours changedUntil; otherwise it is read whole.
    max_response_bytes: int = 256 * 1024 * 1024
    # Only for records without lastChanged: how far before the server's Date header the
    # next run starts again.
    date_overlap: timedelta = timedelta(minutes=10)


@dataclass(slots=True)
class _Capabilities:
    """What this run learnt about the server, from its answers."""

    refused: set[str] = field(default_factory=set)
    # None: not known yet; False: a response held records at or after its changedUntil.
    until_honoured: bool | None = None


@dataclass(slots=True)
class _Range:
    """The range a request covers: [lo, hi), hi None meaning "up to now"."""

    lo: str | None
    hi: str | None


class Syncer:
    def __init__(
        self,
        api: PepperedApi,
        sink: Sink,
        *,
        source: str,
        options: SyncOptions | None = None,
        observer: Observer | None = None,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.api = api
        self.sink = sink
        self.source = source
        self.options = options or SyncOptions()
        self.observer: Observer = observer or Quiet()
        self._now = now
        self._caps = _Capabilities()
        self._stream = ""
        api.on_retry = self._on_retry

    def _on_retry(self, event: RetryEvent) -> None:
        self.observer.retrying(self._stream, event)

    def run(self) -> SyncReport:
        report = SyncReport()
        states = self.sink.load_states()
        for state in states.values():
            if state.source != self.source:
                raise SourceMismatch(
                    f"the target holds a copy of {state.source!r}, not of {self.source!r}; "
                    "use another target, or `boxoffice sync reset --data` to start over"
                )
        for stream in self.options.streams:
            self._stream = stream
            stream_report = StreamReport(stream)
            report.streams[stream] = stream_report
            self.observer.stream_started(stream)
            started = time.monotonic()
            state = states.get(stream) or StreamState(stream=stream, source=self.source)
            try:
                self._sync_stream(state, stream_report)
                stream_report.status = "ok"
            except (ApiError, SinkError) as exc:
                stream_report.status = "failed"
                stream_report.error = str(exc)
                report.error = exc
            finally:
                stream_report.seconds = time.monotonic() - started
                self.observer.stream_finished(stream_report)
            if report.error is not None:
                break
        try:
            report.rejected_stored = self.sink.count_rejected()
        except SinkError as exc:
            report.error = report.error or exc
        return report

    # -- one stream ------------------------------------------------------------------------

    def _sync_stream(self, state: StreamState, report: StreamReport) -> None:
        state = state.evolve(
            last_run_started_at_utc=self._now(),
            last_run_finished_at_utc=None,
            last_run_status="running",
            last_run_records=0,
        )
        self.sink.commit(Batch(state))
        try:
            if state.stream == "clienttypes":
                state = self._sync_client_types(state, report)
            else:
                state = self._sync_changes(state, report)
        except (ApiError, SinkError) as exc:
            self._record_failure(state.stream, exc)
            raise
        rows = self.sink.finish_stream(state.stream)
        state = state.evolve(last_run_finished_at_utc=self._now(), last_run_status="ok", rows=rows)
        self.sink.commit(Batch(state))
        report.rows = rows
        report.watermark = state.watermark

    def _record_failure(self, stream: str, exc: Exception) -> None:
        """Best effort: mark the run failed in the last committed state, touching nothing else."""
        try:
            committed = self.sink.load_states().get(stream)
            if committed is not None:
                status = f"failed: {exc}"[:500]
                self.sink.commit(Batch(committed.evolve(last_run_status=status)))
        except SinkError:
            pass

    def _sync_client_types(self, state: StreamState, report: StreamReport) -> StreamState:
        page = self.api.client_types()
        report.pages, report.retries, report.mode = 1, page.retries, "full"
        names: set[str] = set()
        rejected: list[Row] = []
        for position, value in enumerate(page.records):
            try:
                names.add(parse_client_type(value))
            except RecordError as exc:
                rejected.append(self._rejected_row("clienttypes", f"#{position}", exc, value))
        state = state.evolve(last_run_records=len(page.records))
        changes = [TableChange(CLIENT_TYPES, rows=[(n,) for n in sorted(names)], clear=True)]
        if rejected:
            changes.append(TableChange(REJECTED_RECORDS, rows=rejected))
        self.sink.commit(Batch(state, changes))
        report.records = len(page.records)
        report.rejected = len(rejected)
        self.observer.page_done("clienttypes", len(page.records))
        return state

    def _sync_changes(self, state: StreamState, report: StreamReport) -> StreamState:
        stream = state.stream
        rejected_ids = self.sink.rejected_ids(stream)
        # Upper bounds of the date ranges still to fetch; empty: one range, up to now.
        bounds: list[str] = []
        uncapped = False
        while True:
            if state.cursor is not None:
                current = _Range(state.cursor_since, None)
            else:
                current = _Range(state.range_from or state.watermark, bounds[0] if bounds else None)
            body = self._body(current, state.cursor)
            request_started = self._now()
            # Capped only while a too-large answer could still be split into ranges.
            splittable = not uncapped and self._caps.until_honoured is not False
            try:
                page = self.api.export(
                    stream,
                    body,
                    max_bytes=self.options.max_response_bytes if splittable else None,
                )
            except RequestRejected as exc:
                if self._learn_refusal(exc, body):
                    if "changedUntil" in exc.errors:
                        bounds, uncapped = [], True
                    continue
                if state.cursor is not None and "cursor" in exc.errors:
                    # The server no longer takes the cursor (restarted with another secret,
                    # say): start that paged export again from its beginning.
                    state = state.evolve(cursor=None, cursor_watermark=None)
                    continue
                raise
            except ResponseTooLarge as exc:
                if exc.watermark is not None:
                    raise ResponseTooLarge(
                        f"a page of {stream} is larger than --max-response-mb; lower --page-size"
                    ) from None
                split = self._split(current, exc.records)
                if split is None:
                    uncapped = True
                else:
                    bounds.insert(0, split)
                continue
            report.pages += 1
            report.retries += page.retries
            # Each record's lastChanged is parsed here, once, for the bounds and the writes.
            stamps = [read_last_changed(record) for record in page.records]
            latest = _latest(stamps)
            if page.watermark is not None:
                report.mode = "extensions"
                state, done = self._after_extension_page(state, current, page, latest)
                if current.hi is not None:
                    # The server has its extensions after all (it was switched between
                    # requests): drop the date ranges and page through from lo instead.
                    bounds = []
            else:
                report.mode = "reference"
                state, done, bounds = self._after_reference_page(
                    state, current, page, latest, body, bounds, request_started
                )
            uncapped = False
            state = self._write_page(stream, page.records, stamps, state, report, rejected_ids)
            if done:
                return state

    def _body(self, current: _Range, cursor: str | None) -> dict[str, Any]:
        body: dict[str, Any] = {}
        if current.lo is not None:
            body["changedSince"] = current.lo
        if current.hi is not None and "changedUntil" not in self._caps.refused:
            body["changedUntil"] = current.hi
        if "limit" not in self._caps.refused:
            body["limit"] = self.options.page_size
        if cursor is not None and "cursor" not in self._caps.refused:
            body["cursor"] = cursor
        return body

    def _learn_refusal(self, exc: RequestRejected, body: dict[str, Any]) -> bool:
        """A 422 naming only extension fields we sent: the server lacks them; drop them."""
        named = set(exc.errors)
        if exc.status != 422 or not named or not named <= EXTENSION_FIELDS:
            return False
        if not named <= set(body):
            return False
        self._caps.refused |= named
        if "changedUntil" in named:
            self._caps.until_honoured = False
        return True

    def _after_extension_page(
        self, state: StreamState, current: _Range, page: ExportPage, latest: LastChanged | None
    ) -> tuple[StreamState, bool]:
        assert page.watermark is not None
        top = _later_text(state.max_last_changed, latest)
        if current.hi is not None:
            # Only reachable when the server gained its extensions mid-run: keep lo, so
            # the next request (without a bound) covers this range again.
            state = state.evolve(cursor=None, cursor_since=None, max_last_changed=top)
            return state.evolve(range_from=current.lo), False
        watermark = _earliest(state.cursor_watermark, page.watermark)
        if page.next_cursor is not None:
            state = state.evolve(
                cursor=page.next_cursor,
                cursor_since=current.lo,
                cursor_watermark=watermark,
                max_last_changed=top,
            )
            return state, False
        state = state.evolve(
            cursor=None,
            cursor_since=None,
            cursor_watermark=None,
            max_last_changed=top,
            watermark=watermark,
            watermark_kind=SERVER_WATERMARK,
            range_from=None,
        )
        return state, True

    def _after_reference_page(
        self,
        state: StreamState,
        current: _Range,
        page: ExportPage,
        latest: LastChanged | None,
        body: dict[str, Any],
        bounds: list[str],
        request_started: datetime,
    ) -> tuple[StreamState, bool, list[str]]:
        top = _later_text(state.max_last_changed, latest)
        state = state.evolve(max_last_changed=top, cursor=None, cursor_since=None)
        if current.hi is not None:
            if latest is not None and latest.at >= parse_instant(current.hi):
                # changedUntil was ignored: this response holds everything from lo on.
                self._caps.until_honoured = False
                bounds = []
                current = _Range(current.lo, None)
            else:
                self._caps.until_honoured = True
        if "limit" in body and len(page.records) >= body["limit"] and latest is not None:
            # A server that honoured limit but sent no cursor may have cut the response
            # short: continue from its last lastChanged (inclusive). If that would not move
            # forward, ask without a limit instead.
            if current.lo is not None and latest.at <= parse_instant(current.lo):
                self._caps.refused.add("limit")
            return state.evolve(range_from=latest.text), False, bounds
        if current.hi is not None:
            return state.evolve(range_from=current.hi), False, bounds[1:]
        watermark: str | None
        kind: str | None
        if top is not None and latest is not None:
            watermark, kind = top, LAST_CHANGED
        elif page.records and latest is None:
            # Records without lastChanged: nothing in them says how far they reach, so the
            # next run starts a safe margin before the server's clock at this response.
            stamp = (page.server_date or request_started) - self.options.date_overlap
            watermark, kind = _max_text(current.lo, utc_text(stamp)), RESPONSE_DATE
        elif current.lo is not None and current.lo != state.watermark:
            # The last date range was empty: everything before its start is stored.
            watermark, kind = current.lo, RANGE_START
        else:
            watermark, kind = current.lo, state.watermark_kind
        state = state.evolve(watermark=watermark, watermark_kind=kind, range_from=None)
        return state, True, bounds

    def _split(self, current: _Range, leading: Sequence[Any]) -> str | None:
        """Where to cut a range that is too large, or None when it cannot be cut.

        `leading` are the records that arrived before reading stopped; they come in
        lastChanged order, so the first tells where the range's data starts.
        """
        if self._caps.until_honoured is False or "changedUntil" in self._caps.refused:
            return None
        seen = [stamp.at for stamp in map(read_last_changed, leading) if stamp is not None]
        if not seen:
            return None
        if current.hi is not None and max(seen) >= parse_instant(current.hi):
            # Records past changedUntil: the server ignores it, so ranges cannot help.
            self._caps.until_honoured = False
            return None
        first = seen[0]
        end = parse_instant(current.hi) if current.hi is not None else self._now()
        middle = (first + (end - first) / 2).replace(microsecond=0)
        if middle <= first + timedelta(seconds=1):
            return None
        return utc_text(middle)

    # -- writing a page ----------------------------------------------------------------------

    def _write_page(
        self,
        stream: str,
        records: Sequence[Any],
        stamps: Sequence[LastChanged | None],
        state: StreamState,
        report: StreamReport,
        rejected_ids: set[str],
    ) -> StreamState:
        parsed: list[Parsed] = []
        rejected: list[Row] = []
        for raw, stamp in zip(records, stamps, strict=True):
            try:
                parsed.append(parse_record(stream, raw, stamp))
            except RecordError as exc:
                record_id = record_id_text(stream, raw) or _anonymous_id(raw)
                rejected.append(self._rejected_row(stream, record_id, exc, raw))
        parsed, repeated_in_page = dedupe_last(parsed)
        stored = self.sink.versions(stream, [p.record_id for p in parsed])
        repeats = sum(
            1
            for p in parsed
            if p.last_changed is not None and stored.get(p.record_id, "\0") == p.last_changed
        )
        tables = STREAM_TABLES[stream]
        changes = [TableChange(tables[0], rows=[p.row for p in parsed])]
        if len(tables) > 1:
            child = tables[1]
            replaced = [p for p in parsed if p.children is not None]
            changes.append(
                TableChange(
                    child,
                    rows=[row for p in replaced for row in p.children or ()],
                    delete_by=(child.key[0],),
                    delete_keys=[(p.record_id,) for p in replaced],
                )
            )
        accepted = [str(p.record_id) for p in parsed if str(p.record_id) in rejected_ids]
        if rejected or accepted:
            changes.append(
                TableChange(
                    REJECTED_RECORDS,
                    rows=rejected,
                    delete_by=("stream", "record_id"),
                    delete_keys=[(stream, record_id) for record_id in accepted],
                )
            )
        state = state.evolve(last_run_records=state.last_run_records + len(records))
        self.sink.commit(Batch(state, changes))
        rejected_ids.difference_update(accepted)
        rejected_ids.update(str(r[1]) for r in rejected)
        report.records += len(records)
        report.duplicates += repeats + repeated_in_page
        report.rejected += len(rejected)
        self.observer.page_done(stream, len(records))
        return state

    def _rejected_row(self, stream: str, record_id: str, exc: Exception, raw: object) -> Row:
        return (stream, record_id, str(exc), _json_text(raw), self._now())


def _json_text(raw: object) -> str:
    return json.dumps(raw, default=str, ensure_ascii=False, sort_keys=True)


def _anonymous_id(raw: object) -> str:
    """A stable stand-in id for a record without a usable id: a digest of its content."""
    return "unknown:" + hashlib.sha256(_json_text(raw).encode()).hexdigest()[:16]


def _latest(stamps: Sequence[LastChanged | None]) -> LastChanged | None:
    """The latest lastChanged of a page (the first of equals), or None when none has one."""
    best: LastChanged | None = None
    for stamp in stamps:
        if stamp is not None and (best is None or stamp.at > best.at):
            best = stamp
    return best


def _later_text(current: str | None, latest: LastChanged | None) -> str | None:
    """The later of the kept max_last_changed and a page's latest, as received text."""
    if latest is None:
        return current
    if current is None or latest.at > parse_instant(current):
        return latest.text
    return current


def _earliest(a: str | None, b: str) -> str:
    if a is None:
        return b
    return a if parse_instant(a) <= parse_instant(b) else b


def _max_text(a: str | None, b: str) -> str:
    if a is None:
        return b
    return a if parse_instant(a) >= parse_instant(b) else b
