"""/healthz answers while the process lives; /readyz only when the database is usable."""

import socket
import threading
from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy import text

from boxoffice.server.app import create_app
from boxoffice.server.config import Settings
from boxoffice.server.db.engine import make_engine
from boxoffice.server.db.migrate import head_revision
from tests.ops.conftest import Connect

UNREACHABLE_POSTGRES = "postgresql://postgres@127.0.0.1:9/nowhere"


def test_both_answer_ok_on_a_migrated_database(http: TestClient) -> None:
    for path in ("/healthz", "/readyz"):
        response = http.get(path)
        assert response.status_code == 200, response.text
        assert response.json() == {"status": "ok"}
        assert response.headers["cache-control"] == "no-store"
        assert http.head(path).status_code == 200


def test_they_need_no_key_and_stay_out_of_the_api_document(http: TestClient) -> None:
    assert http.get("/healthz", headers={"Authorization": "nonsense"}).status_code == 200
    paths = http.get("/openapi.json").json()["paths"]
    assert not {"/healthz", "/readyz", "/metrics"} & set(paths)


def test_readyz_refuses_an_unmigrated_empty_sqlite_database(
    tmp_path: Path, connect: Connect
) -> None:
    url = f"sqlite:///{tmp_path / 'empty.db'}"
    engine = make_engine(url)
    http = connect(create_app(Settings(database_url=url), engine=engine))
    response = http.get("/readyz")
    assert response.status_code == 503
    assert response.json() == {
        "status": "unavailable",
        "reason": f"The database schema is at revision none, not {head_revision()}: "
        "run `boxoffice migrate`.",
    }
    # Liveness does not look at the database at all.
    assert http.get("/healthz").status_code == 200
    engine.dispose()


def test_readyz_refuses_a_schema_at_another_revision(tmp_path: Path, connect: Connect) -> None:
    url = f"sqlite:///{tmp_path / 'other.db'}"
    engine = make_engine(url)
    with engine.connect() as conn:
        conn.execute(text("CREATE TABLE alembic_version (version_num VARCHAR(32) PRIMARY KEY)"))
        conn.execute(text("INSERT INTO alembic_version VALUES ('9999_from_the_future')"))
        conn.commit()
    http = connect(create_app(Settings(database_url=url), engine=engine))
    response = http.get("/readyz")
    assert response.status_code == 503
    assert "9999_from_the_future" in response.json()["reason"]
    engine.dispose()


def test_readyz_refuses_an_unreachable_database_without_details(connect: Connect) -> None:
    engine = make_engine(UNREACHABLE_POSTGRES)
    http = connect(create_app(Settings(database_url=UNREACHABLE_POSTGRES), engine=engine))
    response = http.get("/readyz")
    assert response.status_code == 503
    assert response.json() == {"status": "unavailable", "reason": "The database does not answer."}
    assert http.get("/healthz").json() == {"status": "ok"}
    engine.dispose()


def test_readyz_fails_instead_of_hanging_when_postgresql_never_answers(
    connect: Connect,
) -> None:
    """A peer that accepts the TCP connection and never says a word (a stuck database or a
    black-holing firewall): without a connect timeout the probe would wait forever."""
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)  # the kernel completes the handshakes; nobody ever reads
        url = f"postgresql://postgres@127.0.0.1:{silent.getsockname()[1]}/nowhere"
        settings = Settings(database_url=url, database_connect_timeout_seconds=1)
        http = connect(create_app(settings))
        answers: list[int] = []
        probe = threading.Thread(
            target=lambda: answers.append(http.get("/readyz").status_code), daemon=True
        )
        probe.start()
        probe.join(120)  # a bound for a hung probe, not a speed assertion
        assert answers == [503]
