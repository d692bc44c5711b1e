"""Boxoffice: a self-hostable ticketing data service with a Peppered-compatible export API."""

__version__ = "0.1.0"
