"""The code blocks of README.md and docs/*.md, and what the docs check does with each.

A fenced block is classified by its language and by an optional marker, an HTML comment on
the line just before the fence (invisible on GitHub):

    <!-- docs-check: skip: REASON -->         not run: needs a network, another host, runs
                                               forever, or is illustrative; say why
    <!-- docs-check: synopsis -->             a command synopsis (NAME, [--option] are
                                               placeholders): every `./boxoffice` line's
                                               command and options must exist (`--help`)
    <!-- docs-check: sql DATABASE ... -->     SQL that must run on the sync copies in these
                                               databases (sqlite, duckdb, postgresql)
    <!-- docs-check: output -->               (before a json block) what the previous block
                                               prints, times and keys aside

Without a marker, a `sh` block runs, in order with the other `sh` blocks of its file, in
one bash (`set -eo pipefail`, curl failing on HTTP errors) from a fresh checkout's root,
with a server started as `make run` starts it; a `sql` block must carry a marker. Other
languages (json, toml, cron, nginx, ...) are not run.
"""

import json
import re
import shlex
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from markdown_it import MarkdownIt

REPO = Path(__file__).resolve().parents[2]
DOCUMENTS = [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))]

_MARKER = re.compile(r"^<!--\s*docs-check:\s*(?P<kind>[a-z]+)(?::?\s*(?P<rest>.*?))?\s*-->\s*$")
KINDS = {"skip", "synopsis", "sql", "output"}
DATABASES = {"sqlite", "duckdb", "postgresql"}


@dataclass(frozen=True)
class Block:
    document: Path
    line: int  # 1-based line of the opening fence
    language: str
    text: str
    marker: str | None  # the marker's kind
    argument: str  # the rest of the marker: a reason, or databases

    @property
    def where(self) -> str:
        return f"{self.document.relative_to(REPO)}:{self.line}"

    @property
    def runs(self) -> bool:
        return self.language == "sh" and self.marker is None


def blocks(document: Path) -> list[Block]:
    """Every fenced block of the document, with the marker just before it, if any."""
    found: list[Block] = []
    marker: tuple[str, str, int] | None = None
    for token in MarkdownIt("commonmark").parse(document.read_text(encoding="utf-8")):
        start = token.map[0] if token.map else 0
        if token.type == "html_block":
            match = _MARKER.match(token.content.strip())
            if match is not None:
                if match["kind"] not in KINDS:
                    raise ValueError(f"{document}:{start + 1}: unknown marker {match['kind']!r}")
                marker = (match["kind"], match["rest"] or "", token.map[1] if token.map else 0)
            continue
        if token.type == "fence":
            language = token.info.strip().split(" ")[0]
            kind, argument = None, ""
            if marker is not None and marker[2] == start:
                kind, argument = marker[0], marker[1]
            found.append(Block(document, start + 1, language, token.content, kind, argument))
        marker = None
    return found


def check_markers(block: Block) -> None:
    """Markers that make sense where they are; a sql block must say its databases."""
    if block.marker == "skip" and not block.argument.strip():
        raise AssertionError(f"{block.where}: `docs-check: skip` needs a reason")
    if block.language == "sql" and block.marker not in ("sql", "skip"):
        raise AssertionError(f"{block.where}: mark the sql block with `docs-check: sql DB ...`")
    if block.marker == "sql":
        databases = set(block.argument.split())
        if not databases or databases - DATABASES:
            raise AssertionError(f"{block.where}: sql databases must be some of {DATABASES}")
    if block.marker == "output" and block.language != "json":
        raise AssertionError(f"{block.where}: `docs-check: output` goes before a json block")


def statements(sql: str) -> list[str]:
    """The block's statements, comments dropped (SQLite's own test of a complete statement)."""
    import sqlite3

    found, current = [], ""
    for line in sql.splitlines(keepends=True):
        if not current.strip() and line.lstrip().startswith("--"):
            continue
        current += line
        if sqlite3.complete_statement(current):
            found.append(current.strip().rstrip(";"))
            current = ""
    assert not current.strip(), f"an unfinished statement: {current!r}"
    return found


_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?([+-]\d{2}:\d{2}|Z)$")
_VARYING = {"orderKey"}


def normalized(value: Any) -> Any:
    """JSON with what differs from run to run (instants, order keys) blotted out."""
    if isinstance(value, dict):
        return {k: "<varies>" if k in _VARYING else normalized(v) for k, v in value.items()}
    if isinstance(value, list):
        return [normalized(v) for v in value]
    if isinstance(value, str) and _TIME.match(value):
        return "<instant>"
    return value


def parse_json_output(text: str) -> Any:
    return json.loads(text)


def synopsis_commands(text: str) -> list[list[str]]:
    """The words of each `./boxoffice` line of a synopsis block (continuations joined)."""
    joined = text.replace("\\\n", " ")
    commands = []
    for line in joined.splitlines():
        code = line.split(" #", 1)[0]
        words = shlex.split(code.replace("[", " ").replace("]", " ").replace("|", " "))
        if "./boxoffice" in words:
            commands.append(words[words.index("./boxoffice") + 1 :])
    return commands
