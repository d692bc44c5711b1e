"""Catalog file fields the public API shows: texts, images, event types, statuses, providers.

All optional and backward compatible (docs/catalog.md, "What the public API shows").
"""

import re
from dataclasses import dataclass
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from boxoffice.server.catalog.load_reader import JsonObject, Problems
from boxoffice.server.catalog.tables import EVENT_STATUSES

PUBLIC_TEXT_FIELDS = frozenset({"text", "shortText", "image", "eventTypes"})
EVENT_PUBLIC_FIELDS = frozenset({"url", "status", "viewEnd", "maxTicketsPerOrder"})
PAYMENT_PUBLIC_FIELDS = frozenset({"provider", "online"})

DEFAULT_MAX_TICKETS_PER_ORDER = 10
MAX_TICKETS_PER_ORDER = 1000
DEFAULT_PROVIDER = "invoice"

_MAX_TEXT = 20_000
_MAX_URL = 1000
_PROVIDER = re.compile(r"^[a-z][a-z0-9_-]{0,31}$")


@dataclass(frozen=True, slots=True)
class PublicTexts:
    """A production's texts, or an event's overrides of them (None: not set)."""

    text: str | None = None
    short_text: str | None = None
    image: str | None = None
    event_types_json: str | None = None

    def values(self) -> tuple[str | None, ...]:
        return (self.text, self.short_text, self.image, self.event_types_json)


TEXT_COLUMNS = ("text", "short_text", "image", "event_types")


@dataclass(frozen=True, slots=True)
class EventPublic:
    url: str | None = None
    status: str = "pub"
    view_end_at: int | None = None
    max_tickets_per_order: int = DEFAULT_MAX_TICKETS_PER_ORDER

    def values(self) -> tuple[object, ...]:
        return (self.url, self.status, self.view_end_at, self.max_tickets_per_order)


EVENT_COLUMNS = ("url", "status", "view_end_at", "max_tickets_per_order")


def _url(problems: Problems, obj: JsonObject, key: str, *, own_path: bool = False) -> str | None:
    """An absolute http(s) URL: websites put it in links and <img> tags as it is. With
    `own_path`, also a path of this app (`/media/posters/x.svg`): the public API and the
    shop answer it made absolute with the request's scheme and host."""
    value = obj.text(key, max_length=_MAX_URL, required=False)
    if value is None:
        return None
    parts = urlsplit(value)
    absolute = parts.scheme in ("http", "https") and bool(parts.netloc)
    path = own_path and value.startswith("/") and not value.startswith("//")
    if not (absolute or path) or re.search(r"[\s\\]", value):
        allowed = "an absolute http or https URL"
        if own_path:
            allowed += " or a path starting with a single /"
        problems.add(obj.at(key), f"The {key} must be {allowed}.")
        return None
    return value


def _event_type_problem(name: object, kept: list[str]) -> str | None:
    if not isinstance(name, str) or not name.strip() or name != name.strip() or len(name) > 64:
        return "An event type is a non-empty string of at most 64 characters, unpadded."
    if name in kept:
        return f"Duplicate event type {name!r}."
    return None


def public_texts(problems: Problems, obj: JsonObject) -> PublicTexts:
    return PublicTexts(
        text=obj.text("text", max_length=_MAX_TEXT, required=False),
        short_text=obj.text("shortText", max_length=255, required=False),
        image=_url(problems, obj, "image", own_path=True),
        event_types_json=obj.names_json("eventTypes", "names", _event_type_problem),
    )


def event_public(problems: Problems, obj: JsonObject, tz: ZoneInfo) -> EventPublic:
    status = "pub"
    if obj.has("status"):
        status = obj.choice("status", EVENT_STATUSES) or "pub"
    view_end_at = obj.instant("viewEnd", tz) if obj.has("viewEnd") else None
    limit = obj.integer(
        "maxTicketsPerOrder", minimum=1, maximum=MAX_TICKETS_PER_ORDER, required=False
    )
    return EventPublic(
        url=_url(problems, obj, "url"),
        status=status,
        view_end_at=view_end_at,
        max_tickets_per_order=DEFAULT_MAX_TICKETS_PER_ORDER if limit is None else limit,
    )


def payment_public(problems: Problems, obj: JsonObject) -> tuple[str, bool]:
    """(provider, online) of a payment method."""
    provider = obj.text("provider", max_length=32, required=False)
    if provider is not None and not _PROVIDER.match(provider):
        problems.add(
            obj.at("provider"),
            "A provider is a lower-case name of at most 32 letters, digits, '_' or '-'.",
        )
        provider = None
    online = obj.data.get("online")
    if online is not None and not isinstance(online, bool):
        problems.add(obj.at("online"), "The online must be true or false.")
        online = None
    return (provider or DEFAULT_PROVIDER, True if online is None else online)


def shared_id_space(
    problems: Problems, production_ids: dict[object, str], event_ids: dict[object, str]
) -> None:
    """A main event and a sub-event are both answered by GET /events/{id} on the public API,
    so a production and an event of one client must not share an id."""
    for ident, path in production_ids.items():
        if ident in event_ids:
            problems.add(
                path,
                f"The id {ident} is also an eventId (at {event_ids[ident]}); "
                "productions and events share one id space.",
            )
