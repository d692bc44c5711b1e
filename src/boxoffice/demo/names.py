"""Dutch (and a few Belgian) names, streets, cities and postcodes for demo customers.

The lists are data, kept in names.json beside this module and read once at import:
- `male_first_names`, `female_first_names`, `streets`: strings;
- `last_names`: [preposition or null, surname, weight]: common names come up more often;
- `nl_cities`: [city, first and last postcode number, telephone area code, weight];
- `be_cities`: [city, postcode]: Belgian postcodes are four digits, no letters.
"""

import json
from importlib import resources
from typing import Any

_DATA: dict[str, list[Any]] = json.loads(
    resources.files(__package__).joinpath("names.json").read_text(encoding="utf-8")
)

MALE_FIRST_NAMES: tuple[str, ...] = tuple(_DATA["male_first_names"])
FEMALE_FIRST_NAMES: tuple[str, ...] = tuple(_DATA["female_first_names"])
LAST_NAMES: tuple[tuple[str | None, str, int], ...] = tuple(
    (preposition, surname, weight) for preposition, surname, weight in _DATA["last_names"]
)
STREETS: tuple[str, ...] = tuple(_DATA["streets"])
NL_CITIES: tuple[tuple[str, int, int, str, int], ...] = tuple(
    (city, first, last, area, weight) for city, first, last, area, weight in _DATA["nl_cities"]
)
BE_CITIES: tuple[tuple[str, str], ...] = tuple((city, zip_) for city, zip_ in _DATA["be_cities"])

# The second half of a Dutch postcode: two letters, never F, I, O, Q, U or Y, and never SA,
# SD or SS (historically avoided combinations).
POSTCODE_LETTERS = tuple(
    a + b
    for a in "ABCDEGHJKLMNPRSTVWXZ"
    for b in "ABCDEGHJKLMNPRSTVWXZ"
    if a + b not in ("SA", "SD", "SS")
)

# Reserved example domains (RFC 2606 style): demo data must never mail a real person.
EMAIL_DOMAINS = (("example.nl", 6), ("example.com", 3), ("example.org", 1))
