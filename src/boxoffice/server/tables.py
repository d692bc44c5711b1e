"""Imports every feature's tables so that `metadata` describes the whole schema."""

from boxoffice.server.carts import tables as carts_tables
from boxoffice.server.catalog import tables as catalog_tables
from boxoffice.server.customers import tables as customers_tables
from boxoffice.server.db.metadata import metadata
from boxoffice.server.embed import tables as embed_tables
from boxoffice.server.ops import tables as ops_tables
from boxoffice.server.orders import tables as orders_tables
from boxoffice.server.payments import tables as payments_tables
from boxoffice.server.places import tables as places_tables
from boxoffice.server.tenancy import tables as tenancy_tables
from boxoffice.server.tickets import tables as tickets_tables
from boxoffice.server.waitinglist import tables as waitinglist_tables

__all__ = [
    "carts_tables",
    "catalog_tables",
    "customers_tables",
    "embed_tables",
    "metadata",
    "ops_tables",
    "orders_tables",
    "payments_tables",
    "places_tables",
    "tenancy_tables",
    "tickets_tables",
    "waitinglist_tables",
]
