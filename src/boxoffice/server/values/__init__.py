"""Portable values at the API boundary: money, instants, their rendering, and the clock."""
