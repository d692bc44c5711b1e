"""HTTP routes of exports."""

from fastapi import APIRouter

router = APIRouter()
