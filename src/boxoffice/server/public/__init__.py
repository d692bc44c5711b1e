"""The public API: keyless and snake_case under /v1/{client_name}/; catalog, carts, orders."""
