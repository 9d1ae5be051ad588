"""How a write is answered: 202 with the consistency token, marked when it is a replay."""

from __future__ import annotations

from typing import Any

import orjson
from fastapi.responses import Response

from consentry_http import responses
from consentry_writeapi.recorder import Written

WRITE_RESPONSES: dict[int | str, dict[str, Any]] = {
    202: {
        "description": "Kafka acknowledged the event (acks=all).",
        "headers": {
            "Idempotent-Replayed": {
                "description": "'true' when this is the first answer to an earlier request "
                "with the same Idempotency-Key (nothing was written now).",
                "schema": {"type": "string", "enum": ["true"]},
            }
        },
    },
    **responses(400, 401, 403, 409, 413, 422, 503),
}


def written(result: Written) -> Response:
    headers = {"Idempotent-Replayed": "true"} if result.replayed else None
    body = orjson.dumps(result.accepted.model_dump(mode="json"))
    return Response(body, status_code=202, headers=headers, media_type="application/json")
