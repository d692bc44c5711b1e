"""Customers and their tags (client types)."""
