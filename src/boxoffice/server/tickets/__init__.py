"""Tickets: one unguessable secret per ticket, PDF tickets with QR codes, and receipts."""
