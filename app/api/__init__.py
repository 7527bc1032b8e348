"""HTTP routes: thin, one service call each."""

from fastapi import APIRouter

from app.api import (
    audit,
    health,
    inbox,
    letters,
    messages,
    notices,
    organisations,
    plans,
    receipts,
)

__all__ = ["api_router"]

api_router = APIRouter()
api_router.include_router(health.router)
api_router.include_router(organisations.router)
api_router.include_router(plans.router)
api_router.include_router(letters.router)
api_router.include_router(letters.threads_router)
api_router.include_router(notices.router)
api_router.include_router(notices.deadlines_router)
api_router.include_router(messages.router)
api_router.include_router(inbox.router)
api_router.include_router(receipts.router)
api_router.include_router(audit.router)
