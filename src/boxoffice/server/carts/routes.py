"""HTTP routes of carts."""

from fastapi import APIRouter

router = APIRouter()
