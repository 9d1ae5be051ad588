"""One error body for every refusal of both HTTP services, documented in OpenAPI.

Every 4xx and 5xx answer is ``{"detail": Problem}``: a machine-readable ``reason``, a
sentence for people saying what was wrong and how to fix it, and, where they apply,
the fields at fault (422) or whether a write may exist (503 on the write API)::

    {"detail": {"reason": "not_own_party",
                "message": "label:l may not decide for artist:a"}}
    {"detail": {"reason": "invalid_request", "message": "body.purpose: unknown purpose ...",
                "errors": [{"loc": ["body", "purpose"], "msg": "...", "type": "unknown_purpose"}]}}

Routes raise a ``Problem``-carrying exception (``HttpProblem`` or a subclass); an app's
``Refusals`` turns it, FastAPI's validation errors, Starlette's own HTTP errors (404, 405,
413) and the service's own errors into that body -- for the framework's exception
handlers and for fast paths alike, counting each refusal once.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, Literal

import orjson
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException as StarletteHTTPException


class FieldProblem(BaseModel):
    loc: list[str | int] = Field(description="Where: ['body', 'purpose'], ['query', 'isrc'] ...")
    msg: str = Field(description="What is wrong with it.")
    type: str = Field(description="A short code, e.g. 'unknown_purpose', 'missing'.")


class Problem(BaseModel):
    reason: str = Field(description="Machine-readable reason, e.g. 'not_own_party'.")
    message: str = Field(description="What was wrong and how to fix it.")
    errors: list[FieldProblem] | None = Field(
        default=None, description="422: every field at fault."
    )
    outcome: Literal["not_written", "unknown"] | None = Field(
        default=None,
        description="503 on a write: 'not_written' (retry freely) or 'unknown' (the change "
        "may be recorded: retry with the same Idempotency-Key).",
    )


class ErrorBody(BaseModel):
    """The body of every 4xx and 5xx answer."""

    detail: Problem


class HttpProblem(Exception):
    """An answer other than success: status, reason and message (and maybe more)."""

    status_code: int = 400

    def __init__(
        self,
        reason: str,
        message: str,
        *,
        status_code: int | None = None,
        errors: Sequence[FieldProblem] | None = None,
        outcome: Literal["not_written", "unknown"] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        if status_code is not None:
            self.status_code = status_code
        self.problem = Problem(
            reason=reason,
            message=message,
            errors=None if errors is None else list(errors),
            outcome=outcome,
        )
        self.headers = dict(headers or {})

    @property
    def reason(self) -> str:
        return self.problem.reason


class Refused(HttpProblem):
    """403: authenticated, but not allowed to do this."""

    status_code = 403


class Unauthenticated(HttpProblem):
    """401: no usable bearer token."""

    status_code = 401


class TooMany(HttpProblem):
    """429: the principal's rate limit is spent; ``Retry-After`` says when to come back."""

    status_code = 429

    def __init__(self, principal: str, retry_after_s: int) -> None:
        super().__init__(
            "rate_limited",
            f"{principal} sent more than its rate limit allows: retry in {retry_after_s} s",
            headers={"Retry-After": str(retry_after_s)},
        )


class Invalid(HttpProblem):
    """422: the request names something that cannot be (one field or more)."""

    status_code = 422

    def __init__(self, errors: Iterable[FieldProblem]) -> None:
        found = list(errors)
        message = "; ".join(f"{'.'.join(str(p) for p in e.loc)}: {e.msg}" for e in found)
        super().__init__("invalid_request", message, errors=found)


def invalid_field(loc: Sequence[str | int], msg: str, kind: str = "value_error") -> Invalid:
    return Invalid([FieldProblem(loc=list(loc), msg=msg, type=kind)])


def problem_response(exc: HttpProblem) -> Response:
    body = ErrorBody(detail=exc.problem).model_dump(mode="json", exclude_none=True)
    return Response(
        orjson.dumps(body), exc.status_code, headers=exc.headers, media_type="application/json"
    )


_STARLETTE_REASONS = {
    400: ("malformed_request", "the request body is not valid JSON"),
    404: ("not_found", "no such route: see the API document at /docs"),
    405: ("method_not_allowed", "this route does not take that method: see /docs"),
    413: ("too_large", "the request body is larger than this service accepts"),
}


def field_problem(error: Mapping[str, Any]) -> FieldProblem:
    """One of pydantic's (or FastAPI's) errors as a field at fault."""
    loc = [p for p in error.get("loc", ()) if isinstance(p, str | int)]
    msg = str(error.get("msg", "invalid"))
    kind = str(error.get("type", "value_error"))
    context = error.get("ctx") or {}
    if kind == "union_tag_invalid":
        # A value that picks the variant of a request (a decision's scope, its choice):
        # name the field and the values it takes, as for any other enum.
        loc.append(str(context.get("discriminator", "")).strip("'"))
        *first, last = [f"'{v}'" for v in re.findall(r"'([^']*)'", str(context["expected_tags"]))]
        values = f"{', '.join(first)} or {last}" if first else last
        msg = f"Input should be {values}"
    return FieldProblem(loc=loc, msg=msg, type=kind)


def _from_validation(exc: RequestValidationError) -> Invalid:
    return Invalid(field_problem(error) for error in exc.errors())


def starlette_problem(exc: StarletteHTTPException) -> HttpProblem:
    reason, message = _STARLETTE_REASONS.get(exc.status_code, ("http_error", str(exc.detail)))
    headers = dict(exc.headers or {})
    return HttpProblem(reason, message, status_code=exc.status_code, headers=headers)


Converter = Callable[[Any], HttpProblem]
"""Takes an exception of the type it is registered for."""


class Refusals:
    """How an app answers what it refuses: each known exception as the one error body,
    ``on_problem`` told of each (to count refusals by reason). ``converters``: a
    service's own errors (e.g. a write the broker did not acknowledge) and how each
    becomes a problem."""

    def __init__(
        self,
        on_problem: Callable[[HttpProblem], None] | None = None,
        converters: Mapping[type[Exception], Converter] | None = None,
        allowed: Callable[[str], list[str]] | None = None,
    ) -> None:
        self._on_problem = on_problem
        self._allowed = allowed
        self._converters: dict[type[Exception], Converter] = {
            HttpProblem: lambda exc: exc,
            RequestValidationError: _from_validation,
            StarletteHTTPException: starlette_problem,
            **(converters or {}),
        }

    def problem_of(self, exc: Exception) -> HttpProblem | None:
        for kind, convert in self._converters.items():
            if isinstance(exc, kind):
                return convert(exc)
        return None

    def response(self, problem: HttpProblem) -> Response:
        if self._on_problem is not None:
            self._on_problem(problem)
        return problem_response(problem)

    def response_for(self, exc: Exception) -> Response | None:
        """The answer to ``exc``, counted; None when it is not a refusal (a bug: 500)."""
        problem = self.problem_of(exc)
        return None if problem is None else self.response(problem)

    def install(self, app: FastAPI) -> None:
        """Answer every refusal of ``app`` with the one error body (``app.state.refusals``
        for its fast paths); a 405's ``Allow`` lists every method ``allowed`` says the
        path takes."""
        app.state.refusals = self

        async def handle(request: Request, exc: Exception) -> Response:
            if (
                isinstance(exc, StarletteHTTPException)
                and exc.status_code == 405
                and self._allowed is not None
            ):  # the router's 405 names one route's methods, not the path's
                exc.headers = {"Allow": ", ".join(self._allowed(request.url.path))}
            answer = self.response_for(exc)
            if answer is None:  # registered for these kinds only: never here
                raise exc
            return answer

        for kind in self._converters:
            app.add_exception_handler(kind, handle)


def responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses=`` for these error statuses, each with the one error body."""
    words = {
        400: "The request body is not valid JSON.",
        401: "No usable bearer token.",
        403: "Not allowed (the reason says why).",
        404: "Not found.",
        409: "A request with this Idempotency-Key is still being written; retry shortly.",
        413: "The request body is too large.",
        422: "The request is invalid; every field at fault is listed.",
        429: "The caller's rate limit is spent (per principal, shared by every instance); "
        "`Retry-After` says in how many seconds to try again.",
        503: "A dependency is unreachable; for writes, 'outcome' says whether it may exist.",
    }
    # Whoever must authenticate is rate limited too.
    limited = (*statuses, 429) if 401 in statuses and 429 not in statuses else statuses
    found: dict[int | str, dict[str, Any]] = {
        s: {"model": ErrorBody, "description": words.get(s, "Refused.")} for s in limited
    }
    if 429 in found:
        found[429]["headers"] = {
            "Retry-After": {
                "description": "Seconds until the limit lets a request through again.",
                "schema": {"type": "integer", "minimum": 1},
            }
        }
    return found
