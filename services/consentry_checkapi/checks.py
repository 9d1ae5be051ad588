"""The check service's operations, each a plain function of its inputs and dependencies:
the framework route and the fast path (``GET /v1/check``) call the same one.

Same semantics as the SDK (it is the SDK, with its cache, behind HTTP). Answers are
serialised with orjson straight from the domain answer: the response models document the
shape in OpenAPI without costing a validation per request.
"""

from __future__ import annotations

from typing import Any

import orjson
from fastapi.responses import Response

from consentry_auth import Principal, PrincipalKind
from consentry_checkapi.schemas import CheckQuery
from consentry_domain import Answer
from consentry_http import Authenticator, Refused
from consentry_http.inputs import Call, query_of
from consentry_sdk import ConsentChecker
from consentry_signals.terms import Terms, signals


def answer_json(answer: Answer) -> dict[str, Any]:
    return {
        "isrc": answer.isrc,
        "purpose": answer.purpose,
        "answer": answer.verdict.value,
        "disclosure": answer.disclosure or "unknown",
        "reasons": [
            {
                "basis": r.basis.value,
                "verdict": r.verdict.value,
                "summary": r.describe(),
                "party": r.party,
                "decision_id": r.decision_id,
                "scope": None if r.scope is None else r.scope.value,
                "work": r.work,
                "purpose": r.purpose,
            }
            for r in answer.reasons
        ],
    }


def json_response(content: object, status_code: int = 200) -> Response:
    return Response(orjson.dumps(content), status_code, media_type="application/json")


def services_only(principal: Principal) -> Principal:
    """Checks are for AI features (service tokens) and operators (admin tokens)."""
    if principal.kind not in (PrincipalKind.SERVICE, PrincipalKind.ADMIN):
        raise Refused(
            "services_only",
            f"{principal.subject} may not run checks (service or admin tokens only)",
        )
    return principal


async def track_signals(isrc: str, checker: ConsentChecker, terms: Terms) -> Response:
    """``GET /v1/signals/{isrc}``: the track's reservations in every format, as a body and
    as the headers a media server copies (a purpose that cannot be verified is denied, so
    it is reserved)."""
    answers = {p: await checker.check(isrc, p) for p in terms.purposes}
    found = signals(terms, {p: not a.allowed for p, a in answers.items()})
    headers = found.headers()
    disclosure = next((a.disclosure for a in answers.values() if a.disclosure), "unknown")
    body = {
        "isrc": isrc,
        "tdmrep": {k: v for k, v in headers.items() if k.startswith("tdm-")},
        "content_usage": headers.get("Content-Usage"),
        "cawg": found.cawg_assertion(),
        "disclosure": disclosure,
    }
    return Response(orjson.dumps(body), 200, headers=headers, media_type="application/json")


async def check_one(call: Call, auth: Authenticator, checker: ConsentChecker) -> Response:
    """``GET /v1/check``: may this track be used for this purpose now?"""
    services_only(await auth.principal(call))
    query = query_of(CheckQuery, call)
    answer = await checker.check(query.isrc, query.purpose, token=query.token)
    return json_response(answer_json(answer))
