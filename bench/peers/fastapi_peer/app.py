"""The FastAPI application: the catalog's first pages and the redemption, with the product's shapes.

Run by uvicorn from the repository root (bench/http/peer.py does it):
`.venv-peer/bin/uvicorn bench.peers.fastapi_peer.app:app --workers 2`, with PEER_DATABASE_URL
and the COGNITO_* settings in the environment. Bodies are serialised with orjson straight from
the rows, as a hand-tuned FastAPI service would, rather than through response models.
"""

from __future__ import annotations

import sys
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, MutableMapping
from contextlib import asynccontextmanager
from typing import Annotated, Any

import orjson
from fastapi import FastAPI, Header, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, Field

from bench.peers.fastapi_peer import db
from bench.peers.fastapi_peer.auth import AuthError, Verifier

DEFAULT_PAGE_SIZE = 20
MAX_PAGE_SIZE = 100


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    verifier = Verifier.from_environment()
    verifier.fetch_keys()
    engine = db.engine_from_environment()
    app.state.verifier = verifier
    app.state.engine = engine
    app.state.dialect = await db.dialect_of(engine)
    yield
    await engine.dispose()


Message = MutableMapping[str, Any]


class JsonAccessLog:
    """One JSON line per request on stdout: the design documents' structured request logging.

    The product's gunicorn writes such a line per request too, so both servers pay for one.
    """

    def __init__(self, app: Callable[..., Awaitable[None]]) -> None:
        self.app = app

    async def __call__(
        self,
        scope: Message,
        receive: Callable[[], Awaitable[Message]],
        send: Callable[[Message], Awaitable[None]],
    ) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 0

        async def send_with_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        await self.app(scope, receive, send_with_status)
        entry = {
            "type": "access",
            "method": scope["method"],
            "path": scope["path"],
            "status": status,
            "duration_ms": round((time.perf_counter() - started) * 1000, 3),
        }
        sys.stdout.write(orjson.dumps(entry).decode() + "\n")


app = FastAPI(lifespan=lifespan, docs_url=None, redoc_url=None, openapi_url=None)
app.add_middleware(JsonAccessLog)


def json_response(body: Any, status: int = 200) -> Response:
    return Response(orjson.dumps(body), status_code=status, media_type="application/json")


def error(status: int, code: str, detail: str, **extra: Any) -> Response:
    return json_response({"code": code, "detail": detail, **extra}, status)


@app.exception_handler(AuthError)
async def on_auth_error(request: Request, exc: AuthError) -> Response:
    return error(exc.status, exc.code, exc.detail)


@app.exception_handler(RequestValidationError)
async def on_invalid(request: Request, exc: RequestValidationError) -> Response:
    fields: dict[str, list[str]] = {}
    for problem in exc.errors():
        name = str(problem["loc"][-1]) if problem.get("loc") else "non_field_errors"
        fields.setdefault(name, []).append(str(problem.get("msg", "invalid")))
    return error(400, "validation_error", "The request is not valid.", fields=fields)


async def caller(request: Request, authorization: str | None) -> str:
    """The verified token's `sub`; the employee is looked up on the request's one connection."""
    claims = await request.app.state.verifier.verify(authorization)
    return str(claims["sub"])


@app.exception_handler(db.NotRegistered)
async def on_not_registered(request: Request, exc: db.NotRegistered) -> Response:
    return error(403, "not_registered", "This identity is not registered as an employee.")


def base_url(request: Request) -> str:
    # Behind the TLS-terminating load balancer, as the product sees it.
    scheme = request.headers.get("x-forwarded-proto", request.url.scheme)
    return f"{scheme}://{request.headers.get('host', request.url.netloc)}"


def image_url(request: Request, image: str) -> str | None:
    return f"{base_url(request)}/media/{image}" if image else None


def page_link(link: str, page: int, page_size: int) -> str:
    # As the product's (DRF's) pagination writes them: parameters sorted by name, page 1 without
    # `page`, the default size without `page_size`.
    params = [f"page={page}"] if page != 1 else []
    params += [f"page_size={page_size}"] if page_size != DEFAULT_PAGE_SIZE else []
    return f"{link}?{'&'.join(params)}" if params else link


@app.get("/health/live")
async def live() -> Response:
    return json_response({"status": "ok"})


@app.get("/api/v1/products/")
async def product_list(
    request: Request,
    authorization: Annotated[str | None, Header()] = None,
    page: Annotated[int, Query(ge=1)] = 1,
    page_size: Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE)] = DEFAULT_PAGE_SIZE,
) -> Response:
    sub = await caller(request, authorization)
    count, rows = await db.product_page(
        request.app.state.engine, sub=sub, limit=page_size, offset=(page - 1) * page_size
    )
    if page > 1 and not rows:
        return error(404, "not_found", "Invalid page.")
    link = f"{base_url(request)}/api/v1/products/"
    last = (count + page_size - 1) // page_size
    results = [
        {
            "id": db.uuid_text(pid),
            "name": name,
            "description": description,
            "points_cost": cost,
            "category": None if cid is None else {"id": db.uuid_text(cid), "name": cname, "slug": slug},
            "image_url": image_url(request, image),
            "stock": stock,
            "in_stock": stock > 0,
        }
        for pid, name, description, cost, stock, image, cid, cname, slug in rows
    ]
    return json_response(
        {
            "count": count,
            "next": page_link(link, page + 1, page_size) if page < last else None,
            "previous": page_link(link, page - 1, page_size) if page > 1 else None,
            "results": results,
        }
    )


class OrderIn(BaseModel):
    model_config = ConfigDict(extra="ignore")

    product_id: uuid.UUID
    # A JSON integer, as the product's contract says: "2" and 1.0 are refused.
    quantity: Annotated[int, Field(strict=True, ge=1, le=10)] = 1


@app.post("/api/v1/orders/")
async def order_create(
    request: Request, body: OrderIn, authorization: Annotated[str | None, Header()] = None
) -> Response:
    sub = await caller(request, authorization)
    state = request.app.state
    try:
        placed = await db.order_place(
            state.engine, state.dialect, sub=sub, product_id=body.product_id, quantity=body.quantity
        )
    except db.Refusal as refusal:
        return error(409, refusal.code, refusal.detail)
    return json_response(
        {
            "id": str(placed.id),
            "product": {
                "id": str(body.product_id),
                "name": placed.product_name,
                "image_url": image_url(request, placed.product_image),
            },
            "quantity": body.quantity,
            "unit_points_cost": placed.unit_points_cost,
            "points_used": placed.points_used,
            "status": "delivered",
            "created_at": placed.created_at.isoformat().replace("+00:00", "Z"),
            "balance_after": placed.balance_after,
        },
        201,
    )
