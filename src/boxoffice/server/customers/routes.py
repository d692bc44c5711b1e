"""HTTP routes of customers."""

from fastapi import APIRouter

router = APIRouter()
