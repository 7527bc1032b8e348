"""Operations: liveness, readiness and Prometheus metrics."""

from fastapi import APIRouter, Request, Response

from app.api.payloads import Readiness, problem_responses
from app.deps import AdminDep, SessionDep
from app.services.health import check_ready

__all__ = ["router"]

router = APIRouter(tags=["operations"])


@router.get("/healthz", summary="Liveness")
def healthz() -> dict[str, str]:
    """The process is up and answering."""
    return {"status": "ok"}


@router.get(
    "/readyz", response_model=Readiness, summary="Readiness", responses=problem_responses(503)
)
def readyz(request: Request, session: SessionDep) -> Readiness:
    """The database is reachable and its schema is current; otherwise 503."""
    revision = check_ready(session, expected_revision=request.app.state.expected_revision)
    return Readiness(status="ready", database_revision=revision)


@router.get(
    "/metrics",
    summary="Prometheus metrics (admin)",
    response_class=Response,
    responses={
        200: {"content": {"text/plain": {}}, "description": "Prometheus text format."},
        **problem_responses(401, 403),
    },
)
def metrics(request: Request, _admin: AdminDep) -> Response:
    """Requests by route and status and a latency histogram, in Prometheus text format."""
    return Response(
        request.app.state.metrics.render(),
        media_type="text/plain; version=0.0.4; charset=utf-8",
    )
