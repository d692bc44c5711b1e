"""The waiting list for sold-out events."""
