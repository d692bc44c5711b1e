"""Carts: holds on places, seat picking, and checkout."""
