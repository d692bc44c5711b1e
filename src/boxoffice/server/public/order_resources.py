"""The public order's one JSON rendering (GET /order/{order_key})."""

from typing import Any

from boxoffice.server.public.order_service import OrderView


def public_order_resource(view: OrderView, base_url: str) -> dict[str, Any]:
    """No personal data: the payment status, the tickets' events and where to fetch them."""
    row = view.found.detail.row
    key = str(row["order_key"])
    seats = [s for s in view.found.detail.seats if s["deleted_at"] is None]
    return {
        "order_payment_status": row["payment_status"],
        "order_tickets_nr": len(seats),
        "order_tickets_url": f"{base_url}/order/{key}/tickets",
        "order_receipt_url": f"{base_url}/order/{key}/receipt",
        "seats": [
            {
                "seat_id": str(seat["id"]),
                "event_name": _event_name(view, int(seat["event_id"])),
                "event_type": view.event_types(int(seat["event_id"])),
            }
            for seat in seats
        ],
    }


def _event_name(view: OrderView, event_id: int) -> str:
    event = view.labels.events.get(event_id)
    return "" if event is None else str(event["name"])
