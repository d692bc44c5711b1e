"""The receipt of a paid order: a small HTML page, no personal data, no external assets."""

from collections.abc import Sequence

from jinja2 import Environment, PackageLoader, select_autoescape

from boxoffice.server.orders.service import OrderDetail
from boxoffice.server.tenancy.service import Tenant
from boxoffice.server.tickets.service import Ticket
from boxoffice.server.values.instants import micros_to_instant
from boxoffice.server.values.money import money_text

_TEMPLATES = Environment(
    loader=PackageLoader("boxoffice.server.tickets", "templates"),
    autoescape=select_autoescape(["html"]),
)


def render_receipt(detail: OrderDetail, tickets: Sequence[Ticket], tenant: Tenant) -> str:
    row = detail.row
    fee, donation = int(row["fee_cents"]), int(row["donation_cents"])
    return _TEMPLATES.get_template("receipt.html").render(
        order_key=row["order_key"],
        order_date=micros_to_instant(row["order_date_at"], tenant.timezone).strftime(
            "%Y-%m-%d %H:%M"
        ),
        payment_method=row["handling_text"] or "",
        tickets=[
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
        donation=money_text(donation) if donation else None,
        fee=money_text(fee) if fee else None,
        total=money_text(int(row["amount_cents"])),
    )
