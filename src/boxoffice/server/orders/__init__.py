"""Orders: listing, reading, status changes and seat removal."""
