"""The payment provider interface, and the providers Boxoffice ships: `test` and `invoice`.

A provider is told to start a payment and answers where the buyer goes to pay; it turns
what comes back to Boxoffice (the buyer's choice on the test page, a real provider's
notification) into an outcome; and it can be asked for a payment's status. Everything else
(the reservation, its expiry, the order's status, the redirect back to the venue's site)
is the payments service's, the same for every provider. docs/public-api.md describes how a
real provider (Mollie, Stripe) plugs in.
"""

import enum
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Protocol

from boxoffice.server.errors import InvalidInput


class Outcome(enum.Enum):
    OPEN = "open"
    PAID = "paid"
    CANCELLED = "cancelled"


@dataclass(frozen=True, slots=True)
class PaymentStart:
    """What a provider is told when a buyer is about to pay."""

    order_key: str
    amount_cents: int
    currency: str
    description: str
    # Boxoffice's page for this payment: the test provider's page itself; for a real
    # provider the URL it sends the buyer back to.
    page_url: str
    # Where a real provider posts its status notifications (webhook) for this payment.
    callback_url: str
    # The venue's page with ?return=<order key>: where the buyer ends up.
    return_url: str


@dataclass(frozen=True, slots=True)
class Started:
    """Where the buyer goes now, and the provider's own id of the payment (if any)."""

    url: str
    reference: str | None


class PaymentProvider(Protocol):
    """One payment provider. `reserves`: its orders are reservations until paid."""

    name: str
    reserves: bool

    def start(self, payment: PaymentStart) -> Started: ...

    def handle_callback(self, fields: Mapping[str, str]) -> Outcome: ...

    def check_status(self, reference: str | None) -> Outcome: ...


class TestProvider:
    """The built-in provider for demos and tests: Boxoffice's own page offers pay and cancel.

    Its "callback" is the buyer's choice posted from that page; it keeps no state of its own
    outside Boxoffice, so its status is whatever Boxoffice recorded (OPEN until then).
    """

    name = "test"
    reserves = True

    def start(self, payment: PaymentStart) -> Started:
        return Started(url=payment.page_url, reference=None)

    def handle_callback(self, fields: Mapping[str, str]) -> Outcome:
        action = fields.get("action")
        if action == "pay":
            return Outcome.PAID
        if action == "cancel":
            return Outcome.CANCELLED
        raise InvalidInput.field("action", "The action must be 'pay' or 'cancel'.")

    def check_status(self, reference: str | None) -> Outcome:
        return Outcome.OPEN


class InvoiceProvider:
    """Pay later, by invoice or bank transfer: the order is placed at once, unpaid.

    Nothing is reserved and nothing expires; the buyer goes straight back to the venue's
    site, and the venue marks the order paid when the money arrives (Peppered
    `PUT /order/{orderId}` with `orderPaymentStatus: paid`). Tickets are available then.
    """

    name = "invoice"
    reserves = False

    def start(self, payment: PaymentStart) -> Started:
        return Started(url=payment.return_url, reference=None)

    def handle_callback(self, fields: Mapping[str, str]) -> Outcome:
        raise InvalidInput.field("provider", "An invoice payment has no callback.")

    def check_status(self, reference: str | None) -> Outcome:
        return Outcome.OPEN


PROVIDERS: Mapping[str, PaymentProvider] = {
    provider.name: provider for provider in (TestProvider(), InvoiceProvider())
}


def get_provider(name: str) -> PaymentProvider | None:
    return PROVIDERS.get(name)
