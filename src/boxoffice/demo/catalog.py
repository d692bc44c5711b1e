"""The demo client's catalog: three halls, two seasons of productions, prices and blocks.

`build_catalog` returns the catalog as a catalog file (loaded through the real loader, so the
demo exercises it) and, next to it, what the sales simulation needs to know about each event.
"""

import random
import string
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from boxoffice.demo.chance import cumulative
from boxoffice.demo.public import event_fields, production_fields
from boxoffice.server.values.instants import EPOCH, instant_to_micros

TIMEZONE = "Europe/Amsterdam"
TZ = ZoneInfo(TIMEZONE)


@dataclass(frozen=True, slots=True)
class Scale:
    """How much a demo holds. `events` is per hall: Grote Zaal, Kleine Zaal, park."""

    name: str
    customers: int
    orders: int
    waiting: int
    client_types: int
    events: tuple[int, int, int]
    park_capacity: tuple[int, int, int]  # per rank of the open-air venue


SCALES: dict[str, Scale] = {
    "small": Scale("small", 2_000, 5_000, 800, 12, (14, 10, 6), (2_500, 600, 150)),
    "large": Scale("large", 100_000, 400_000, 50_000, 30, (100, 60, 40), (28_000, 5_000, 2_000)),
}

CLIENT_TYPES: tuple[tuple[str, float], ...] = (
    # (name, share of customers with that tag); the first twelve make the small vocabulary.
    ("newsletter", 0.45), ("friend", 0.08), ("donor", 0.04), ("vip", 0.004),
    ("press", 0.003), ("student", 0.05), ("subscriber", 0.06), ("senior", 0.12),
    ("cjp", 0.05), ("family", 0.05), ("first-timer", 0.10), ("youth", 0.04),
    ("season-pass", 0.03), ("member-bronze", 0.03), ("member-silver", 0.015),
    ("member-gold", 0.006), ("citypass", 0.03), ("wheelchair", 0.01), ("school", 0.004),
    ("teacher", 0.01), ("business", 0.01), ("group-leader", 0.005), ("patron", 0.004),
    ("staff", 0.002), ("volunteer", 0.003), ("artist", 0.002), ("board", 0.0005),
    ("ambassador", 0.001), ("corporate-partner", 0.001), ("heritage-circle", 0.001),
)  # fmt: skip

# (id, label, fee in cents, channel it is used in)
PAYMENT_METHODS: tuple[tuple[int, str, int, str], ...] = (
    (1, "iDEAL", 35, "www"),
    (2, "Creditcard", 195, "www"),
    (3, "Bancontact", 45, "www"),
    (4, "Cadeaukaart", 0, "www"),
    (5, "Factuur", 250, "both"),
    (6, "PIN (kassa)", 0, "sp"),
    (7, "Contant (kassa)", 0, "sp"),
)

RANKS = {
    11: "Rang 1",
    12: "Rang 2",
    13: "Rang 3",
    21: "Zaal",
    22: "Balkon",
    31: "Staanplaats",
    32: "Tribune",
    33: "Golden Circle",
}
GROTE_ZAAL, KLEINE_ZAAL, PARK = 1, 2, 3
HALL_NAMES = {
    GROTE_ZAAL: "de Grote Zaal",
    KLEINE_ZAAL: "de Kleine Zaal",
    PARK: "Openluchttheater Het Wilgenpark",
}

# (title, eventType, eventTags) per hall; a title runs as one production per season.
_TITLES: dict[int, tuple[tuple[str, str, list[str] | None], ...]] = {
    GROTE_ZAAL: (
        ("Carmen", "opera", ["klassiek", "Frans gezongen"]),
        ("La Traviata", "opera", ["klassiek", "Italiaans gezongen"]),
        ("De Notenkraker", "dans", ["familie", "klassiek"]),
        ("Het Zwanenmeer", "dans", ["klassiek"]),
        ("Hamlet", "toneel", None),
        ("Max Havelaar", "toneel", ["Nederlands gesproken"]),
        ("Beethoven 9", "concert", ["klassiek"]),
        ("Mahler 2: Opstanding", "concert", ["klassiek"]),
        ("Nieuwjaarsconcert", "concert", ["klassiek", "familie"]),
        ("Matthäus-Passion", "concert", ["klassiek"]),
        ("Annie", "musical", ["familie", "6+"]),
        ("De Tweeling: de musical", "musical", None),
        ("Het Achterhuis", "toneel", ["Nederlands gesproken"]),
        ("Lotte Bakker: Alles komt goed", "cabaret", None),
        ("Rumours: Fleetwood Mac tribute", "pop", None),
        ("Don Giovanni", "opera", ["klassiek", "Italiaans gezongen"]),
        ("Romeo en Julia", "dans", None),
        ("Op hoop van zegen", "toneel", ["Nederlands gesproken"]),
        ("Gijsbrecht van Aemstel", "toneel", ["Nederlands gesproken"]),
        ("Kerstcircus", "circus", ["familie", "4+"]),
        ("Brahms & Dvořák", "concert", ["klassiek"]),
        ("Sneeuwwitje: de musical", "musical", ["familie", "4+"]),
    ),
    KLEINE_ZAAL: (
        ("Jazz in de Kleine Zaal", "concert", ["jazz"]),
        ("Strijkkwartet Amstel: Schubert", "concert", ["klassiek", "kamermuziek"]),
        ("Thijs Bakker: Zonder titel", "cabaret", None),
        ("Sprookjes van Grimm", "jeugd", ["familie", "4+"]),
        ("Wachten op Godot", "toneel", None),
        ("Fado Noite", "concert", ["wereldmuziek"]),
        ("Poëzieavond", "literatuur", None),
        ("Singer-songwriter sessies", "concert", None),
        ("Improv Amsterdam", "comedy", ["Engels gesproken"]),
        ("Het dagboek van Anne", "toneel", ["Nederlands gesproken", "12+"]),
        ("Bach op zondag", "concert", ["klassiek"]),
        ("Stand-up Night", "comedy", ["18+"]),
    ),
    PARK: (
        ("Zomeravond in het Park", "festival", ["openlucht"]),
        ("Weidefestival", "festival", ["openlucht", "pop"]),
        ("Klassiek in het Park", "concert", ["openlucht", "klassiek"]),
        ("Dancefestival Zonnestraal", "festival", ["openlucht", "dance", "18+"]),
        ("Parkpop Live", "pop", ["openlucht"]),
        ("Jazz onder de Wilgen", "festival", ["openlucht", "jazz"]),
    ),
}


@dataclass(frozen=True, slots=True)
class DemoPrice:
    price_id: str
    name: str
    rank_id: int
    amount_cents: int
    share: float  # how often a buyer picks it among the prices of its rank


@dataclass(slots=True)
class DemoEvent:
    """What the sales simulation needs to know about one event."""

    event_id: int
    hall_id: int
    reserved: bool
    start_at: int
    end_at: int
    sale_start_at: int
    popularity: float
    prices: dict[int, list[DemoPrice]]  # per rank
    price_cum: dict[int, list[float]]  # per rank: cumulative shares of its prices
    capacity: dict[int, int] = field(default_factory=dict)  # unreserved: per rank
    blocked_units: dict[int, int] = field(default_factory=dict)
    blocked_seats: set[tuple[int, int, int]] = field(default_factory=set)  # (section, row, seat)


def hall_layouts() -> dict[int, list[tuple[int, str, list[tuple[int, int, int]]]]]:
    """Per reserved hall: (section id, name, [(row, seats in the row, rank)])."""
    parket = [(row, 30 + row // 2, 11 if row <= 14 else 12) for row in range(1, 25)]
    balkon1 = [(row, 46, 11 if row <= 5 else 12) for row in range(1, 13)]
    balkon2 = [(row, 48, 12 if row <= 4 else 13) for row in range(1, 13)]
    zaal = [(row, 26, 21) for row in range(1, 19)]
    balkon = [(row, 20, 22) for row in range(1, 4)]
    return {
        GROTE_ZAAL: [
            (1, "Parket", parket),
            (2, "Eerste balkon", balkon1),
            (3, "Tweede balkon", balkon2),
        ],
        KLEINE_ZAAL: [(4, "Zaal", zaal), (5, "Balkon", balkon)],
    }


def _halls() -> list[dict[str, object]]:
    layouts = hall_layouts()
    venue = {
        "hallAddress": "Schouwburgplein 12",
        "hallZip": "1012 WX",
        "hallCity": "Amsterdam",
        "hallPhone": "0201234567",
        "hallUrl": "https://schouwburcht.example.nl",
    }
    found: list[dict[str, object]] = []
    for hall_id, name in ((GROTE_ZAAL, "Grote Zaal"), (KLEINE_ZAAL, "Kleine Zaal")):
        sections = [
            {
                "sectionId": section_id,
                "sectionName": section_name,
                "rows": [
                    {
                        "rowNr": row,
                        "seats": [{"seatNr": n, "rankId": rank} for n in range(1, seats + 1)],
                    }
                    for row, seats, rank in rows
                ],
            }
            for section_id, section_name, rows in layouts[hall_id]
        ]
        found.append({"hallId": hall_id, "hallName": name, **venue, "sections": sections})
    found.append(
        {
            "hallId": PARK,
            "hallName": "Openluchttheater Het Wilgenpark",
            "hallAddress": "Parkweg 5",
            "hallZip": "1075 AZ",
            "hallCity": "Amsterdam",
            "hallPhone": "0209876543",
            "hallUrl": "https://wilgenpark.example.nl",
        }
    )
    return found


def _season_days(rng: random.Random, hall_id: int, season: int, count: int) -> list[date]:
    """Distinct performance days of one hall in the season starting in September `season`."""
    if hall_id == PARK:
        # Open air: weekends in September and in May and June.
        windows = [(date(season, 9, 1), 28), (date(season + 1, 5, 8), 52)]
        candidates = [
            first + timedelta(days=d)
            for first, length in windows
            for d in range(length)
            if (first + timedelta(days=d)).weekday() >= 4
        ]
    else:
        first = date(season, 9, 4)
        candidates = [
            first + timedelta(days=d) for d in range((date(season + 1, 6, 28) - first).days)
        ]
        candidates = [d for d in candidates if d.weekday() != 0]  # dark on Mondays
    return sorted(rng.sample(candidates, min(count, len(candidates))))


def _price_id(rng: random.Random, taken: set[str]) -> str:
    alphabet = string.ascii_letters + string.digits
    while True:
        candidate = "".join(rng.choice(alphabet) for _ in range(10))
        if candidate not in taken:
            taken.add(candidate)
            return candidate


def _prices(
    rng: random.Random, hall_id: int, kind: str, taken: set[str]
) -> dict[int, list[DemoPrice]]:
    """Prices per rank: a regular price and, depending on the show, reduced ones."""
    found: dict[int, list[DemoPrice]] = {}
    if hall_id == PARK:
        base = rng.choice((3950, 4250, 4750, 5450))
        for rank, extra in ((31, 0), (32, 1800), (33, 4500)):
            regular = base + extra
            found[rank] = [
                DemoPrice(_price_id(rng, taken), "Regulier", rank, regular, 0.8),
                DemoPrice(_price_id(rng, taken), "Early bird", rank, regular - 750, 0.2),
            ]
        return found
    if hall_id == GROTE_ZAAL:
        base = rng.choice((3450, 3950, 4450, 4950, 5750, 6950)) if kind != "circus" else 2950
        ranks: tuple[tuple[int, int], ...] = ((11, 0), (12, 800), (13, 1600))
    else:
        base = rng.choice((1850, 2150, 2450, 2750))
        ranks = ((21, 0), (22, 300))
    cjp = rng.random() < 0.7
    youth = kind in ("musical", "jeugd", "circus", "dans") or rng.random() < 0.3
    for rank, discount in ranks:
        regular = max(1000, base - discount)
        rank_prices = [DemoPrice(_price_id(rng, taken), "Regulier", rank, regular, 0.8)]
        if cjp:
            rank_prices.append(DemoPrice(_price_id(rng, taken), "CJP", rank, regular - 500, 0.08))
        if youth:
            rank_prices.append(
                DemoPrice(_price_id(rng, taken), "Jongeren t/m 17", rank, regular // 2, 0.12)
            )
        rank_prices.append(DemoPrice(_price_id(rng, taken), "65+", rank, regular - 250, 0.1))
        found[rank] = rank_prices
    return found


def _blocks(
    rng: random.Random, event: DemoEvent, premiere: bool, scale: Scale
) -> list[dict[str, object]]:
    """Places held back from sale, the way a venue does it."""
    blocks: list[dict[str, object]] = []

    def seats(block_type: str, section: int, row: int, numbers: list[int]) -> None:
        event.blocked_seats.update((section, row, n) for n in numbers)
        blocks.append(
            {
                "blockType": block_type,
                "seats": [{"sectionId": section, "rowNr": row, "seatNr": n} for n in numbers],
            }
        )

    def places(block_type: str, rank: int, count: int) -> None:
        count = min(count, event.capacity[rank] // 10)
        if count > 0:
            event.blocked_units[rank] = event.blocked_units.get(rank, 0) + count
            blocks.append({"blockType": block_type, "rankId": rank, "places": count})

    if event.hall_id == GROTE_ZAAL:
        seats("wheel", 1, 24, [1, 2, 41, 42])
        if premiere:
            seats("press", 1, 7, [15, 16, 17, 18])
        if rng.random() < 0.3:
            seats("tech", 1, 20, [18, 19, 20, 21, 22, 23])
        if rng.random() < 0.2:
            seats("perf", 1, 1, [1, 2])
    elif event.hall_id == KLEINE_ZAAL:
        seats("wheel", 4, 18, [1, 2])
        seats("sight", 5, 1, [1, 20])
    else:
        places("wheel", 31, 40)
        if rng.random() < 0.5:
            places("group", 33, 100)
        if rng.random() < 0.25:
            places("ext", 31, scale.park_capacity[0] // 30)
    return blocks


def build_catalog(rng: random.Random, scale: Scale) -> tuple[dict[str, object], list[DemoEvent]]:
    """The catalog file of the demo client and the events as the sales simulation sees them."""
    price_ids: set[str] = set()
    productions: list[dict[str, object]] = []
    demo_events: list[DemoEvent] = []
    schedule: list[tuple[date, int, int]] = []  # (day, hall, season)
    for hall_id, count in zip((GROTE_ZAAL, KLEINE_ZAAL, PARK), scale.events, strict=True):
        for season in (2025, 2026):
            share = (count + 1) // 2 if season == 2025 else count // 2
            schedule.extend((d, hall_id, season) for d in _season_days(rng, hall_id, season, share))
    # Group each hall's days into runs: one production per run of consecutive performances.
    runs: list[tuple[int, int, list[date]]] = []
    for hall_id in (GROTE_ZAAL, KLEINE_ZAAL, PARK):
        for season in (2025, 2026):
            days = sorted(d for d, h, s in schedule if h == hall_id and s == season)
            while days:
                length = min(
                    len(days), rng.choice((1, 2, 2, 3, 4, 5) if hall_id != PARK else (1, 2))
                )
                runs.append((hall_id, season, days[:length]))
                days = days[length:]
    runs.sort(key=lambda run: (run[2][0], run[0]))
    used: dict[str, int] = {}
    next_event_id = 1001
    for production_id, (hall_id, season, days) in enumerate(runs, start=101):
        title, kind, tags = _TITLES[hall_id][(production_id * 7) % len(_TITLES[hall_id])]
        used[title] = used.get(title, 0) + 1
        name = title if used[title] == 1 else f"{title} ({season}/{(season + 1) % 100:02d})"
        popularity = rng.uniform(0.25, 1.1) if hall_id != PARK else rng.uniform(0.3, 0.9)
        events: list[dict[str, object]] = []
        for index, day in enumerate(days):
            event = _event(rng, scale, hall_id, kind, (season, day), popularity, price_ids)
            event.event_id = next_event_id
            matinee = day.weekday() == 6 and hall_id != PARK
            event_json: dict[str, object] = {
                "eventId": next_event_id,
                "eventName": name + (" (matinee)" if matinee else ""),
                "eventType": kind,
                "eventTags": tags,
                "start": _local(event.start_at).isoformat(),
                "end": _local(event.end_at).isoformat(),
                "hallId": hall_id,
                "seating": "reserved" if event.reserved else "unreserved",
                "prices": [
                    {
                        "priceId": p.price_id,
                        "priceName": p.name,
                        "rankId": p.rank_id,
                        "amount": f"{p.amount_cents // 100}.{p.amount_cents % 100:02d}",
                    }
                    for rank_prices in event.prices.values()
                    for p in rank_prices
                ],
                "blocks": _blocks(rng, event, index == 0, scale),
                **event_fields(
                    next_event_id, park=hall_id == PARK, matinee=matinee, end_at=event.end_at
                ),
            }
            if not event.reserved:
                event_json["capacity"] = [
                    {"rankId": rank, "places": places} for rank, places in event.capacity.items()
                ]
            events.append(event_json)
            demo_events.append(event)
            next_event_id += 1
        productions.append(
            {
                "productionId": production_id,
                "productionName": name,
                **production_fields(production_id, title, kind, tags, HALL_NAMES[hall_id]),
                "events": events,
            }
        )
    catalog: dict[str, object] = {
        "timezone": TIMEZONE,
        "clientTypes": [name for name, _share in CLIENT_TYPES[: scale.client_types]],
        "paymentMethods": [
            {
                "paymentMethodId": i,
                "name": label,
                "fee": f"{fee // 100}.{fee % 100:02d}",
                # Card payments go through the built-in test provider's payment page; the
                # box-office-only methods are not offered online.
                "provider": "invoice"
                if label in ("Factuur", "Cadeaukaart") or channel == "sp"
                else "test",
                "online": channel != "sp",
            }
            for i, label, fee, channel in PAYMENT_METHODS
        ],
        "ranks": [{"rankId": rank, "name": name} for rank, name in RANKS.items()],
        "halls": _halls(),
        "productions": productions,
    }
    return catalog, demo_events


def _local(micros: int) -> datetime:
    return (EPOCH + timedelta(microseconds=micros)).astimezone(TZ)


def _event(
    rng: random.Random,
    scale: Scale,
    hall_id: int,
    kind: str,
    when: tuple[int, date],
    popularity: float,
    price_ids: set[str],
) -> DemoEvent:
    season, day = when
    if hall_id == PARK:
        start, minutes = (time(13, 0), 600) if day.weekday() >= 5 else (time(18, 0), 330)
    elif day.weekday() == 6:
        start, minutes = time(14, 30), 150 if hall_id == GROTE_ZAAL else 90
    else:
        start, minutes = (time(20, 15), 150) if hall_id == GROTE_ZAAL else (time(20, 30), 100)
    start_at = instant_to_micros(datetime.combine(day, start, tzinfo=TZ))
    # The season goes on sale early June; the open-air spring events sell from early March.
    on_sale = (
        datetime(season, 6, 2, 10, 0, tzinfo=TZ)
        if hall_id != PARK or day.month >= 9
        else datetime(season + 1, 3, 2, 10, 0, tzinfo=TZ)
    )
    prices = _prices(rng, hall_id, kind, price_ids)
    event = DemoEvent(
        event_id=0,
        hall_id=hall_id,
        reserved=hall_id != PARK,
        start_at=start_at,
        end_at=start_at + minutes * 60_000_000,
        sale_start_at=instant_to_micros(on_sale),
        popularity=popularity * rng.uniform(0.85, 1.15),
        prices=prices,
        price_cum={rank: cumulative(p.share for p in ps) for rank, ps in prices.items()},
    )
    if hall_id == PARK:
        event.capacity = dict(zip((31, 32, 33), scale.park_capacity, strict=True))
    return event
