"""Streaming writers: a JSON array (the default) or NDJSON, built one batch of records at a time.

Compression is not done here: the app's GZipMiddleware compresses each chunk as it passes
and flushes it (Z_SYNC_FLUSH), so a gzip stream leaves batch by batch too.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import orjson

NDJSON = "application/x-ndjson"


@dataclass(frozen=True, slots=True)
class Writer:
    """How records become bytes: what opens and closes the stream, and what joins batches."""

    media_type: str
    head: bytes
    tail: bytes
    ndjson: bool

    def batch(self, records: Sequence[dict[str, Any]], *, first: bool) -> bytes:
        """The bytes of one batch; the first batch's start with what opens the stream."""
        if self.ndjson:
            option = orjson.OPT_APPEND_NEWLINE
            return b"".join([orjson.dumps(record, option=option) for record in records])
        # One orjson call renders the whole batch as an array; its brackets are dropped so
        # that consecutive batches join into the one array the response opened (the head
        # opens it before the first batch, a comma joins every other one).
        body = memoryview(orjson.dumps(records))[1:-1]
        return b"".join((self.head if first else b",", body))

    @property
    def record_end(self) -> bytes:
        """What follows each record of a batch given in pieces (see `join`)."""
        return b"\n" if self.ndjson else b","

    def join(self, pieces: list[bytes], *, first: bool) -> bytes:
        """The bytes of one batch of records already serialized, given as the pieces of their
        JSON texts, each record's last piece ending with `record_end`; `pieces` is consumed.

        One join of all the pieces: joining each record first, and then the records, copied
        every byte twice.
        """
        if self.ndjson or not pieces:
            return b"".join(pieces)
        # The array's records are separated, not ended, by commas: the last one loses its
        # own, and a comma (or the opening bracket) joins this batch to what came before.
        pieces[-1] = pieces[-1][:-1]
        pieces[0] = (self.head if first else b",") + pieces[0]
        return b"".join(pieces)


JSON_ARRAY = Writer(media_type="application/json", head=b"[", tail=b"]", ndjson=False)
NDJSON_LINES = Writer(media_type=NDJSON, head=b"", tail=b"", ndjson=True)


def choose_writer(accept: str | None, *, extensions: bool) -> Writer:
    """NDJSON when Accept prefers application/x-ndjson over application/json; else JSON.

    Ties (both listed with the same quality) go to the JSON array, the reference format.
    An Accept that lists neither still gets JSON rather than a 406: the export has only
    these two forms, and old clients send `*/*` or nothing at all.
    """
    if not extensions or not accept:
        return JSON_ARRAY
    quality = {"application/json": 0.0, NDJSON: 0.0}
    for item in accept.split(","):
        media_type, *params = (part.strip() for part in item.split(";"))
        media_type = media_type.lower()
        if media_type not in quality:
            continue
        q = 1.0
        for param in params:
            name, _, value = param.partition("=")
            if name.strip().lower() == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = 0.0
        quality[media_type] = max(quality[media_type], q)
    return NDJSON_LINES if quality[NDJSON] > quality["application/json"] else JSON_ARRAY
