"""The HTML pages of an order (receipt, payment page): one page shell, one set of lines."""

from collections.abc import Mapping, Sequence
from typing import Any
from zoneinfo import ZoneInfo

from jinja2 import ChoiceLoader, Environment, PackageLoader, select_autoescape

from boxoffice.server.tickets import i18n
from boxoffice.server.tickets.service import Ticket
from boxoffice.server.values.instants import micros_to_instant
from boxoffice.server.values.money import money_text


def page_templates(package: str) -> Environment:
    """The templates of `package`; they extend the page shell of this one (page.html)."""
    return Environment(
        loader=ChoiceLoader(
            [
                PackageLoader(package, "templates"),
                PackageLoader("boxoffice.server.tickets", "templates"),
            ]
        ),
        autoescape=select_autoescape(["html"]),
    )


def translated_templates(package: str, language: str) -> Environment:
    """The templates of `package` in `language` (`_()`), with a `money` filter (cents)."""
    env = page_templates(package)
    env.add_extension("jinja2.ext.i18n")
    env.install_gettext_translations(i18n.translations(language), newstyle=True)  # type: ignore[attr-defined]
    env.filters["money"] = lambda cents: i18n.money(int(cents), language)
    return env


def local_minute(micros: int, tz: ZoneInfo) -> str:
    """An instant as a page shows it: the client's local date and time to the minute."""
    return micros_to_instant(micros, tz).strftime("%Y-%m-%d %H:%M")


def order_lines(row: Mapping[str, Any], tickets: Sequence[Ticket]) -> dict[str, Any]:
    """An order's ticket lines, donation, fee (None when nothing) and total, as text."""
    fee, donation = int(row["fee_cents"]), int(row["donation_cents"])
    return {
        "tickets": [
            {
                "event_name": t.event_name,
                "starts": t.starts,
                "hall_name": t.hall_name,
                "place": t.place,
                "price_name": t.price_name,
                "amount": money_text(t.amount_cents),
            }
            for t in tickets
        ],
        "donation": money_text(donation) if donation else None,
        "fee": money_text(fee) if fee else None,
        "total": money_text(int(row["amount_cents"])),
    }
