"""Tests of the order endpoints."""
