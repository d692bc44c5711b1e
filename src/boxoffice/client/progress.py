"""A Rich progress bar per stream on stderr: records so far and records per second."""

from rich.console import Console
from rich.progress import (
    Progress,
    ProgressColumn,
    SpinnerColumn,
    Task,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)
from rich.text import Text

from boxoffice.client.api import RetryEvent
from boxoffice.client.report import StreamReport


class _RateColumn(ProgressColumn):
    def render(self, task: Task) -> Text:
        # Over the stream's whole run, not Rich's moving window: pages arrive in bursts.
        elapsed = task.finished_time if task.finished else task.elapsed
        if not elapsed or not task.completed:
            return Text("")
        return Text(f"{task.completed / elapsed:,.0f} records/s", style="cyan")


class ProgressDisplay:
    """The sync's Observer for a person at a terminal (or a log, where it prints once)."""

    def __init__(self, console: Console | None = None) -> None:
        self.console = console or Console(stderr=True)
        self._progress = Progress(
            SpinnerColumn(finished_text="✓"),
            TextColumn("{task.description:<12}"),
            TextColumn("{task.completed:>10,.0f} records"),
            _RateColumn(),
            TimeElapsedColumn(),
            TextColumn("{task.fields[note]}", style="yellow"),
            console=self.console,
        )
        self._tasks: dict[str, TaskID] = {}
        self._counts: dict[str, int] = {}

    def __enter__(self) -> "ProgressDisplay":
        self._progress.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._progress.stop()

    def stream_started(self, stream: str) -> None:
        self._tasks[stream] = self._progress.add_task(stream, total=None, note="")
        self._counts[stream] = 0

    def page_done(self, stream: str, records: int) -> None:
        self._counts[stream] += records
        self._progress.update(self._tasks[stream], advance=records)

    def retrying(self, stream: str, event: RetryEvent) -> None:
        note = f"retry {event.attempt}: {event.reason}; waiting {event.delay:.1f}s"
        self._progress.update(self._tasks[stream], note=note)

    def stream_finished(self, report: StreamReport) -> None:
        task = self._tasks[report.stream]
        note = "" if report.status == "ok" else f"{report.status}: {report.error}"
        if report.status == "ok" and report.duplicates:
            note = f"{report.duplicates} received again"
        # A finished task with a total stops its spinner and freezes its rate.
        done = self._counts[report.stream]
        self._progress.update(task, total=done, completed=done, note=note)
