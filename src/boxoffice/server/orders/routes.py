"""HTTP routes of orders."""

from fastapi import APIRouter

router = APIRouter()
