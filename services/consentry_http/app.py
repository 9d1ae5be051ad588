"""What both HTTP services are built on: a FastAPI app whose docs page needs no internet,
whose refusals all share one error body, and whose OpenAPI document names the purposes
of the loaded taxonomy."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from typing import Annotated, Any

from fastapi import FastAPI
from fastapi_offline import FastAPIOffline
from pydantic import Field
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from consentry_events.fields import PurposePath
from consentry_http.fast import FastPaths, Operation
from consentry_http.inputs import SCHEMAS_MARK
from consentry_http.problems import Converter, HttpProblem, Refusals, problem_response
from consentry_tracing import enabled as tracing_enabled
from consentry_tracing.asgi import Traced

TAXONOMY_MARK = "x-consentry-taxonomy"
"""Put on a purpose field's JSON schema (``json_schema_extra``): the OpenAPI document
lists the loaded taxonomy's purposes there as an enum."""

TaxonomyPurpose = Annotated[PurposePath, Field(json_schema_extra={TAXONOMY_MARK: True})]
"""A purpose of the loaded taxonomy: listed as an enum in the OpenAPI document, and
refused with 422 (naming the known ones) when it is not one."""


class BodyTooLarge(HTTPException):
    """Raised from ``receive`` when a body sent without a length outgrows its limit;
    FastAPI passes an ``HTTPException`` from body reading on to the problem handlers."""

    def __init__(self) -> None:
        super().__init__(status_code=413)


class BodyLimit:
    """Pure ASGI middleware: request bodies over their route's limit are refused with 413
    and the one error body -- at once when the declared ``Content-Length`` is over it,
    else as the bytes arrive. (FastAPI's and Starlette's own limiters answer some of
    these in plain text.)"""

    def __init__(self, app: ASGIApp, default: int, larger: Mapping[str, int]) -> None:
        self._app = app
        self._default = default
        self._larger = dict(larger)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self._app(scope, receive, send)
            return
        limit = self._larger.get(scope["path"], self._default)
        declared = next((v for k, v in scope["headers"] if k == b"content-length"), None)
        if declared is not None and declared.isdigit() and int(declared) > limit:
            problem = HttpProblem(
                "too_large",
                f"the request body is larger than this route accepts ({limit:,} bytes)",
                status_code=413,
            )
            await problem_response(problem)(scope, receive, send)
            return
        received = 0

        async def counted() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise BodyTooLarge
            return message

        await self._app(scope, counted, send)


def service_app(
    title: str,
    *,
    max_body_bytes: int,
    purposes: Iterable[str],
    on_problem: Callable[[HttpProblem], None] | None = None,
    errors: Mapping[type[Exception], Converter] | None = None,
    larger_bodies: Mapping[str, int] | None = None,
    fast_paths: Mapping[tuple[str, str], Operation] | None = None,
    **kwargs: Any,
) -> FastAPI:
    """A service's app: Swagger UI and ReDoc assets served from the app itself (no CDN),
    the one error body for every refusal (``errors``: the service's own exceptions and
    the problem each is), request bodies over ``max_body_bytes`` refused with 413 (or
    over the limit ``larger_bodies`` gives a path), and ``fast_paths`` answered before
    the router (``consentry_http.fast``; inside the body limit and anything the service
    adds)."""
    app = FastAPIOffline(
        title=title,
        version="1",
        # FastAPI's own OpenTelemetry hooks look up providers on every request; the
        # services export Prometheus metrics instead.
        telemetry={"tracing": False, "metrics": False, "logs": False, "operation_spans": False},
        **kwargs,
    )
    Refusals(on_problem, errors, lambda path: _methods(app, path)).install(app)
    if fast_paths:
        app.add_middleware(FastPaths, operations=fast_paths)
    app.add_middleware(BodyLimit, default=max_body_bytes, larger=dict(larger_bodies or {}))
    if tracing_enabled():
        app.add_middleware(Traced)
    known = sorted(purposes)
    build = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            _tidy(_with_schemas(build()), known)
        if app.openapi_schema is None:
            raise RuntimeError("the OpenAPI document was not built")
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]  # FastAPI's documented way to customise
    return app


def _methods(app: FastAPI, path: str) -> list[str]:
    """The methods the OpenAPI document gives ``path`` (its templates' parameters match any
    one segment)."""
    found: set[str] = set()
    for template, operations in app.openapi().get("paths", {}).items():
        pattern = re.sub(r"\\\{[^}]+\\\}", "[^/]+", re.escape(template))
        if re.fullmatch(pattern, path):
            found |= {method.upper() for method in operations}
    return sorted(found)


def _with_schemas(document: dict[str, Any]) -> dict[str, Any]:
    """Move the schemas that operations documented by ``consentry_http.inputs`` carry
    into the document's components."""
    components = document.setdefault("components", {}).setdefault("schemas", {})
    for path in document.get("paths", {}).values():
        for operation in path.values():
            components.update(operation.pop(SCHEMAS_MARK, {}))
    return document


def _tidy(node: object, purposes: list[str]) -> None:
    """Put the taxonomy's purposes where marked, and drop a discriminator whose mapping
    is not one reference per value. Pydantic writes nested discriminated unions (a
    decision's scope, then its choice) with inline schemas there, which OpenAPI does not
    allow, and maps ``allow`` and ``deny`` to one schema, which client generators (and
    schemathesis) read as one value per schema. The discriminator is optional: the
    ``oneOf`` branches' own ``const``/``enum`` already tell them apart."""
    if isinstance(node, dict):
        mapping = node.get("discriminator", {}).get("mapping", {})
        targets = list(mapping.values())
        if any(not isinstance(t, str) for t in targets) or len(set(targets)) != len(targets):
            del node["discriminator"]
        if node.pop(TAXONOMY_MARK, False):
            node.pop("pattern", None)
            node.pop("maxLength", None)
            node["enum"] = purposes
        for value in node.values():
            _tidy(value, purposes)
    elif isinstance(node, list):
        for value in node:
            _tidy(value, purposes)
