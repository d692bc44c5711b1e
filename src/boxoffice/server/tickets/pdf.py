"""The tickets PDF: one ticket a page, each with a QR code of that ticket's own secret."""

import io
from collections.abc import Sequence

from reportlab.graphics import renderPDF
from reportlab.graphics.barcode.qr import QrCodeWidget
from reportlab.graphics.shapes import Drawing
from reportlab.lib.pagesizes import A6, landscape
from reportlab.lib.units import mm
from reportlab.pdfgen.canvas import Canvas

from boxoffice.server.tickets.service import Ticket
from boxoffice.server.values.money import money_text

PAGE = landscape(A6)
QR_SIZE = 50 * mm
MARGIN = 8 * mm


def _qr(secret: str, size: float) -> Drawing:
    widget = QrCodeWidget(secret, barLevel="M")
    x0, y0, x1, y1 = widget.getBounds()
    drawing = Drawing(size, size, transform=[size / (x1 - x0), 0, 0, size / (y1 - y0), 0, 0])
    drawing.add(widget)
    return drawing


def _fit(canvas: Canvas, text: str, font: str, size: float, width: float) -> str:
    """The text, shortened with an ellipsis until it fits the width."""
    if canvas.stringWidth(text, font, size) <= width:
        return text
    while text and canvas.stringWidth(text + "…", font, size) > width:
        text = text[:-1]
    return text + "…"


def render_tickets(tickets: Sequence[Ticket], *, order_key: str, client_name: str) -> bytes:
    buffer = io.BytesIO()
    canvas = Canvas(buffer, pagesize=PAGE, invariant=True)
    canvas.setTitle(f"Tickets {order_key}")
    canvas.setAuthor(client_name)
    width, height = PAGE
    text_width = width - QR_SIZE - 3 * MARGIN
    for number, ticket in enumerate(tickets, start=1):
        y = height - MARGIN - 14
        canvas.setFont("Helvetica-Bold", 14)
        canvas.drawString(
            MARGIN, y, _fit(canvas, ticket.event_name, "Helvetica-Bold", 14, text_width)
        )
        lines = [
            ticket.starts,
            ticket.hall_name or "",
            ticket.place,
            f"{ticket.price_name}: EUR {money_text(ticket.amount_cents)}",
        ]
        canvas.setFont("Helvetica", 10)
        for line in lines:
            y -= 16
            canvas.drawString(MARGIN, y, _fit(canvas, line, "Helvetica", 10, text_width))
        canvas.setFont("Helvetica", 7)
        canvas.drawString(MARGIN, MARGIN + 10, f"Order {order_key}")
        canvas.drawString(MARGIN, MARGIN, f"Ticket {number} of {len(tickets)} (#{ticket.seat_id})")
        renderPDF.draw(
            _qr(ticket.secret, QR_SIZE), canvas, width - MARGIN - QR_SIZE, (height - QR_SIZE) / 2
        )
        canvas.showPage()
    canvas.save()
    return buffer.getvalue()
