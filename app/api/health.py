"""Operations: liveness, readiness and Prometheus metrics."""

from fastapi import APIRouter, Request, Response

from app.api.payloads import Readiness, problem_responses
from app.deps import DatabaseDep, MetricsDep, in_thread
from app.services.health import check_ready
from app.state import app_state

__all__ = ["router"]

router = APIRouter(tags=["operations"])


@router.get("/healthz", summary="Liveness")
async def healthz() -> dict[str, str]:
    """The process is up and answering."""
    return {"status": "ok"}


@router.get(
    "/readyz", response_model=Readiness, summary="Readiness", responses=problem_responses(503)
)
@in_thread
def readyz(request: Request, db: DatabaseDep) -> Readiness:
    """The database is reachable and its schema is current; otherwise 503."""
    with db.transaction(read_only=True) as session:
        revision = check_ready(session, expected_revision=app_state(request.app).expected_revision)
    return Readiness(status="ready", database_revision=revision)


@router.get(
    "/metrics",
    summary="Prometheus metrics (scope metrics)",
    response_class=Response,
    responses={
        200: {"content": {"text/plain": {}}, "description": "Prometheus text format."},
        **problem_responses(401, 403),
    },
)
def metrics(request: Request, _caller: MetricsDep) -> Response:
    """Requests by route and status and a latency histogram, in Prometheus text format."""
    return Response(
        app_state(request.app).metrics.render(),
        media_type="text/plain; version=0.0.4; charset=utf-8",
    )
