"""Catalog file validation: every rule of docs/catalog.md, checked before anything is written.

Validation reads the whole file and reports every problem under the JSON path of its place in
the file (`productions[0].events[1].prices[0].rankId`), so that a refused file is refused
whole and the operator can fix everything in one go.
"""

import re
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from boxoffice.server.catalog.load_public import (
    EVENT_PUBLIC_FIELDS,
    PAYMENT_PUBLIC_FIELDS,
    PUBLIC_TEXT_FIELDS,
    EventPublic,
    PublicTexts,
    event_public,
    payment_public,
    public_texts,
    shared_id_space,
)
from boxoffice.server.catalog.load_reader import JsonObject, Problems
from boxoffice.server.catalog.service import BLOCK_NAMES
from boxoffice.server.catalog.tables import SEATINGS
from boxoffice.server.errors import InvalidInput
from boxoffice.server.tenancy.service import check_timezone

_MAX_PLACES = 1_000_000
# "donation" is the cart's pseudo price id; anything else short and URL-safe is a price id.
_PRICE_ID = re.compile(r"^[A-Za-z0-9_.-]{1,32}$")
_RESERVED_PRICE_IDS = frozenset({"donation"})

_ROOT = frozenset({"timezone", "clientTypes", "paymentMethods", "ranks", "halls", "productions"})
_PAYMENT_METHOD = frozenset({"paymentMethodId", "name", "fee"}) | PAYMENT_PUBLIC_FIELDS
_RANK = frozenset({"rankId", "name"})
_HALL = frozenset(
    {"hallId", "hallName", "hallAddress", "hallZip", "hallCity", "hallPhone", "hallUrl", "sections"}
)
_SECTION = frozenset({"sectionId", "sectionName", "rows"})
_ROW = frozenset({"rowNr", "seats"})
_HALL_SEAT = frozenset({"seatNr", "rankId"})
_PRODUCTION = frozenset({"productionId", "productionName", "events"}) | PUBLIC_TEXT_FIELDS
_EVENT = frozenset(
    {
        "eventId",
        "eventName",
        "eventType",
        "eventTags",
        "start",
        "end",
        "hallId",
        "seating",
        "capacity",
        "prices",
        "blocks",
    }
    | PUBLIC_TEXT_FIELDS
    | EVENT_PUBLIC_FIELDS
)
_CAPACITY = frozenset({"rankId", "places"})
_PRICE = frozenset({"priceId", "priceName", "rankId", "amount"})
_BLOCK = frozenset({"blockType", "seats", "rankId", "places"})
_BLOCK_SEAT = frozenset({"sectionId", "rowNr", "seatNr"})

SeatKey = tuple[int, int, int]  # (section, row, seat) within a hall


@dataclass(slots=True)
class CatalogHall:
    hall_id: int
    values: tuple[object, ...]  # name, address, zip, city, phone, url
    sections: dict[int, str] = field(default_factory=dict)
    seats: dict[SeatKey, int] = field(default_factory=dict)  # -> rank id


@dataclass(frozen=True, slots=True)
class CatalogPrice:
    price_id: str
    name: str
    rank_id: int
    amount_cents: int


@dataclass(slots=True)
class CatalogEvent:
    event_id: int
    production_id: int
    name: str
    event_type: str | None
    tags_json: str | None
    start_at: int
    end_at: int
    hall_id: int
    seating: str
    capacity: dict[int, int]
    prices: list[CatalogPrice]
    # (block type, seat in the hall or None, rank id, places)
    blocks: list[tuple[str, SeatKey | None, int, int]]
    texts: PublicTexts
    public: EventPublic


@dataclass(slots=True)
class Catalog:
    """A validated catalog file."""

    timezone: str | None
    client_types: list[str]
    # name, fee, provider, online
    payment_methods: dict[int, tuple[str, int, str, bool]]
    ranks: dict[int, str]
    halls: dict[int, CatalogHall]
    productions: dict[int, str]
    events: list[CatalogEvent]
    production_texts: dict[int, PublicTexts] = field(default_factory=dict)


def validate_catalog(data: object, *, timezone: ZoneInfo) -> Catalog:
    """Check every rule of docs/catalog.md; raise InvalidInput listing every problem."""
    problems = Problems()
    root = JsonObject(problems, data, "", _ROOT)
    tz_name = root.text("timezone", max_length=64, required=False)
    tz = timezone
    if tz_name is not None:
        try:
            tz = check_timezone(tz_name)
        except InvalidInput:
            problems.add("timezone", f"Unknown time zone {tz_name!r}.")
            tz_name = None
    catalog = Catalog(
        timezone=tz_name,
        client_types=_client_types(problems, root),
        payment_methods=_payment_methods(problems, root),
        ranks=_ranks(problems, root),
        halls={},
        productions={},
        events=[],
    )
    catalog.halls = _halls(problems, root, catalog.ranks)
    _productions(problems, root, catalog, tz)
    if problems.count:
        shown = sum(len(p) for p in problems.errors.values())
        more = f" ({problems.count - shown} more not shown)" if problems.count > shown else ""
        noun = "problem" if problems.count == 1 else "problems"
        raise InvalidInput(
            problems.errors,
            message=f"The catalog file has {problems.count} {noun}{more}; nothing was loaded.",
        )
    return catalog


def _client_types(problems: Problems, root: JsonObject) -> list[str]:
    names: list[str] = []
    seen: dict[object, str] = {}
    for path, item in root.items("clientTypes"):
        if not isinstance(item, str) or not item.strip() or item != item.strip():
            problems.add(path, "A client type must be a non-empty string without outer spaces.")
        elif len(item) > 64:
            problems.add(path, "A client type must be at most 64 characters.")
        elif problems.unique(seen, item, path, f"client type {item!r}"):
            names.append(item)
    return names


def _payment_methods(problems: Problems, root: JsonObject) -> dict[int, tuple[str, int, str, bool]]:
    methods: dict[int, tuple[str, int, str, bool]] = {}
    seen: dict[object, str] = {}
    for obj in root.objects("paymentMethods", _PAYMENT_METHOD):
        method_id = obj.ident("paymentMethodId")
        name = obj.text("name", max_length=255)
        fee = obj.money("fee")
        provider, online = payment_public(problems, obj)
        method_id = obj.first(method_id, "paymentMethodId", seen)
        if method_id is not None and name is not None and fee is not None:
            methods[method_id] = (name, fee, provider, online)
    return methods


def _ranks(problems: Problems, root: JsonObject) -> dict[int, str]:
    found: dict[int, str] = {}
    seen: dict[object, str] = {}
    for obj in root.objects("ranks", _RANK):
        rank_id = obj.ident("rankId")
        name = obj.text("name", max_length=255)
        rank_id = obj.first(rank_id, "rankId", seen)
        if rank_id is not None:
            found[rank_id] = name or ""
    return found


def _rank(problems: Problems, obj: JsonObject, ranks: dict[int, str]) -> int | None:
    rank_id = obj.ident("rankId")
    if rank_id is not None and rank_id not in ranks:
        problems.add(obj.at("rankId"), f"Unknown rank {rank_id}.")
        return None
    return rank_id


def _halls(problems: Problems, root: JsonObject, ranks: dict[int, str]) -> dict[int, CatalogHall]:
    found: dict[int, CatalogHall] = {}
    seen: dict[object, str] = {}
    for obj in root.objects("halls", _HALL):
        hall_id = obj.ident("hallId")
        hall = CatalogHall(
            hall_id=hall_id or 0,
            values=(
                obj.text("hallName", max_length=255),
                obj.text("hallAddress", max_length=255, required=False),
                obj.text("hallZip", max_length=20, required=False),
                obj.text("hallCity", max_length=255, required=False),
                obj.text("hallPhone", max_length=40, required=False),
                obj.text("hallUrl", max_length=1000, required=False),
            ),
        )
        sections_seen: dict[object, str] = {}
        for section in obj.objects("sections", _SECTION):
            _section(section, hall, sections_seen, ranks)
        hall_id = obj.first(hall_id, "hallId", seen)
        if hall_id is not None:
            found[hall_id] = hall
    return found


def _section(
    obj: JsonObject, hall: CatalogHall, seen: dict[object, str], ranks: dict[int, str]
) -> None:
    problems = obj.problems
    section_id = obj.ident("sectionId")
    name = obj.text("sectionName", max_length=255)
    section_id = obj.first(section_id, "sectionId", seen, f"sectionId {section_id} in this hall")
    if section_id is not None and name is not None:
        hall.sections[section_id] = name
    rows_seen: dict[object, str] = {}
    for row in obj.objects("rows", _ROW):
        row_nr = row.ident("rowNr")
        row_nr = row.first(row_nr, "rowNr", rows_seen, f"row {row_nr} in section {section_id}")
        seats_seen: dict[object, str] = {}
        for seat in row.objects("seats", _HALL_SEAT, required=True):
            seat_nr = seat.ident("seatNr")
            rank_id = _rank(problems, seat, ranks)
            if seat_nr is None or not problems.unique(
                seats_seen,
                seat_nr,
                seat.at("seatNr"),
                f"seat {seat_nr} in row {row_nr} of section {section_id}",
            ):
                continue
            if section_id is not None and row_nr is not None and rank_id is not None:
                hall.seats[(section_id, row_nr, seat_nr)] = rank_id


def _productions(problems: Problems, root: JsonObject, catalog: Catalog, tz: ZoneInfo) -> None:
    seen: dict[object, str] = {}
    event_ids: dict[object, str] = {}
    price_ids: dict[object, str] = {}
    for obj in root.objects("productions", _PRODUCTION):
        production_id = obj.ident("productionId")
        name = obj.text("productionName", max_length=255)
        texts = public_texts(problems, obj)
        first_id = obj.first(production_id, "productionId", seen)
        if first_id is not None:
            catalog.productions[first_id] = name or ""
            catalog.production_texts[first_id] = texts
        for event_obj in obj.objects("events", _EVENT):
            event = _event(event_obj, catalog, tz, event_ids, price_ids)
            if event is not None and production_id is not None:
                event.production_id = production_id
                catalog.events.append(event)
    shared_id_space(problems, seen, event_ids)


def _event(
    obj: JsonObject,
    catalog: Catalog,
    tz: ZoneInfo,
    event_ids: dict[object, str],
    price_ids: dict[object, str],
) -> CatalogEvent | None:
    problems = obj.problems
    event_id = obj.first(obj.ident("eventId"), "eventId", event_ids)
    name = obj.text("eventName", max_length=255)
    event_type = obj.text("eventType", max_length=64, required=False)
    tags_json = obj.names_json("eventTags", "strings", _event_tag_problem)
    start_at = obj.instant("start", tz)
    end_at = obj.instant("end", tz)
    if start_at is not None and end_at is not None and end_at < start_at:
        problems.add(obj.at("end"), "The end must not be before the start.")
    hall_id = obj.ident("hallId")
    hall = catalog.halls.get(hall_id) if hall_id is not None else None
    if hall_id is not None and hall is None:
        problems.add(obj.at("hallId"), f"Unknown hall {hall_id}.")
    seating = obj.choice("seating", SEATINGS)
    capacity = _capacity(problems, obj, seating, catalog.ranks)
    event_prices = _prices(problems, obj, seating, hall, capacity, catalog.ranks, price_ids)
    blocks = _blocks(problems, obj, seating, hall, capacity)
    texts = public_texts(problems, obj)
    public = event_public(problems, obj, tz)
    if (
        event_id is None
        or name is None
        or start_at is None
        or end_at is None
        or hall_id is None
        or seating is None
    ):
        return None
    return CatalogEvent(
        event_id=event_id,
        production_id=0,
        name=name,
        event_type=event_type,
        tags_json=tags_json,
        start_at=start_at,
        end_at=end_at,
        hall_id=hall_id,
        seating=seating,
        capacity=capacity,
        prices=event_prices,
        blocks=blocks,
        texts=texts,
        public=public,
    )


def _event_tag_problem(tag: object, _kept: list[str]) -> str | None:
    if not isinstance(tag, str) or not tag.strip() or len(tag) > 64:
        return "An event tag must be a non-empty string of at most 64 characters."
    return None


def _capacity(
    problems: Problems, obj: JsonObject, seating: str | None, ranks: dict[int, str]
) -> dict[int, int]:
    capacity: dict[int, int] = {}
    if seating == "reserved" and obj.data.get("capacity"):
        problems.add(
            obj.at("capacity"),
            "A reserved event sells its hall's seats; only an unreserved event has a capacity.",
        )
        return capacity
    seen: dict[object, str] = {}
    for entry in obj.objects("capacity", _CAPACITY):
        rank_id = _rank(problems, entry, ranks)
        places = entry.integer("places", minimum=0, maximum=_MAX_PLACES)
        if rank_id is not None and problems.unique(
            seen, rank_id, entry.at("rankId"), f"capacity of rank {rank_id}"
        ):
            capacity[rank_id] = places or 0
    return capacity


def _prices(
    problems: Problems,
    obj: JsonObject,
    seating: str | None,
    hall: CatalogHall | None,
    capacity: dict[int, int],
    ranks: dict[int, str],
    price_ids: dict[object, str],
) -> list[CatalogPrice]:
    found: list[CatalogPrice] = []
    hall_ranks = set(hall.seats.values()) if hall is not None else set()
    for price in obj.objects("prices", _PRICE):
        price_id = price.text("priceId", max_length=32)
        if price_id is not None:
            if not _PRICE_ID.match(price_id) or price_id in _RESERVED_PRICE_IDS:
                problems.add(
                    price.at("priceId"),
                    "A priceId is 1 to 32 letters, digits, '.', '_' or '-' (not 'donation').",
                )
                price_id = None
            elif not problems.unique(
                price_ids, price_id, price.at("priceId"), f"priceId {price_id!r}"
            ):
                price_id = None
        name = price.text("priceName", max_length=255)
        rank_id = _rank(problems, price, ranks)
        amount = price.money("amount")
        if rank_id is not None:
            if seating == "reserved" and hall is not None and rank_id not in hall_ranks:
                problems.add(
                    price.at("rankId"),
                    f"Rank {rank_id} cannot be sold at this event: "
                    f"hall {hall.hall_id} has no seats of that rank.",
                )
            elif seating == "unreserved" and rank_id not in capacity:
                problems.add(
                    price.at("rankId"),
                    f"Rank {rank_id} cannot be sold at this event: "
                    "the event has no capacity entry for that rank.",
                )
        if price_id is not None and name is not None and rank_id is not None and amount is not None:
            found.append(CatalogPrice(price_id, name, rank_id, amount))
    return found


def _blocks(
    problems: Problems,
    obj: JsonObject,
    seating: str | None,
    hall: CatalogHall | None,
    capacity: dict[int, int],
) -> list[tuple[str, SeatKey | None, int, int]]:
    found: list[tuple[str, SeatKey | None, int, int]] = []
    blocked_seats: dict[object, str] = {}
    blocked_places: dict[int, tuple[int, str]] = {}
    for block in obj.objects("blocks", _BLOCK):
        block_type = block.choice("blockType", BLOCK_NAMES)
        if seating == "reserved":
            for key in ("rankId", "places"):
                if block.has(key):
                    problems.add(
                        block.at(key), "A block of a reserved event lists seats, not places."
                    )
            listed = list(block.items("seats", required=True))
            if block.valid and block.has("seats") and not listed:
                problems.add(block.at("seats"), "A block must list at least one seat.")
            for seat_path, seat_item in listed:
                seat = JsonObject(problems, seat_item, seat_path, _BLOCK_SEAT)
                section_id = seat.ident("sectionId")
                row_nr = seat.ident("rowNr")
                seat_nr = seat.ident("seatNr")
                if section_id is None or row_nr is None or seat_nr is None or hall is None:
                    continue
                seat_key = (section_id, row_nr, seat_nr)
                rank_id = hall.seats.get(seat_key)
                if rank_id is None:
                    problems.add(
                        seat_path,
                        f"Hall {hall.hall_id} has no seat {seat_nr} "
                        f"in row {row_nr} of section {section_id}.",
                    )
                elif (
                    problems.unique(blocked_seats, seat_key, seat_path, "blocked seat")
                    and block_type is not None
                ):
                    found.append((block_type, seat_key, rank_id, 1))
        elif seating == "unreserved":
            if block.has("seats"):
                problems.add(
                    block.at("seats"),
                    "A block of an unreserved event gives rankId and places, not seats.",
                )
            rank_id = block.ident("rankId")
            places = block.integer("places", minimum=1, maximum=_MAX_PLACES)
            if rank_id is not None and rank_id not in capacity:
                problems.add(block.at("rankId"), f"Rank {rank_id} has no capacity at this event.")
            elif rank_id is not None and places is not None:
                total = blocked_places.get(rank_id, (0, ""))[0] + places
                blocked_places[rank_id] = (total, block.at("places"))
                if block_type is not None:
                    found.append((block_type, None, rank_id, places))
    for rank_id, (total, path) in blocked_places.items():
        if total > capacity[rank_id]:
            problems.add(
                path,
                f"The blocks of rank {rank_id} hold {total} places, "
                f"more than its capacity of {capacity[rank_id]}.",
            )
    return found
