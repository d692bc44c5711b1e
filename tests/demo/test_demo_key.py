"""`boxoffice demo --key-file`: reruns (every `make run`) reuse one live key, never pile them up."""

import dataclasses
import io
import stat
import uuid
from pathlib import Path

from rich.console import Console
from sqlalchemy import Engine, text

from boxoffice.demo.generator import create_demo
from boxoffice.server.db.transactions import write_transaction
from boxoffice.server.tenancy.keys import key_prefix
from boxoffice.server.tenancy.service import get_tenant, is_active_key, revoke_key
from tests.demo.test_demo import DENSE

TINY = dataclasses.replace(DENSE, name="tiny", customers=30, orders=40, waiting=5)


def live_keys(engine: Engine, name: str) -> int:
    with engine.connect() as conn:
        found = conn.execute(
            text(
                "SELECT count(*) FROM api_keys k JOIN clients c ON c.id = k.tenant_id"
                " WHERE c.name = :n AND k.revoked_at IS NULL"
            ),
            {"n": name},
        )
        return int(found.scalar_one())


def run(engine: Engine, name: str, key_file: Path) -> tuple[str, str]:
    console = Console(file=io.StringIO(), width=200)
    key = create_demo(engine, client=name, scale=TINY, seed=5, console=console, key_file=key_file)
    said = console.file.getvalue()  # type: ignore[attr-defined]
    return key, said


def test_reruns_reuse_the_key_in_the_file_and_keep_one_live_key(
    engine: Engine, tmp_path: Path
) -> None:
    name = f"demo-{uuid.uuid4().hex[:10]}"
    key_file = tmp_path / ".demo-key"

    first, _ = run(engine, name, key_file)
    assert key_file.read_text(encoding="utf-8") == first + "\n"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    second, said = run(engine, name, key_file)
    third, _ = run(engine, name, key_file)

    assert first == second == third
    assert "its key kept" in said
    assert live_keys(engine, name) == 1


def test_a_revoked_or_foreign_key_in_the_file_is_replaced_by_a_new_one(
    engine: Engine, tmp_path: Path
) -> None:
    name = f"demo-{uuid.uuid4().hex[:10]}"
    key_file = tmp_path / ".demo-key"
    first, _ = run(engine, name, key_file)
    with write_transaction(engine) as tx:
        tenant = get_tenant(tx.conn, name)
        prefix = key_prefix(first)
        assert prefix is not None
        revoke_key(tx.conn, tenant_id=tenant.id, prefix=prefix, now=tx.now)

    second, said = run(engine, name, key_file)
    assert second != first and "new API key created" in said
    assert key_file.read_text(encoding="utf-8") == second + "\n"
    assert live_keys(engine, name) == 1

    # A key of another database (the file outlived the database) or garbage: a new key.
    key_file.write_text("bo_00000000_not-a-key-of-this-database\n", encoding="utf-8")
    third, _ = run(engine, name, key_file)
    assert third not in (first, second)
    with engine.connect() as conn:
        assert is_active_key(conn, client_name=name, key=third)
        assert not is_active_key(conn, client_name=name, key=first)
