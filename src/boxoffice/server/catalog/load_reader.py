"""Reading a JSON document field by field, with every problem keyed by its JSON path."""

import json
from collections.abc import Callable, Iterator
from zoneinfo import ZoneInfo

from boxoffice.server.errors import InvalidInput
from boxoffice.server.values.instants import InstantTextError, parse_instant
from boxoffice.server.values.money import parse_money

# How each reason of an InstantTextError reads in a catalog file's problems.
_INSTANT_PROBLEMS = {
    "shape": "The {key} must be an ISO 8601 date-time, e.g. 2026-04-01T20:30:00+02:00.",
    "invalid": "The {key} is not a valid date-time ({value!r}).",
    "range": "The {key} is out of range.",
}
# A file with thousands of mistakes is reported with the first ones and a total.
MAX_REPORTED = 50
# Catalog ids are 32-bit integers in storage.
MAX_ID = 2_147_483_647


class Problems:
    """Every problem of a file, keyed by the JSON path of its place in the file."""

    def __init__(self) -> None:
        self.errors: dict[str, list[str]] = {}
        self.count = 0

    def add(self, path: str, problem: str) -> None:
        self.count += 1
        if len(self.errors) < MAX_REPORTED or path in self.errors:
            self.errors.setdefault(path, []).append(problem)

    def unique(self, seen: dict[object, str], key: object, path: str, what: str) -> bool:
        """Record `key` as seen at `path`; a second sighting is a problem."""
        if key in seen:
            self.add(path, f"Duplicate {what} (also at {seen[key]}).")
            return False
        seen[key] = path
        return True


def join_path(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


class JsonObject:
    """One JSON object of the file; its getters record problems under the field's path.

    Every getter returns None when the value is absent-but-optional or invalid; callers
    skip the checks that depend on an invalid value, so one mistake is reported once.
    """

    def __init__(
        self, problems: Problems, value: object, path: str, fields: frozenset[str]
    ) -> None:
        self.problems = problems
        self.path = path
        self.data: dict[str, object] = {}
        if isinstance(value, dict):
            self.data = value
            for key in value:
                if key not in fields:
                    problems.add(join_path(path, str(key)), f"Unknown field {key!r}.")
        else:
            problems.add(path or "$", "Must be a JSON object.")
        self.valid = isinstance(value, dict)

    def at(self, key: str) -> str:
        return join_path(self.path, key)

    def has(self, key: str) -> bool:
        return self.data.get(key) is not None

    def _value(self, key: str, required: bool) -> object:
        value = self.data.get(key)
        if value is None and required and self.valid:
            self.problems.add(self.at(key), f"The {key} field is required.")
        return value

    def first(
        self, value: int | None, key: str, seen: dict[object, str], what: str | None = None
    ) -> int | None:
        """`value` (of `key`) the first time `seen` meets it; a repeat is a problem (named
        `what`, by default `<key> <value>`) and None, like an invalid value."""
        if value is None or self.problems.unique(
            seen, value, self.at(key), what or f"{key} {value}"
        ):
            return value
        return None

    def ident(self, key: str, *, required: bool = True) -> int | None:
        """A positive integer id."""
        return self.integer(key, minimum=1, maximum=MAX_ID, required=required)

    def integer(self, key: str, *, minimum: int, maximum: int, required: bool = True) -> int | None:
        value = self._value(key, required)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int):
            self.problems.add(self.at(key), f"The {key} must be an integer.")
            return None
        if not minimum <= value <= maximum:
            self.problems.add(self.at(key), f"The {key} must be between {minimum} and {maximum}.")
            return None
        return value

    def text(self, key: str, *, max_length: int, required: bool = True) -> str | None:
        value = self._value(key, required)
        if value is None:
            return None
        if not isinstance(value, str):
            self.problems.add(self.at(key), f"The {key} must be a string.")
            return None
        if required and not value.strip():
            self.problems.add(self.at(key), f"The {key} must not be empty.")
            return None
        if len(value) > max_length:
            self.problems.add(self.at(key), f"The {key} must be at most {max_length} characters.")
            return None
        return value

    def choice(self, key: str, options: tuple[str, ...] | dict[str, str]) -> str | None:
        value = self._value(key, True)
        if value is None:
            return None
        if not isinstance(value, str) or value not in options:
            allowed = ", ".join(options)
            self.problems.add(self.at(key), f"Unknown {key} {value!r}; one of: {allowed}.")
            return None
        return value

    def money(self, key: str) -> int | None:
        value = self._value(key, True)
        if value is None:
            return None
        try:
            return parse_money(value, key)
        except InvalidInput as exc:
            for problems in (exc.errors or {}).values():
                for problem in problems:
                    self.problems.add(self.at(key), problem)
            return None

    def instant(self, key: str, tz: ZoneInfo) -> int | None:
        """An ISO 8601 date-time; one without an offset is read in the catalog's time zone."""
        value = self._value(key, True)
        if value is None:
            return None
        try:
            return parse_instant(value, tz, date_alone=False)
        except InstantTextError as exc:
            problem = _INSTANT_PROBLEMS[exc.reason].format(key=key, value=value)
        self.problems.add(self.at(key), problem)
        return None

    def names_json(
        self, key: str, what: str, valid: Callable[[object, list[str]], str | None]
    ) -> str | None:
        """An optional array of strings (`what`), stored as compact JSON text so that a
        reload compares equal. `valid(item, kept)` names an item's problem, or None to keep it.
        """
        value = self.data.get(key)
        if value is None:
            return None
        if not isinstance(value, list):
            self.problems.add(self.at(key), f"The {key} must be an array of {what} or null.")
            return None
        kept: list[str] = []
        for index, item in enumerate(value):
            problem = valid(item, kept)
            if problem is not None:
                self.problems.add(f"{self.at(key)}[{index}]", problem)
            else:
                kept.append(str(item))
        return json.dumps(kept, ensure_ascii=False, separators=(",", ":"))

    def objects(
        self, key: str, fields: frozenset[str], *, required: bool = False
    ) -> Iterator["JsonObject"]:
        """Each element of an array field, as a JsonObject of `fields`."""
        for path, item in self.items(key, required=required):
            yield JsonObject(self.problems, item, path, fields)

    def items(self, key: str, *, required: bool = False) -> Iterator[tuple[str, object]]:
        """(path, item) of each element of an array field; an absent optional array is empty."""
        value = self._value(key, required)
        if value is None:
            return
        if not isinstance(value, list):
            self.problems.add(self.at(key), f"The {key} must be an array.")
            return
        for index, item in enumerate(value):
            yield f"{self.at(key)}[{index}]", item
