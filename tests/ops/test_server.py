"""The real `boxoffice serve`: graceful SIGTERM, bodies over the wire, JSON logs, workers."""

import json
import signal
from pathlib import Path

import httpx

from boxoffice.server.db.engine import make_engine
from boxoffice.server.db.migrate import upgrade
from tests.conftest import Client
from tests.ops.conftest import sample
from tests.ops.server import (
    SHUTDOWN_SECONDS,
    body_of,
    read_to_end,
    read_until,
    serve,
    status_of,
)


def test_sigterm_lets_the_request_in_flight_finish_then_exits_0(
    database_url: str, client: Client, tmp_path: Path
) -> None:
    body = json.dumps({"email": "graceful@example.org", "customerLastName": "Grace"}).encode()
    with serve(database_url, tmp_path) as server, server.connect() as sock:
        sock.sendall(
            f"POST {client.base}/customer HTTP/1.1\r\n"
            f"Host: 127.0.0.1\r\nAuthorization: {client.key}\r\n"
            "Content-Type: application/json\r\nX-Request-ID: graceful-1\r\n"
            # From 127.0.0.1, a trusted proxy by default: its forwarded address is believed.
            "X-Forwarded-For: 192.0.2.1, 198.51.100.23\r\n"
            f"Content-Length: {len(body)}\r\nExpect: 100-continue\r\n\r\n".encode()
        )
        # uvicorn sends 100 Continue when the route first asks for the body: the request is
        # authenticated and inside the app, waiting.
        assert read_until(sock, b"\r\n\r\n").startswith(b"HTTP/1.1 100 Continue")
        server.process.send_signal(signal.SIGTERM)
        server.wait_until_not_listening()  # shutdown has begun
        sock.sendall(body)
        response = read_to_end(sock)
        assert status_of(response) == 201, response
        assert json.loads(body_of(response))["customerLastName"] == "Grace"
        assert server.process.wait(timeout=SHUTDOWN_SECONDS) == 0
    lines = server.log_lines()
    messages = [line["message"] for line in lines]
    shutting_down = messages.index("Shutting down")
    [finished] = [i for i, line in enumerate(lines) if line.get("request_id") == "graceful-1"]
    assert shutting_down < finished < messages.index("Application shutdown complete.")
    assert lines[finished]["status"] == 201
    assert lines[finished]["client"] == "198.51.100.23"
    assert lines[finished]["key"] == "bo_" + client.key.split("_")[1]
    assert client.key not in server.log_text()


def test_a_chunked_body_is_refused_before_it_ends(
    database_url: str, client: Client, tmp_path: Path
) -> None:
    with (
        serve(database_url, tmp_path, BOXOFFICE_MAX_BODY_BYTES="1000") as server,
        server.connect() as sock,
    ):
        sock.sendall(
            f"POST {client.base}/customer HTTP/1.1\r\n"
            f"Host: 127.0.0.1\r\nAuthorization: {client.key}\r\n"
            "Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n"
            "Connection: close\r\n\r\n".encode()
        )
        for _ in range(6):  # 1200 bytes, and never the closing zero-length chunk
            sock.sendall(b"c8\r\n" + b" " * 200 + b"\r\n")
        response = read_to_end(sock)
    assert status_of(response) == 413, response
    assert json.loads(body_of(response)) == {
        "message": "The request body is larger than the limit of 1000 bytes."
    }


def test_workers_add_up_their_metrics_and_leave_no_files(tmp_path: Path) -> None:
    # Metrics do not depend on the database: one SQLite file of its own is enough here.
    database_url = f"sqlite:///{tmp_path / 'workers.db'}"
    engine = make_engine(database_url)
    upgrade(engine)
    engine.dispose()
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    with serve(database_url, tmp_path, "--workers", "2", TMPDIR=str(scratch)) as server:
        assert [p.name.startswith("boxoffice-") for p in scratch.iterdir()] == [True]
        for _ in range(20):  # a connection each, so that both workers take some
            assert httpx.get(server.url("/healthz"), headers={"Connection": "close"}).is_success
        text = httpx.get(server.url("/metrics")).text
        labels = {"method": "GET", "route": "/healthz", "status": "200"}
        assert sample(text, "boxoffice_http_requests_total", **labels) == 20
        # The multiprocess view has no per-process collectors.
        assert "python_gc_objects_collected_total" not in text
        server.process.send_signal(signal.SIGTERM)
        assert server.process.wait(timeout=SHUTDOWN_SECONDS) == 0
    assert list(scratch.iterdir()) == []
    assert all(isinstance(line, dict) for line in server.log_lines())
