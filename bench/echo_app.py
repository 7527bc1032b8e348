"""The Sektorbro app plus one trivial route, `POST /bench/echo`, for benchmarks.

The echo route is the ceiling the real endpoints are measured against: the same app, the same
middleware (request id, size limit, metrics), the same uvicorn and HTTP stack, but no auth, no
database, no XML. It parses the JSON body and sends it back as JSON, nothing else.

Serve it with `uvicorn --factory bench.echo_app:create_bench_app` from the project root. The
settings come from the environment (SEKTORBRO_*), exactly as for `sektorbro serve`.
"""

from typing import Annotated, Any

from fastapi import Body, FastAPI
from fastapi.responses import JSONResponse

from app.main import create_served_app

__all__ = ["ECHO_PATH", "create_bench_app"]

ECHO_PATH = "/bench/echo"


async def echo(body: Annotated[dict[str, Any], Body()]) -> JSONResponse:
    """Answers the JSON object it got. `async`, so it runs on the event loop: no thread hop."""
    return JSONResponse(body)


def create_bench_app() -> FastAPI:
    """`app.main.create_served_app()` (what `sektorbro serve` runs), plus `POST /bench/echo`."""
    app = create_served_app()
    app.add_api_route(ECHO_PATH, echo, methods=["POST"], include_in_schema=False)
    return app
