"""The buyer's languages: Dutch and English, from gettext catalogs kept as .po files.

The shop's pages and the test provider's payment page speak them (one catalog for both).

English is the source language of the messages; `locale/nl/LC_MESSAGES/shop.po` holds the
Dutch. The .po file is compiled in memory when first used (Babel), so a fresh checkout
needs no build step. Money and dates are formatted by Babel in the page's language.
"""

import gettext
import io
from decimal import Decimal
from functools import cache
from importlib.resources import files
from zoneinfo import ZoneInfo

from babel.dates import format_datetime
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.numbers import format_currency

from boxoffice.server.values.instants import micros_to_instant

LANGUAGES = ("nl", "en")
DEFAULT_LANGUAGE = "nl"
# Babel's locale of each language: the shop's amounts are euros, its dates Dutch or English.
LOCALES = {"nl": "nl_NL", "en": "en_GB"}
DOMAIN = "shop"


def N_(message: str) -> str:
    """Marks a message for translation where it is declared; translated when shown."""
    return message


@cache
def translations(language: str) -> gettext.NullTranslations:
    """The messages of `language` (English: the messages themselves)."""
    if language == "en":
        return gettext.NullTranslations()
    source = files("boxoffice.server.tickets").joinpath(
        "locale", language, "LC_MESSAGES", f"{DOMAIN}.po"
    )
    with source.open("rb") as po:
        catalog = read_po(po, locale=LOCALES[language], domain=DOMAIN)
    compiled = io.BytesIO()
    write_mo(compiled, catalog)
    compiled.seek(0)
    return gettext.GNUTranslations(compiled)


def _accepted(header: str) -> list[str]:
    """The languages of an Accept-Language header, most wanted first."""
    weighted: list[tuple[float, int, str]] = []
    for index, part in enumerate(header.split(",")):
        tag, _, params = part.strip().partition(";")
        quality = 1.0
        if params.strip().startswith("q="):
            try:
                quality = float(params.strip()[2:])
            except ValueError:
                quality = 0.0
        if tag and quality > 0:
            weighted.append((-quality, index, tag.split("-")[0].lower()))
    return [language for _q, _i, language in sorted(weighted)]


def choose_language(asked: str | None, remembered: str | None, accept_language: str) -> str:
    """`?lang=`, else the language chosen before (a cookie), else the browser's."""
    for choice in (asked, remembered):
        if choice in LANGUAGES:
            return str(choice)
    for language in _accepted(accept_language):
        if language in LANGUAGES:
            return language
    return DEFAULT_LANGUAGE


def money(cents: int, language: str) -> str:
    """`€ 24,50` in Dutch, `€24.50` in English."""
    return format_currency(Decimal(cents) / 100, "EUR", locale=LOCALES[language])


def moment(micros: int, tz: ZoneInfo, language: str) -> str:
    """An instant in the client's time zone: `zaterdag 12 december 2026, 20:15`."""
    return format_datetime(
        micros_to_instant(micros, tz), "EEEE d MMMM y, HH:mm", locale=LOCALES[language]
    )


def clock(micros: int, tz: ZoneInfo) -> str:
    """The local time of an instant, `22:45`."""
    return micros_to_instant(micros, tz).strftime("%H:%M")
