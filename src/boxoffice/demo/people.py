"""Demo customers: Dutch names, addresses and phones, unique e-mail addresses, tags and credit."""

import random
import unicodedata
from dataclasses import dataclass, field
from itertools import accumulate

from boxoffice.demo.catalog import CLIENT_TYPES, Scale
from boxoffice.demo.chance import between, pick
from boxoffice.demo.names import (
    BE_CITIES,
    EMAIL_DOMAINS,
    FEMALE_FIRST_NAMES,
    LAST_NAMES,
    MALE_FIRST_NAMES,
    NL_CITIES,
    POSTCODE_LETTERS,
    STREETS,
)
from boxoffice.server.customers.service import PERSONAL_COLUMNS

_DAY = 86_400_000_000
# The columns of a made-up address, in the order make_customers draws them.
_ADDRESS = ("address", "house_nr", "zip", "city", "country")


@dataclass(slots=True)
class Customers:
    """Customers in creation order: index i is the i-th customer ever created."""

    # Each customer's `customers` columns, by name (the writer adds id and tenant_id); the
    # columns not named keep their defaults.
    rows: list[dict[str, object]] = field(default_factory=list)
    created_at: list[int] = field(default_factory=list)
    tags: list[tuple[int, str]] = field(default_factory=list)  # (customer index, tag)
    erased: set[int] = field(default_factory=set)


def _ascii(text: str) -> str:
    """An e-mail-safe rendering of a name: no accents, spaces or apostrophes."""
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return "".join(c for c in folded.lower() if c.isalnum())


def make_customers(
    rng: random.Random, scale: Scale, *, first_at: int, season_at: int, now: int
) -> Customers:
    """`scale.customers` customers created between `first_at` and `now`, most since `season_at`."""
    found = Customers()
    stamps = sorted(
        between(rng, first_at, season_at) if rng.random() < 0.35 else between(rng, season_at, now)
        for _ in range(scale.customers)
    )
    last_names = [(prep, name) for prep, name, _w in LAST_NAMES]
    last_cum = list(accumulate(w for _p, _n, w in LAST_NAMES))
    cities = [(city, lo, hi, area) for city, lo, hi, area, _w in NL_CITIES]
    city_cum = list(accumulate(w for *_rest, w in NL_CITIES))
    domains = [d for d, _w in EMAIL_DOMAINS]
    domain_cum = list(accumulate(w for _d, w in EMAIL_DOMAINS))
    vocabulary = CLIENT_TYPES[: scale.client_types]
    emails: set[str] = set()
    for index, created_at in enumerate(stamps):
        last_changed_at = created_at if rng.random() < 0.7 else between(rng, created_at, now)
        found.created_at.append(created_at)
        if rng.random() < 0.002:
            # Erased on request: the record stays (orders refer to it), the person is gone.
            found.rows.append(
                {
                    **dict.fromkeys(PERSONAL_COLUMNS),
                    "credit_cents": 0,
                    "created_at": created_at,
                    "last_changed_at": last_changed_at,
                    "erased_at": last_changed_at,
                }
            )
            found.erased.add(index)
            continue
        female = rng.random() < 0.52
        first = rng.choice(FEMALE_FIRST_NAMES if female else MALE_FIRST_NAMES)
        preposition, last = pick(rng, last_names, last_cum)
        email = _email(rng, first, preposition, last, pick(rng, domains, domain_cum), emails)
        address: tuple[str | None, ...] = (None,) * len(_ADDRESS)
        phone: str | None = None
        roll = rng.random()
        if roll < 0.72:
            city, lo, hi, area = pick(rng, cities, city_cum)
            zip_code = f"{rng.randint(lo, hi)} {rng.choice(POSTCODE_LETTERS)}"
            address = (rng.choice(STREETS), _house_nr(rng), zip_code, city, "NL")
            if rng.random() < 0.75:
                phone = _nl_phone(rng, area)
        elif roll < 0.76:
            city, postcode = rng.choice(BE_CITIES)
            address = (rng.choice(STREETS), _house_nr(rng), postcode, city, "BE")
            if rng.random() < 0.6:
                phone = f"04{rng.randrange(10**8):08d}"
        elif rng.random() < 0.5:
            phone = _nl_phone(rng, None)
        credit = rng.randrange(500, 7500, 50) if rng.random() < 0.03 else 0
        found.rows.append(
            {
                "email": email,
                "email_key": email,
                "first_name": first,
                "last_name": last,
                "salutation": "F" if female else "M",
                "preposition": preposition,
                **dict(zip(_ADDRESS, address, strict=True)),
                "phone": phone,
                "credit_cents": credit,
                "created_at": created_at,
                "last_changed_at": last_changed_at,
                "erased_at": None,
            }
        )
        for name, share in vocabulary:
            if rng.random() < share:
                found.tags.append((index, name))
    return found


def _email(
    rng: random.Random, first: str, preposition: str | None, last: str, domain: str, taken: set[str]
) -> str:
    """A lower-case address like j.devries123@example.nl, unique within the client."""
    surname = _ascii((preposition or "") + last)
    pattern = rng.random()
    if pattern < 0.6:
        local = f"{_ascii(first)[0]}.{surname}"
    elif pattern < 0.85:
        local = f"{_ascii(first)}.{surname}"
    else:
        local = f"{_ascii(first)}{_ascii(last)}"
    email = f"{local}{rng.randint(1, 999) if pattern < 0.6 or pattern >= 0.85 else ''}@{domain}"
    while email in taken:
        email = f"{local}{rng.randint(1, 9999)}@{domain}"
    taken.add(email)
    return email


def _house_nr(rng: random.Random) -> str:
    number = 1 + int(220 * rng.random() ** 2)
    suffix = rng.choice(("a", "b", "-1", "-2", "-3", "-hs")) if rng.random() < 0.12 else ""
    return f"{number}{suffix}"


def _nl_phone(rng: random.Random, area: str | None) -> str:
    """Ten digits: a mobile number (06...) or a landline with the city's area code."""
    if area is None or rng.random() < 0.65:
        prefix = "06" + str(rng.randint(1, 5))
    else:
        prefix = area + str(rng.randint(2, 9))
    digits = 10 - len(prefix)
    return f"{prefix}{rng.randrange(10**digits):0{digits}d}"
