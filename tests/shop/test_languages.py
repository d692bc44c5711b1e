"""Every message of the shop and of the test provider's payment page has its Dutch
translation, and the Accept-Language rules."""

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

from boxoffice.server.tickets import i18n

SHOP = "src/boxoffice/server/shop"
# The pages a buyer sees besides the shop's: the test provider's payment page.
BUYER_PAGES = (SHOP, "src/boxoffice/server/payments")
CATALOG = "src/boxoffice/server/tickets/locale/nl/LC_MESSAGES/shop.po"


def shop_messages() -> set[str]:
    """The messages of the buyer's pages: templates (`_()`) and code (`N_()`, `gettext()`)."""
    return {
        message
        for folder in BUYER_PAGES
        for _file, _line, message, _comments, _context in extract_from_dir(
            folder,
            method_map=[("templates/**.html", "jinja2"), ("**.py", "python")],
            keywords={"_": None, "N_": None, "gettext": None, "ngettext": (1, 2)},
        )
    }


def test_every_message_has_a_dutch_translation_and_none_is_left_over() -> None:
    with open(CATALOG, "rb") as po:
        catalog = read_po(po)
    translated = {m.id: m.string for m in catalog if m.id}
    messages = shop_messages()
    assert len(messages) > 80
    assert sorted(messages - set(translated)) == []
    assert sorted(set(translated) - messages) == []
    assert all(translated[m] for m in messages)
    dutch = i18n.translations("nl")
    assert dutch.gettext("Seat map") == "Zaalplattegrond"
    assert dutch.gettext("Pay for your order") == "Betaal je bestelling"


@pytest.mark.parametrize(
    ("asked", "remembered", "header", "language"),
    [
        ("en", "nl", "nl", "en"),
        (None, "en", "nl", "en"),
        ("fr", None, "en-US,en;q=0.9", "en"),
        (None, None, "de-DE,de;q=0.9,nl;q=0.5,en;q=0.4", "nl"),
        (None, None, "en;q=0.2,nl;q=0.8", "nl"),
        (None, None, "en;q=bad", "nl"),
        (None, None, "", "nl"),
    ],
)
def test_the_language_is_asked_remembered_or_the_browsers(
    asked: str | None, remembered: str | None, header: str, language: str
) -> None:
    assert i18n.choose_language(asked, remembered, header) == language
