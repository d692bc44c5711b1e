"""Every shell and SQL example of README.md and docs/ runs as written (tests/docs/examples.py
says how a block is marked when it cannot run offline or is only a synopsis)."""

import itertools
import json
import os
import shutil
import signal
import socket
import sqlite3
import subprocess
import time
import uuid
from collections.abc import Iterator
from contextlib import closing, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import httpx
import psycopg
import pytest
import typer

from boxoffice.cli import app as boxoffice_app
from tests.conftest import POSTGRES_ADMIN_URL, REQUIRE_POSTGRES, url_of_database
from tests.docs.examples import (
    DOCUMENTS,
    REPO,
    Block,
    blocks,
    check_markers,
    normalized,
    statements,
    synopsis_commands,
)

# Bounds, not expectations.
STARTUP_SECONDS = 120
DOCUMENT_SECONDS = 300
# The ports the docs use: the server of `make run`, and the walk-through's own.
DOC_PORTS = (8000, 8001)

ALL_BLOCKS = [b for document in DOCUMENTS for b in blocks(document)]
RUNNABLE = sorted({b.document for b in ALL_BLOCKS if b.runs})


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _newcomer_path() -> str:
    """PATH without uv and without this checkout's virtual environment, as on a new machine."""
    kept = []
    for entry in os.environ.get("PATH", "").split(os.pathsep):
        folder = Path(entry)
        if not entry or str(folder.resolve()).startswith(str(REPO)):
            continue
        if (folder / "uv").exists() or (folder / "boxoffice").exists():
            continue
        kept.append(entry)
    return os.pathsep.join(kept)


@dataclass
class Checkout:
    """A fresh checkout's root as `make run` leaves it, with its server running."""

    root: Path
    env: dict[str, str]
    ports: dict[int, int]

    def substitute(self, text: str) -> str:
        for doc_port, port in self.ports.items():
            text = text.replace(f"127.0.0.1:{doc_port}", f"127.0.0.1:{port}")
            text = text.replace(f"--port {doc_port}", f"--port {port}")
        return text

    def run(self, *command: str) -> str:
        done = subprocess.run(
            command,
            cwd=self.root,
            env=self.env,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=DOCUMENT_SECONDS,
            check=False,
        )
        assert done.returncode == 0, f"{command}:\n{done.stdout}\n{done.stderr}"
        return done.stdout


@pytest.fixture(scope="module")
def checkout(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Checkout]:
    root = tmp_path_factory.mktemp("checkout")
    for name in ("boxoffice", "docs", ".venv"):
        (root / name).symlink_to(REPO / name)
    home = root.parent / f"{root.name}-home"
    home.mkdir()
    # curl as in the docs, except that an HTTP error fails the example (exit 22) instead of
    # passing unnoticed.
    (home / ".curlrc").write_text("fail\nshow-error\n", encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("BOXOFFICE_", "VIRTUAL_ENV"))}
    env.update(PATH=_newcomer_path(), HOME=str(home), CURL_HOME=str(home), LC_ALL="C.UTF-8")
    # What an example makes with mktemp (a cookie jar) stays in this test's directory.
    env["TMPDIR"] = str(home)
    env.pop("PYTHONPATH", None)
    ports = {doc_port: _free_port() for doc_port in DOC_PORTS}
    checkout = Checkout(root, env, ports)
    # What `make run` does (Makefile), on a free port.
    checkout.run("./boxoffice", "migrate")
    checkout.run(
        "./boxoffice", "demo", "--client", "demo", "--scale", "small", "--key-file", ".demo-key"
    )
    log = (root.parent / f"{root.name}-server.log").open("wb")
    server = subprocess.Popen(
        ["./boxoffice", "serve", "--port", str(ports[8000])],
        cwd=root,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=log,
        stderr=log,
        start_new_session=True,
    )
    try:
        _wait_until_ready(ports[8000], server)
        yield checkout
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait()
        log.close()


def _wait_until_ready(port: int, server: "subprocess.Popen[bytes]") -> None:
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        assert server.poll() is None, "the docs' server exited early"
        try:
            if httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=5).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    raise AssertionError("the docs' server did not become ready")


def test_every_block_is_marked_sensibly() -> None:
    assert len(DOCUMENTS) > 5 and any(b.runs for b in ALL_BLOCKS)
    for block in ALL_BLOCKS:
        check_markers(block)
    for document in DOCUMENTS:
        found = blocks(document)
        for before, block in itertools.pairwise(found):
            if block.marker == "output":
                assert before.runs, f"{block.where}: `output` must follow a block that runs"


_BOUNDARY = "@@docs-check block {}@@"


@pytest.mark.parametrize("document", RUNNABLE, ids=lambda d: str(d.relative_to(REPO)))
def test_the_shell_examples_run_as_written(checkout: Checkout, document: Path) -> None:
    found = blocks(document)
    runnable = [b for b in found if b.runs]
    script = ["set -eo pipefail"]
    for number, block in enumerate(runnable):
        script.append(f"printf '\\n%s\\n' '{_BOUNDARY.format(number)}'")
        script.append(checkout.substitute(block.text))
    script.append(f"printf '\\n%s\\n' '{_BOUNDARY.format('end')}'")
    shell = subprocess.Popen(
        ["bash", "-c", "\n".join(script)],
        cwd=checkout.root,
        env=checkout.env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        stdout, stderr = shell.communicate(timeout=DOCUMENT_SECONDS)
    finally:
        # Whatever the document started in the background (a server) goes with it.
        with suppress(ProcessLookupError):
            os.killpg(shell.pid, signal.SIGKILL)
        shell.wait()
    outputs, finished = _split(stdout)
    if shell.returncode != 0 or not finished:
        failed = runnable[max(len(outputs) - 1, 0)]
        pytest.fail(
            f"{failed.where}: this example failed (exit {shell.returncode}):\n{failed.text}\n"
            f"--- its output:\n{outputs[-1][-3000:] if outputs else ''}\n"
            f"--- stderr:\n{stderr[-3000:]}\n"
            "(An example that cannot run offline, or is only illustrative, is marked: "
            "<!-- docs-check: skip: REASON --> on the line before its fence; see "
            "tests/docs/examples.py.)"
        )
    for before, block in itertools.pairwise(found):
        if block.marker == "output":
            shown = normalized(json.loads(block.text))
            got = outputs[runnable.index(before)]
            assert normalized(json.loads(got)) == shown, f"{block.where}: the output differs"


def _split(stdout: str) -> tuple[list[str], bool]:
    """The output of each block that started, and whether the last one finished."""
    parts: list[list[str]] = []
    for line in stdout.splitlines():
        if line == _BOUNDARY.format("end"):
            return ["\n".join(p).strip() for p in parts], True
        if line.startswith("@@docs-check block ") and line.endswith("@@"):
            parts.append([])
        elif parts:
            parts[-1].append(line)
    return ["\n".join(p).strip() for p in parts], False


SYNOPSES = [b for b in ALL_BLOCKS if b.marker == "synopsis"]


@pytest.mark.parametrize("block", SYNOPSES, ids=lambda b: b.where)
def test_every_synopsis_names_real_commands_and_options(block: Block) -> None:
    commands = synopsis_commands(block.text)
    assert commands, f"{block.where}: no ./boxoffice line"
    root = typer.main.get_command(boxoffice_app)
    for words in commands:
        # Typer's own click: a group is what has `commands`.
        command: Any = root
        path = []
        for word in words:
            subcommands = getattr(command, "commands", {})
            if word not in subcommands:
                break
            command = subcommands[word]
            path.append(word)
        assert path, f"{block.where}: {' '.join(words)}: no such command"
        options = {opt for param in command.params for opt in param.opts}
        for word in words:
            option = word.split("=", 1)[0]
            if option.startswith("-"):
                assert option in options, f"{block.where}: `{' '.join(path)}` has no {option}"


SQL_BLOCKS = [
    (b, database) for b in ALL_BLOCKS if b.marker == "sql" for database in b.argument.split()
]


@pytest.fixture(scope="module")
def copies(checkout: Checkout) -> Iterator[dict[str, str]]:
    """The demo client synced, as docs/sync.md does it, into a copy of each kind."""
    folder = checkout.root / "sql-copies"
    targets = {
        "sqlite": f"sqlite:///{folder / 'copy.db'}",
        "duckdb": f"duckdb:///{folder / 'copy.duckdb'}",
    }
    database = f"boxoffice_docs_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    try:
        with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True, connect_timeout=5) as conn:
            conn.execute(f'CREATE DATABASE "{database}"')
        targets["postgresql"] = url_of_database(database)
    except psycopg.OperationalError as exc:
        if REQUIRE_POSTGRES:
            pytest.fail(f"PostgreSQL is required here but unreachable: {exc}")
    key = (checkout.root / ".demo-key").read_text(encoding="utf-8").strip()
    env = {**checkout.env, "BOXOFFICE_SYNC_KEY": key}
    url = f"http://127.0.0.1:{checkout.ports[8000]}"
    for target in targets.values():
        done = subprocess.run(
            ["./boxoffice", "sync", "--url", url, "--client", "demo", "--to", target, "-q"],
            cwd=checkout.root,
            env=env,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=DOCUMENT_SECONDS,
            check=False,
        )
        assert done.returncode == 0, done.stderr
    yield targets
    if "postgresql" in targets:
        with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
    shutil.rmtree(folder, ignore_errors=True)


@pytest.mark.parametrize(
    ("block", "database"), SQL_BLOCKS, ids=[f"{b.where}-{d}" for b, d in SQL_BLOCKS]
)
def test_the_sql_examples_run_on_the_databases_they_name(
    copies: dict[str, str], block: Block, database: str
) -> None:
    if database not in copies:
        pytest.skip("PostgreSQL unreachable")
    target = copies[database]
    for statement in statements(block.text):
        try:
            rows = _query(database, target, statement)
        except Exception as exc:
            pytest.fail(f"{block.where} on {database}:\n{statement}\n-> {exc}")
        assert rows, f"{block.where} on {database}: no rows from the demo data:\n{statement}"


def _query(database: str, target: str, statement: str) -> list[tuple[object, ...]]:
    if database == "sqlite":
        path = target.removeprefix("sqlite:///")
        with closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as conn:
            return conn.execute(statement).fetchall()
    if database == "duckdb":
        with duckdb.connect(target.removeprefix("duckdb:///"), read_only=True) as conn:
            return conn.execute(statement).fetchall()
    with psycopg.connect(target) as conn:
        return conn.execute(statement.encode()).fetchall()
