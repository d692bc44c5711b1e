"""Storage: engine, metadata, portable types, transactions and keyset paging."""
