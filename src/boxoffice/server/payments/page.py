"""The built-in test provider's payment page: HTML served by Boxoffice, no external assets."""

from jinja2 import Environment, PackageLoader, select_autoescape

from boxoffice.server.payments.service import PublicOrder, payment_state, with_return
from boxoffice.server.tenancy.service import Tenant
from boxoffice.server.tickets.service import Ticket
from boxoffice.server.values.instants import micros_to_instant
from boxoffice.server.values.money import money_text

_TEMPLATES = Environment(
    loader=PackageLoader("boxoffice.server.payments", "templates"),
    autoescape=select_autoescape(["html"]),
)


def render_test_page(
    found: PublicOrder, tickets: list[Ticket], tenant: Tenant, *, action: str, now: int
) -> str:
    row, payment = found.detail.row, found.payment
    expires = payment["expires_at"]
    fee, donation = int(row["fee_cents"]), int(row["donation_cents"])
    return _TEMPLATES.get_template("test_payment.html").render(
        order_key=row["order_key"],
        state=payment_state(payment, now),
        tickets=[
            {
                "event_name": t.event_name,
                "starts": t.starts,
                "place": t.place,
                "price_name": t.price_name,
                "amount": money_text(t.amount_cents),
            }
            for t in tickets
        ],
        donation=money_text(donation) if donation else None,
        fee=money_text(fee) if fee else None,
        total=money_text(int(row["amount_cents"])),
        expires=""
        if expires is None
        else micros_to_instant(expires, tenant.timezone).strftime("%Y-%m-%d %H:%M"),
        action=action,
        return_url=with_return(str(payment["redirect_url"]), str(row["order_key"])),
    )
