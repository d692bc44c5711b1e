"""HTTP routes of waitinglist."""

from fastapi import APIRouter

router = APIRouter()
