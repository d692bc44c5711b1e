"""Tests of the catalog: loading, reads and availability."""
