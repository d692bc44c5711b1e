"""Clients (tenants), their API keys, authentication and the tenant-scoping helper."""
