"""Payments: providers behind one small interface, and the reservations they settle."""
