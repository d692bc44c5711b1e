"""Paging cursors: an opaque, tamper-evident token saying where the next export page starts.

A cursor is 50 bytes, URL-safe base64 without padding (67 characters):

    version (1) | dataset (1) | last changed_at (8) | last id (8) | until (8)
    | digest of the request's changedSince/changedUntil (8) | tag (16)

`until` is the exclusive upper bound the first page was read with (its watermark, or
changedUntil if earlier). Later pages keep it, so a paged export as a whole covers one fixed
range, ends even while writes continue, and returns no record twice (docs/exports.md).

The tag is a keyed BLAKE2b over everything before it and the client's id, keyed from
`Settings.cursor_secret`. A forged cursor could only position a read within the caller's
own data, so the tag is not about secrecy: it makes a damaged or edited cursor a clear 422
instead of a silently wrong page, and a cursor of another client simply invalid.
"""

import base64
import binascii
import hashlib
import hmac
import re
import struct
from dataclasses import dataclass

from boxoffice.server.db.paging import Position

VERSION = 1
_BODY = struct.Struct(">BBqqq8s")
_TAG_SIZE = 16
_TOKEN = re.compile(r"^[A-Za-z0-9_-]+$")
_TOKEN_LENGTH = len(base64.urlsafe_b64encode(bytes(_BODY.size + _TAG_SIZE)).rstrip(b"="))
_FILTER = struct.Struct(">?q?q")


class CursorInvalid(ValueError):
    """The token is not a cursor this server issued to this client (malformed or tampered)."""


@dataclass(frozen=True, slots=True)
class Cursor:
    """Where the next page starts (after `position`) and the range it belongs to."""

    dataset: int
    position: Position
    until: int
    filter_digest: bytes


def filter_digest(since: int | None, until: int | None) -> bytes:
    """A short digest of the request's own bounds, so a cursor only continues its own query."""
    packed = _FILTER.pack(since is not None, since or 0, until is not None, until or 0)
    return hashlib.blake2b(packed, digest_size=8).digest()


def _tag(body: bytes, *, secret: str, tenant_id: int) -> bytes:
    key = hashlib.blake2b(secret.encode(), digest_size=32, person=b"bo-cursor-key").digest()
    mac = hashlib.blake2b(key=key, digest_size=_TAG_SIZE, person=b"bo-cursor")
    mac.update(body)
    mac.update(tenant_id.to_bytes(8, "big", signed=True))
    return mac.digest()


def encode_cursor(cursor: Cursor, *, secret: str, tenant_id: int) -> str:
    body = _BODY.pack(
        VERSION,
        cursor.dataset,
        cursor.position.changed_at,
        cursor.position.id,
        cursor.until,
        cursor.filter_digest,
    )
    token = body + _tag(body, secret=secret, tenant_id=tenant_id)
    return base64.urlsafe_b64encode(token).rstrip(b"=").decode("ascii")


def decode_cursor(token: str, *, secret: str, tenant_id: int) -> Cursor:
    """The cursor in `token`, or CursorInvalid when it was not issued by us for this client."""
    if len(token) != _TOKEN_LENGTH or not _TOKEN.match(token):
        raise CursorInvalid("malformed")
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
    except (binascii.Error, ValueError):
        raise CursorInvalid("malformed") from None
    # base64 ignores the unused low bits of the last character; only the canonical spelling
    # is ours, so that every changed character is detected.
    if base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii") != token:
        raise CursorInvalid("malformed")
    body, tag = raw[: _BODY.size], raw[_BODY.size :]
    if not hmac.compare_digest(tag, _tag(body, secret=secret, tenant_id=tenant_id)):
        raise CursorInvalid("tampered")
    version, dataset, changed_at, row_id, until, digest = _BODY.unpack(body)
    if version != VERSION:
        raise CursorInvalid("version")
    return Cursor(
        dataset=dataset,
        position=Position(changed_at=changed_at, id=row_id),
        until=until,
        filter_digest=digest,
    )
