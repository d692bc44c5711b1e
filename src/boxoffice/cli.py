"""The one `boxoffice` command: options -> a call -> output."""

import json
from collections.abc import Callable
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, TypeVar

import typer
from rich.console import Console
from rich.table import Table
from sqlalchemy import Engine

from boxoffice.client.cli import sync_app
from boxoffice.server.config import get_settings
from boxoffice.server.db.engine import make_engine
from boxoffice.server.db.transactions import Tx, read_transaction, write_transaction
from boxoffice.server.errors import AppError
from boxoffice.server.values.rendering import render_instant

app = typer.Typer(
    no_args_is_help=True, add_completion=False, help="Boxoffice ticketing data service."
)
tenant_app = typer.Typer(no_args_is_help=True, help="Manage clients (tenants).")
key_app = typer.Typer(no_args_is_help=True, help="Manage a client's API keys.")
catalog_app = typer.Typer(no_args_is_help=True, help="Load a client's catalog.")
app.add_typer(tenant_app, name="tenant")
app.add_typer(key_app, name="key")
app.add_typer(catalog_app, name="catalog")
app.add_typer(sync_app, name="sync")

if TYPE_CHECKING:
    from boxoffice.server.tenancy.service import Tenant

err = Console(stderr=True)
T = TypeVar("T")


class Scale(StrEnum):
    small = "small"
    large = "large"


def _fail(message: str, code: int = 1) -> typer.Exit:
    err.print(f"[red]error:[/red] {message}")
    return typer.Exit(code)


def _engine() -> Engine:
    settings = get_settings()
    return make_engine(
        settings.database_url, connect_timeout=settings.database_connect_timeout_seconds
    )


@app.command()
def migrate() -> None:
    """Create or upgrade the database schema to the current version."""
    from sqlalchemy import make_url

    from boxoffice.server.db.migrate import describe_upgrade, upgrade

    settings = get_settings()
    before, after = upgrade(_engine())
    where = make_url(settings.database_url).render_as_string(hide_password=True)
    typer.echo(f"{describe_upgrade(before, after)}: {where}")


def _on_client(name: str, change: Callable[[Tx, "Tenant"], T]) -> T:
    """`change` the named client in one write transaction; a refusal exits with status 2."""
    from boxoffice.server.tenancy.service import get_tenant

    try:
        with write_transaction(_engine()) as tx:
            return change(tx, get_tenant(tx.conn, name))
    except AppError as exc:
        raise _fail(exc.message, 2) from None


def _prefix(key_prefix: str) -> str:
    """The 8 characters after `bo_`, from a prefix given with or without `bo_`."""
    return key_prefix.removeprefix("bo_")[:8]


PerMinute = Annotated[
    int | None,
    typer.Option(
        "--per-minute",
        min=0,
        help="The key's own rate limit: requests a minute, shared by all workers; 0: none.",
    ),
]


@tenant_app.command("create")
def tenant_create(
    name: str,
    timezone: Annotated[str, typer.Option(help="The client's time zone.")] = "Europe/Amsterdam",
    per_minute: PerMinute = None,
) -> None:
    """Create a client and print its first API key (alone on the last line)."""
    from boxoffice.server.tenancy.service import create_tenant

    try:
        with write_transaction(_engine()) as tx:
            _tenant, key = create_tenant(
                tx.conn, name=name, timezone=timezone, now=tx.now, per_minute=per_minute
            )
    except AppError as exc:
        raise _fail(exc.message, 2) from None
    typer.echo(f"created client {name}; its API key (shown once):")
    typer.echo(key)


@key_app.command("create")
def key_create(name: str, per_minute: PerMinute = None) -> None:
    """Create another API key for a client and print it (alone on the last line)."""
    from boxoffice.server.tenancy.service import create_key

    key = _on_client(
        name,
        lambda tx, tenant: create_key(
            tx.conn, tenant_id=tenant.id, now=tx.now, per_minute=per_minute
        ),
    )
    typer.echo(f"new API key for {name} (shown once):")
    typer.echo(key)


@key_app.command("revoke")
def key_revoke(name: str, key_prefix: str) -> None:
    """Revoke a client's key by its prefix (the 8 characters after `bo_`)."""
    from boxoffice.server.tenancy.service import revoke_key

    prefix = _prefix(key_prefix)
    _on_client(
        name,
        lambda tx, tenant: revoke_key(tx.conn, tenant_id=tenant.id, prefix=prefix, now=tx.now),
    )
    typer.echo(f"revoked key bo_{prefix}_… of {name}")


@key_app.command("limit")
def key_limit(
    name: str,
    key_prefix: str,
    per_minute: PerMinute = None,
    default: Annotated[
        bool, typer.Option("--default", help="Back to BOXOFFICE_RATE_LIMIT_PER_MINUTE.")
    ] = False,
) -> None:
    """Set a key's rate limit (--per-minute N) or give it the server's default (--default)."""
    from boxoffice.server.tenancy.service import set_key_rate_limit

    if (per_minute is None) != default:
        raise _fail("give either --per-minute N or --default", 2)
    prefix = _prefix(key_prefix)
    _on_client(
        name,
        lambda tx, tenant: set_key_rate_limit(
            tx.conn, tenant_id=tenant.id, prefix=prefix, per_minute=per_minute
        ),
    )
    typer.echo(f"rate limit of key bo_{prefix}_… of {name}: {_per_minute(per_minute)}")


def _per_minute(per_minute: int | None) -> str:
    """A key's rate limit as `key list` shows it."""
    if per_minute is None:
        return f"{_per_minute(get_settings().rate_limit_per_minute)} (default)"
    return "no limit" if per_minute == 0 else f"{per_minute:,} a minute"


@key_app.command("list")
def key_list(name: str) -> None:
    """List a client's keys: prefix, created, revoked, rate limit."""
    from boxoffice.server.tenancy.service import get_tenant, list_keys

    try:
        with read_transaction(_engine()) as conn:
            tenant = get_tenant(conn, name)
            keys = list_keys(conn, tenant_id=tenant.id)
    except AppError as exc:
        raise _fail(exc.message, 2) from None
    table = Table("prefix", "created", "revoked", "rate limit")
    for record in keys:
        table.add_row(
            f"bo_{record.prefix}_…",
            render_instant(record.created_at, tenant.timezone),
            render_instant(record.revoked_at, tenant.timezone) if record.revoked_at else "",
            _per_minute(record.per_minute),
        )
    Console().print(table)


@catalog_app.command("load")
def catalog_load(name: str, file: Path) -> None:
    """Load halls, ranks, productions, events, prices, payment methods and client types."""
    from boxoffice.server.catalog.loading import load_catalog
    from boxoffice.server.tenancy.service import get_tenant

    try:
        data = json.loads(file.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise _fail(f"cannot read {file}: {exc}", 2) from None
    try:
        with write_transaction(_engine()) as tx:
            tenant = get_tenant(tx.conn, name)
            summary = load_catalog(tx, tenant=tenant, data=data)
    except AppError as exc:
        details = "".join(
            f"\n  {field}: {problem}"
            for field, problems in (exc.errors or {}).items()
            for problem in problems
        )
        raise _fail(f"{exc.message}{details}", 2) from None
    typer.echo(f"catalog loaded into {name}: {summary}")


@app.command()
def demo(
    client: Annotated[str, typer.Option(help="Name of the demo client.")] = "demo",
    scale: Annotated[Scale, typer.Option(help="small or large.")] = Scale.small,
    seed: Annotated[int, typer.Option(help="Random seed.")] = 2026,
    key_file: Annotated[
        Path | None,
        typer.Option(
            help="Keep the key in this file (mode 0600) and reuse it on the next run while it "
            "still works, instead of creating another key each time."
        ),
    ] = None,
) -> None:
    """Create a client with a realistic catalog, customers, orders and waiting list.

    Prints the client's API key alone on the last line. Run again for an existing client, it
    keeps the data and prints a new key, or the key in --key-file while that still works.
    """
    from boxoffice.demo.generator import create_demo

    try:
        key = create_demo(_engine(), client=client, scale=scale.value, seed=seed, key_file=key_file)
    except AppError as exc:
        raise _fail(exc.message, 2) from None
    except OSError as exc:
        raise _fail(f"cannot write the key file: {exc}", 2) from None
    typer.echo(key)


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
    workers: Annotated[int, typer.Option(min=1, help="Worker processes.")] = 1,
) -> None:
    """Run the HTTP API (see docs/operations.md)."""
    from boxoffice.server.ops.serve import run_server

    run_server(host=host, port=port, workers=workers, settings=get_settings())


if __name__ == "__main__":
    app()
