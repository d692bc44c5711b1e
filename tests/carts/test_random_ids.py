"""Cart ids and order keys: letters and digits, each character uniformly random."""

import re
from collections import Counter

from boxoffice.server.carts.service import CART_ID_LENGTH, new_cart_id, new_order_key

ALPHANUMERIC = re.compile(r"[A-Za-z0-9]+")


def test_cart_ids_and_order_keys_have_their_form() -> None:
    ids = {new_cart_id() for _ in range(1000)}
    assert len(ids) == 1000
    assert all(len(i) == CART_ID_LENGTH and ALPHANUMERIC.fullmatch(i) for i in ids)
    keys = [new_order_key() for _ in range(1000)]
    assert all(re.fullmatch(r"([A-Za-z0-9]{5}-){3}[A-Za-z0-9]{5}", k) for k in keys)


def test_every_letter_and_digit_is_as_likely() -> None:
    """10,000 ids are 320,000 characters: ~5,161 of each of the 62, give or take ~72 (one
    standard deviation). A byte mapped onto the 62 by its remainder alone would make the
    first 8 a quarter more likely (5 bytes of 256 each, where the others have 4): ~6,450."""
    counts = Counter("".join(new_cart_id() for _ in range(10_000)))
    expected = 10_000 * CART_ID_LENGTH / 62
    assert len(counts) == 62
    assert all(abs(n - expected) < 8 * 72 for n in counts.values()), counts
