"""Prometheus metrics: requests by route template, export volume, rate limiting; /metrics.

The metrics live in prometheus-client's default registry, once per process. With several
worker processes (`boxoffice serve --workers N`) PROMETHEUS_MULTIPROC_DIR is set and the
scrape adds up every worker's files; see docs/operations.md.
"""

import os
from typing import Any

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
    multiprocess,
)

# Exports stream for minutes, so the buckets go far beyond a typical API call.
_LATENCY_BUCKETS = (
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0,
)  # fmt: skip
# Anything else is one label value, so a client cannot invent label values at will.
_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})

REQUESTS = Counter(
    "boxoffice_http_requests_total",
    "HTTP requests answered, by method, route template and status.",
    ["method", "route", "status"],
)
LATENCY = Histogram(
    "boxoffice_http_request_duration_seconds",
    "Time from receiving a request to the last byte of its response (whole stream).",
    ["method", "route", "status"],
    buckets=_LATENCY_BUCKETS,
)
EXPORT_ROWS = Counter(
    "boxoffice_export_rows_total", "Records written by exports, by dataset.", ["dataset"]
)
EXPORT_BYTES = Counter(
    "boxoffice_export_bytes_total",
    "Bytes of export output (before HTTP compression), by dataset.",
    ["dataset"],
)
RATE_LIMITED = Counter(
    "boxoffice_rate_limited_total",
    "Requests answered 429, by the limit that refused them (key, authentication, public).",
    ["limit"],
)


# The request counter's and histogram's children by (method, route, status): `labels()`
# takes a lock and builds the label tuple on every call; the keys are bounded (methods,
# route templates, statuses), so each pair is looked up once per process.
_REQUEST_CHILDREN: dict[tuple[str, str, int], tuple[Any, Any]] = {}


def observe_request(method: str, route: str, status: int, seconds: float) -> None:
    method = method if method in _METHODS else "OTHER"
    children = _REQUEST_CHILDREN.get((method, route, status))
    if children is None:
        labels = (method, route, str(status))
        children = (REQUESTS.labels(*labels), LATENCY.labels(*labels))
        _REQUEST_CHILDREN[(method, route, status)] = children
    children[0].inc()
    children[1].observe(seconds)


def record_export(dataset: str, rows: int, bytes_written: int) -> None:
    """Count exported records and bytes; call it per written batch or once per export."""
    EXPORT_ROWS.labels(dataset).inc(rows)
    EXPORT_BYTES.labels(dataset).inc(bytes_written)


def record_rate_limited(limit: str) -> None:
    RATE_LIMITED.labels(limit).inc()


def render_metrics() -> tuple[bytes, str]:
    """The exposition text and its content type: this process, or all workers' files."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
        return generate_latest(registry), CONTENT_TYPE_LATEST
    return generate_latest(REGISTRY), CONTENT_TYPE_LATEST
