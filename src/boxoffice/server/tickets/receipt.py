"""The receipt of a paid order: a small HTML page, no personal data, no external assets."""

from collections.abc import Sequence

from boxoffice.server.orders.service import OrderDetail
from boxoffice.server.tenancy.service import Tenant
from boxoffice.server.tickets.pages import local_minute, order_lines, page_templates
from boxoffice.server.tickets.service import Ticket

_TEMPLATES = page_templates("boxoffice.server.tickets")


def render_receipt(detail: OrderDetail, tickets: Sequence[Ticket], tenant: Tenant) -> str:
    row = detail.row
    return _TEMPLATES.get_template("receipt.html").render(
        order_key=row["order_key"],
        order_date=local_minute(row["order_date_at"], tenant.timezone),
        payment_method=row["handling_text"] or "",
        **order_lines(row, tickets),
    )
