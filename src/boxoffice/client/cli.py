"""`boxoffice sync`: options -> a sync run (or status, or reset) -> a summary and an exit code."""

import json
import traceback
from enum import IntEnum
from pathlib import Path
from typing import Annotated, Any

import httpx
import typer
from rich.console import Console
from rich.table import Table

from boxoffice import __version__
from boxoffice.client.api import PepperedApi, RetryPolicy
from boxoffice.client.config import FileConfig, load_config, resolve_key
from boxoffice.client.errors import (
    ApiError,
    AuthenticationFailed,
    ConfigError,
    ServerUnavailable,
    SinkBusy,
    SinkError,
    SourceMismatch,
)
from boxoffice.client.leftovers import NewTarget, stored_nothing
from boxoffice.client.progress import ProgressDisplay
from boxoffice.client.redaction import redact
from boxoffice.client.report import SyncReport
from boxoffice.client.schema import STREAMS
from boxoffice.client.sinks import DEFAULT_TARGET, Sink, display_target, open_sink
from boxoffice.client.sync import Syncer, SyncOptions


class ExitCode(IntEnum):
    """Distinct codes, so that cron and scripts can tell failures apart (docs/sync.md)."""

    OK = 0
    ERROR = 1
    CONFIG = 2
    AUTHENTICATION = 3
    REFUSED = 4
    UNAVAILABLE = 5
    RECORDS_REJECTED = 6
    TARGET = 7


# Wide enough for any value: when output goes to a file or a pipe, nothing is cut or wrapped.
_NOT_A_TERMINAL_WIDTH = 10_000


def _console(*, stderr: bool = False) -> Console:
    """Rich's console, without its 80-column limit when the output is not a terminal."""
    console = Console(stderr=stderr)
    return console if console.is_terminal else Console(stderr=stderr, width=_NOT_A_TERMINAL_WIDTH)


def _table(*columns: str) -> Table:
    """A table whose cells fold onto more lines in a narrow terminal, never cut with an ellipsis."""
    table = Table()
    for column in columns:
        table.add_column(column, overflow="fold")
    return table


sync_app = typer.Typer(add_completion=False)
err = _console(stderr=True)

ConfigOption = Annotated[
    Path | None,
    typer.Option(
        "--config",
        help="TOML file with key, url, client, to, streams "
        "(default ~/.config/boxoffice/sync.toml).",
    ),
]
ToOption = Annotated[
    str | None,
    typer.Option(
        "--to",
        help=f"sqlite:///PATH (default {DEFAULT_TARGET}), duckdb:///PATH, "
        "postgresql://..., parquet:///DIR.",
    ),
]
StreamsOption = Annotated[
    str | None,
    typer.Option("--streams", help=f"Comma-separated, of: {','.join(STREAMS)} (default all)."),
]
JsonOption = Annotated[
    bool, typer.Option("--json", help="Print a one-object JSON summary on stdout.")
]


@sync_app.callback(invoke_without_command=True)
def sync(
    ctx: typer.Context,
    url: Annotated[
        str | None, typer.Option(help="The server, e.g. https://tickets.example.org.")
    ] = None,
    client: Annotated[str | None, typer.Option(help="The client (tenant) name.")] = None,
    to: ToOption = None,
    streams: StreamsOption = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress output.")] = False,
    json_output: JsonOption = False,
    config: ConfigOption = None,
    page_size: Annotated[
        int, typer.Option(min=1, max=100_000, help="Records per page (servers with paging).")
    ] = 5000,
    attempts: Annotated[int, typer.Option(min=1, help="Tries per request before giving up.")] = 8,
    retry_seconds: Annotated[
        float, typer.Option(min=0, help="Longest time to keep retrying one request.")
    ] = 600.0,
    timeout: Annotated[float, typer.Option(min=1, help="Network timeout in seconds.")] = 60.0,
    max_response_mb: Annotated[
        int,
        typer.Option(min=1, help="Largest single JSON-array response held in memory."),
    ] = 256,
) -> None:
    """Keep a local copy of a Peppered-compatible server up to date.

    Without a subcommand, runs one sync. The key: BOXOFFICE_SYNC_KEY or the config file.
    """
    if ctx.invoked_subcommand is not None:
        return
    try:
        file = load_config(config)
        url = url or file.url
        client = client or file.client
        if not url or not client:
            raise ConfigError("--url and --client are required (or url/client in the config)")
        key = resolve_key(file)
        chosen = _streams(streams or file.streams)
        target = to or file.to or DEFAULT_TARGET
    except ConfigError as exc:
        raise _fail(str(exc), ExitCode.CONFIG) from None
    _warn_permissions(file)
    options = SyncOptions(
        streams=chosen, page_size=page_size, max_response_bytes=max_response_mb * 1024 * 1024
    )
    retry = RetryPolicy(attempts=attempts, max_seconds=retry_seconds)
    try:
        code, summary = _run(url, client, key, target, options, retry, timeout, quiet)
    except Exception as exc:
        # A bug: say what and where, without locals (they hold the key) and with the key
        # masked in case an exception quoted it.
        trace = redact(traceback.format_exc(), key)
        err.print(trace, markup=False, highlight=False)
        message = redact(f"unexpected error: {type(exc).__name__}: {exc}", key)
        raise _fail(message, ExitCode.ERROR) from None
    if json_output:
        typer.echo(json.dumps(summary, sort_keys=False))
    raise typer.Exit(int(code))


def _run(
    url: str,
    client: str,
    key: str,
    target: str,
    options: SyncOptions,
    retry: RetryPolicy,
    timeout: float,
    quiet: bool,
) -> tuple[ExitCode, dict[str, Any]]:
    summary: dict[str, Any] = {
        "status": "failed",
        "exit_code": None,
        "url": url,
        "client": client,
        "target": display_target(target),
        "error": None,
        "streams": {},
    }

    def finish(code: ExitCode, error: str | None = None) -> tuple[ExitCode, dict[str, Any]]:
        if error is not None:
            error = redact(error, key)
            err.print(f"[red]error:[/red] {error}", highlight=False)
        summary["exit_code"] = int(code)
        summary["error"] = error
        return code, summary

    new_target = NewTarget(target)
    try:
        sink = open_sink(target)
    except (SinkError, ValueError) as exc:
        if not isinstance(exc, SinkBusy):
            new_target.remove_folders()
        code = ExitCode.CONFIG if isinstance(exc, ValueError) else ExitCode.TARGET
        return finish(code, str(exc))
    report: SyncReport | None = None
    try:
        with httpx.Client(
            timeout=timeout,
            follow_redirects=False,
            headers={"User-Agent": f"boxoffice-sync/{__version__}"},
        ) as http:
            api = PepperedApi(
                http,
                base_url=url,
                client=client,
                key=key,
                retry=retry,
                timeout=httpx.Timeout(timeout, connect=min(timeout, 15.0)),
            )
            display = None if quiet else ProgressDisplay(err)
            syncer = Syncer(api, sink, source=api.base, options=options, observer=display)
            try:
                if display is not None:
                    with display:
                        report = syncer.run()
                else:
                    report = syncer.run()
            except SourceMismatch as exc:
                return finish(ExitCode.CONFIG, str(exc))
            except SinkError as exc:
                return finish(ExitCode.TARGET, str(exc))
    finally:
        if new_target.created and report is not None and stored_nothing(report):
            # Nothing was synced into a copy this run made: leave no empty copy behind.
            sink.discard()
            new_target.remove_folders()
        else:
            sink.close()
    summary["streams"] = {name: r.to_json() for name, r in report.streams.items()}
    summary["rejected_records"] = report.rejected_stored
    code = _exit_code(report, options)
    summary["status"] = "ok" if code == ExitCode.OK else code.name.lower()
    if not quiet:
        _print_summary(report)
    error = str(report.error) if report.error is not None else None
    if code == ExitCode.RECORDS_REJECTED:
        stored = sum(report.rejected_stored.get(s, 0) for s in options.streams)
        error = (
            f"{stored} record(s) could not be stored and are kept in rejected_records "
            '(docs/sync.md, "Bad records")'
        )
    return finish(code, error)


def _exit_code(report: SyncReport, options: SyncOptions) -> ExitCode:
    error = report.error
    if isinstance(error, AuthenticationFailed):
        return ExitCode.AUTHENTICATION
    if isinstance(error, ServerUnavailable):
        return ExitCode.UNAVAILABLE
    if isinstance(error, ApiError):
        return ExitCode.REFUSED
    if isinstance(error, SinkError):
        return ExitCode.TARGET
    if error is not None:
        return ExitCode.ERROR
    if any(report.rejected_stored.get(s, 0) for s in options.streams):
        return ExitCode.RECORDS_REJECTED
    return ExitCode.OK


def _print_summary(report: SyncReport) -> None:
    table = _table(
        "stream", "records", "pages", "retries", "duplicates", "rejected", "rows", "mode"
    )
    for r in report.streams.values():
        table.add_row(
            r.stream,
            f"{r.records:,}",
            str(r.pages),
            str(r.retries),
            str(r.duplicates),
            str(r.rejected),
            "" if r.rows is None else f"{r.rows:,}",
            r.mode or "",
        )
    err.print(table)


def _streams(value: str | None) -> tuple[str, ...]:
    if not value:
        return STREAMS
    wanted = {s.strip().lower() for s in value.split(",") if s.strip()}
    unknown = sorted(wanted - set(STREAMS))
    if unknown or not wanted:
        raise ConfigError(
            f"unknown stream(s) {', '.join(unknown) or '(none)'}; choose from {','.join(STREAMS)}"
        )
    return tuple(s for s in STREAMS if s in wanted)


def _warn_permissions(file: FileConfig) -> None:
    if file.key and file.loose_permissions:
        err.print(
            f"[yellow]warning:[/yellow] {file.path} holds an API key and can be read by "
            f"others; run: chmod 600 {file.path}",
            highlight=False,
        )


def _fail(message: str, code: ExitCode) -> typer.Exit:
    err.print(f"[red]error:[/red] {message}", highlight=False)
    return typer.Exit(int(code))


def _open(to: str | None, config: Path | None, *, lock: bool) -> Sink:
    try:
        file = load_config(config)
        return open_sink(to or file.to or DEFAULT_TARGET, lock=lock)
    except ConfigError as exc:
        raise _fail(str(exc), ExitCode.CONFIG) from None
    except ValueError as exc:
        raise _fail(str(exc), ExitCode.CONFIG) from None
    except SinkError as exc:
        raise _fail(str(exc), ExitCode.TARGET) from None


@sync_app.command("status")
def status(
    to: ToOption = None, config: ConfigOption = None, json_output: JsonOption = False
) -> None:
    """Show each stream's state: watermark, paging in progress, last run, rows, rejected."""
    sink = _open(to, config, lock=False)
    try:
        states = sink.load_states()
        rejected = sink.count_rejected()
    except SinkError as exc:
        raise _fail(str(exc), ExitCode.TARGET) from None
    finally:
        sink.close()
    rows: dict[str, Any] = {}
    for stream in STREAMS:
        state = states.get(stream)
        if state is None:
            continue
        record = state.to_json()
        record["rejected"] = rejected.get(stream, 0)
        rows[stream] = record
    if json_output:
        typer.echo(json.dumps({"target": sink.display, "streams": rows}))
        return
    table = _table(
        "stream",
        "watermark",
        "in progress",
        "last_run_started_at_utc",
        "last_run_status",
        "last_run_records",
        "rows",
    )
    for stream, record in rows.items():
        progress = "paging" if record["cursor"] else "ranges" if record["range_from"] else ""
        table.add_row(
            stream,
            record["watermark"] or "(everything)",
            progress,
            record["last_run_started_at_utc"] or "",
            str(record["last_run_status"] or ""),
            str(record["last_run_records"]),
            "" if record["rows"] is None else str(record["rows"]),
        )
    out = _console()
    out.print(f"copy: {sink.display}", highlight=False)
    out.print(table)
    if any(rejected.values()):
        out.print(f"rejected records: {sum(rejected.values())} (table rejected_records)")


@sync_app.command("reset")
def reset(
    to: ToOption = None,
    streams: StreamsOption = None,
    data: Annotated[
        bool, typer.Option("--data", help="Also delete the streams' rows from the copy.")
    ] = False,
    config: ConfigOption = None,
) -> None:
    """Forget where the streams stopped, so that the next sync fetches everything again."""
    try:
        chosen = _streams(streams)
    except ConfigError as exc:
        raise _fail(str(exc), ExitCode.CONFIG) from None
    sink = _open(to, config, lock=True)
    try:
        sink.reset(chosen, drop_data=data)
    except SinkError as exc:
        raise _fail(str(exc), ExitCode.TARGET) from None
    finally:
        sink.close()
    what = "state and rows" if data else "state"
    typer.echo(f"reset {what} of {', '.join(chosen)} in {sink.display}")


if __name__ == "__main__":
    # `python -m boxoffice.client.cli` is `boxoffice sync` without the server's imports.
    sync_app()
