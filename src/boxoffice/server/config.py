"""Settings of the server, read from BOXOFFICE_* environment variables."""

from functools import lru_cache
from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Every setting has a working default; see docs/operations.md."""

    model_config = SettingsConfigDict(env_prefix="BOXOFFICE_", extra="ignore")

    database_url: str = "sqlite:///./boxoffice.db"
    # PostgreSQL: seconds a connection attempt may take before it fails (a `connect_timeout`
    # in the URL wins).
    database_connect_timeout_seconds: int = Field(default=10, ge=1)
    # Off switches the sync extensions (watermark, cursor paging, NDJSON, gzip, changedUntil)
    # so that the server behaves like the reference API; used to test sync clients.
    extensions: bool = True
    export_batch_size: int = 2000
    # Per running export: how many MiB of serialized customers it keeps so that a customer
    # met in several batches is read and rendered once (docs/operations.md). 0 keeps none.
    export_user_cache_mib: int = Field(default=32, ge=0)
    # Keys the tag that makes export paging cursors (X-Next-Cursor) tamper-evident. A forged
    # cursor could only position a read within the caller's own data, so the fixed default
    # is safe; set a random value to make cursors unforgeable. Every worker must share it, and
    # changing it invalidates outstanding cursors (their next page is a 422). docs/exports.md
    cursor_secret: str = "boxoffice-export-cursor-v1"  # noqa: S105 (public by design, see above)
    cart_hold_minutes: int = 15
    # How long an order placed through the public API stays reserved, unpaid, before its
    # places are free again (docs/public-api.md, Payments).
    reservation_minutes: int = Field(default=15, ge=1)
    max_body_bytes: int = 1_048_576
    # Operations (docs/operations.md, Rate limits). Requests a minute per API key without a
    # limit of its own (`boxoffice key limit`), counted once for all workers and servers on
    # the database; 0: such keys are not limited. 60,000 = 1,000 a second: an on-sale at
    # 250 orders a second (3 requests each) through one key fits with a third to spare.
    rate_limit_per_minute: int = Field(default=60_000, ge=0)
    # Failed authentications per client address a minute, counted per worker process.
    auth_failure_limit_per_minute: int = Field(default=20, ge=0)
    # The public API (no key): requests per client address per window, counted in the
    # database so that all workers share them (docs/public-api.md). 0 switches it off.
    public_rate_limit_requests: int = Field(default=300, ge=0)
    public_rate_limit_window_seconds: int = Field(default=60, ge=1)
    metrics: bool = True
    log_level: Literal["critical", "error", "warning", "info", "debug"] = "info"
    # Peers whose X-Forwarded-For / X-Forwarded-Proto `boxoffice serve` believes: a local proxy.
    forwarded_allow_ips: str = "127.0.0.1,::1"
    shutdown_timeout_seconds: int = Field(default=30, ge=0)


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
