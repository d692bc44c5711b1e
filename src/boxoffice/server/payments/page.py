"""The built-in test provider's payment page: HTML served by Boxoffice, no external assets."""

from boxoffice.server.payments.service import PublicOrder, payment_state, with_return
from boxoffice.server.tenancy.service import Tenant
from boxoffice.server.tickets.pages import local_minute, order_lines, page_templates
from boxoffice.server.tickets.service import Ticket

_TEMPLATES = page_templates("boxoffice.server.payments")


def render_test_page(
    found: PublicOrder, tickets: list[Ticket], tenant: Tenant, *, action: str, now: int
) -> str:
    row, payment = found.detail.row, found.payment
    expires = payment["expires_at"]
    return _TEMPLATES.get_template("test_payment.html").render(
        order_key=row["order_key"],
        state=payment_state(payment, now),
        **order_lines(row, tickets),
        expires="" if expires is None else local_minute(expires, tenant.timezone),
        action=action,
        return_url=with_return(str(payment["redirect_url"]), str(row["order_key"])),
    )
