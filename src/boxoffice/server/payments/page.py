"""The built-in test provider's payment page: HTML served by Boxoffice, no external assets,
in the buyer's language (the shop's: `?lang=`, else the browser's)."""

from functools import cache

from jinja2 import Environment

from boxoffice.server.payments.service import PublicOrder, payment_state, with_return
from boxoffice.server.tenancy.service import Tenant
from boxoffice.server.tickets import i18n
from boxoffice.server.tickets.pages import translated_templates
from boxoffice.server.tickets.service import Ticket


@cache
def _templates(language: str) -> Environment:
    return translated_templates("boxoffice.server.payments", language)


def render_test_page(
    found: PublicOrder,
    tickets: list[Ticket],
    tenant: Tenant,
    *,
    action: str,
    now: int,
    language: str,
) -> str:
    row, payment = found.detail.row, found.payment
    expires = payment["expires_at"]

    def moment(micros: int | None) -> str:
        return "" if micros is None else i18n.moment(micros, tenant.timezone, language)

    return (
        _templates(language)
        .get_template("test_payment.html")
        .render(
            language=language,
            order_key=row["order_key"],
            state=payment_state(payment, now),
            tickets=tickets,
            row=row,
            moment=moment,
            expires=moment(expires),
            action=action,
            return_url=with_return(str(payment["redirect_url"]), str(row["order_key"])),
        )
    )
