"""Tests of the customer endpoints."""
