"""Documentation-only response models of the ticket host's API."""

from boxoffice.server.public.schemas import PublicModel


class SessionResource(PublicModel):
    """The visitor's session: the id of its cart in the public API."""

    session_id: str
