"""What the demo catalog shows on the public API: texts, images, event types, statuses.

Made from ids and titles only (no random draws), so the sales simulation is unchanged.
"""

from boxoffice.server.shop.posters import poster_path
from boxoffice.server.values.instants import micros_to_instant

SITE = "https://schouwburcht.example.nl"

_SUBTITLES = {
    "opera": "Opera in de Grote Zaal, met het Schouwburcht Orkest",
    "dans": "Dansvoorstelling met live muziek",
    "toneel": "Toneel",
    "concert": "Concert",
    "musical": "Musical voor het hele gezin",
    "cabaret": "Cabaret",
    "pop": "Popconcert",
    "circus": "Circus",
    "jeugd": "Jeugdvoorstelling",
    "literatuur": "Literaire avond",
    "comedy": "Comedy",
    "festival": "Festival in de open lucht",
}

# Event ids whose remainder picks a status: a few events are listed but not (yet) on sale,
# a few are withdrawn.
_NOSAL_EVERY, _TRASH_EVERY = 29, 37


def production_fields(
    production_id: int, title: str, kind: str, tags: list[str] | None, hall_name: str
) -> dict[str, object]:
    subtitle = _SUBTITLES.get(kind, kind.capitalize())
    tag_text = f" ({', '.join(tags)})" if tags else ""
    types = [kind, *(["familie"] if tags and "familie" in tags else [])]
    return {
        "text": (
            f"{title} in {hall_name}: {subtitle.lower()}{tag_text}. "
            "Kaarten zijn online te koop; de zaal gaat een half uur voor aanvang open."
        ),
        "shortText": subtitle,
        # A poster the app draws itself: the shop loads nothing from another host.
        "image": poster_path(f"schouwburcht-{production_id}"),
        "eventTypes": types,
    }


def event_fields(event_id: int, *, park: bool, matinee: bool, end_at: int) -> dict[str, object]:
    fields: dict[str, object] = {"url": f"{SITE}/programma/{event_id}"}
    if matinee:
        fields["shortText"] = "Middagvoorstelling"
    if event_id % _TRASH_EVERY == 5:
        fields["status"] = "trash"
    elif event_id % _NOSAL_EVERY == 0:
        fields["status"] = "nosal"
    if park:
        # A festival day leaves the programme when it is over; it sells more per order.
        fields["viewEnd"] = micros_to_instant(end_at).isoformat()
        fields["maxTicketsPerOrder"] = 20
    return fields
