"""JSON log lines on stderr: the access log, and uvicorn's own messages in the same shape."""

import contextvars
import logging
import math
from datetime import UTC, datetime
from typing import Any

import orjson

ACCESS_LOGGER = "boxoffice.access"

# The id of the request being served. The access middleware sets it in the request's own
# task (each request has its own context), so every line logged while serving that request,
# including uvicorn's traceback of an unhandled error, carries the id.
REQUEST_ID: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "boxoffice_request_id", default=None
)


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, request id, extra `fields`."""

    # The last second `_time` wrote, and its text up to the seconds: lines come many a second.
    _second: tuple[float, str] = (-1.0, "")

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": self._time(record.created),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        request_id = REQUEST_ID.get()
        if request_id is not None:
            line["request_id"] = request_id
        fields = getattr(record, "fields", None)
        if isinstance(fields, dict):
            line.update(fields)
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return orjson.dumps(line, default=str).decode()

    def _time(self, created: float) -> str:
        """`datetime.fromtimestamp(created, UTC).isoformat(timespec="milliseconds")` at a
        third of its cost: the microseconds rounded as datetime rounds them (half to even),
        the text of the date and second made once a second."""
        fraction, whole = math.modf(created)
        micros = round(fraction * 1e6)
        if micros >= 1_000_000:
            micros -= 1_000_000
            whole += 1.0
        second, text = self._second
        if second != whole:
            text = datetime.fromtimestamp(whole, UTC).isoformat(timespec="seconds")[:-6]
            self._second = (whole, text)
        return f"{text}.{micros // 1000:03d}+00:00"


def log_config(level: str) -> dict[str, Any]:
    """logging.dictConfig for `boxoffice serve`: JSON on stderr; uvicorn's access log stays off
    (the access middleware writes the one access line per request)."""
    level = level.upper()
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"json": {"()": f"{__name__}.JsonFormatter"}},
        "handlers": {
            "stderr": {
                "class": "logging.StreamHandler",
                "formatter": "json",
                "stream": "ext://sys.stderr",
            }
        },
        "loggers": {
            "uvicorn": {"handlers": ["stderr"], "level": level, "propagate": False},
            "uvicorn.error": {"level": level},
            "uvicorn.access": {"handlers": [], "level": "WARNING", "propagate": False},
            "boxoffice": {"handlers": ["stderr"], "level": level, "propagate": False},
        },
        "root": {"handlers": ["stderr"], "level": "WARNING"},
    }


def ensure_logging() -> None:
    """Access lines reach stderr even when nothing configured logging (plain `uvicorn`).

    An entry point that did configure it (`boxoffice serve`, a test runner capturing logs)
    keeps its configuration: a handler is added only when no record would be handled.
    """
    logger = logging.getLogger("boxoffice")
    if logger.level == logging.NOTSET:
        logger.setLevel(logging.INFO)
    if not logger.hasHandlers():
        handler = logging.StreamHandler()
        handler.setFormatter(JsonFormatter())
        logger.addHandler(handler)
        logger.propagate = False
