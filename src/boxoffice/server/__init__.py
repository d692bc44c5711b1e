"""The HTTP service: API, storage and the domain behind it."""
