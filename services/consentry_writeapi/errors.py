"""The write API's errors, and how each (and the domain's) becomes the one error body.

* ``PublishError`` -- the broker did not acknowledge: 503 with ``outcome`` saying whether
  the change may exist (``not_written``: retry freely; ``unknown``: retry with the same
  Idempotency-Key, which writes it at most once);
* an Idempotency-Key reused for another request: 422 naming the header; a request under
  the key still being written: 409;
* Redis unreachable: 503, nothing changed; authorisation: 403 (``authorise``).
"""

from __future__ import annotations

from collections.abc import Callable
from enum import StrEnum
from typing import Any

from redis.exceptions import RedisError

from consentry_domain.errors import IdempotencyKeyInFlight, IdempotencyKeyReused
from consentry_http import HttpProblem, invalid_field


class WriteOutcome(StrEnum):
    NOT_WRITTEN = "not_written"
    """The broker surely has nothing: retry freely."""
    UNKNOWN = "unknown"
    """The change may be in the log: retry with the same Idempotency-Key."""


class WriteApiError(Exception):
    """Base of the write API's own errors."""


class PublishError(WriteApiError):
    """The broker did not acknowledge the event; ``outcome`` says whether it may exist."""

    def __init__(self, message: str, outcome: WriteOutcome) -> None:
        super().__init__(message)
        self.outcome = outcome


def as_problem(exc: Exception) -> HttpProblem:
    """The HTTP answer for one of the write path's errors."""
    if isinstance(exc, PublishError):
        return HttpProblem("not_acknowledged", str(exc), status_code=503, outcome=exc.outcome.value)
    if isinstance(exc, IdempotencyKeyReused):
        return invalid_field(["header", "Idempotency-Key"], str(exc), "idempotency_key_reused")
    if isinstance(exc, IdempotencyKeyInFlight):
        return HttpProblem("idempotency_key_in_flight", str(exc), status_code=409)
    if isinstance(exc, RedisError):
        return HttpProblem(
            "state_unreachable",
            f"the consent state is unreachable ({type(exc).__name__}); nothing was changed, "
            "retry shortly",
            status_code=503,
        )
    raise TypeError(f"not a write path error: {exc!r}")


CONVERTERS: dict[type[Exception], Callable[[Any], HttpProblem]] = {
    kind: as_problem
    for kind in (PublishError, IdempotencyKeyReused, IdempotencyKeyInFlight, RedisError)
}
"""The write path's errors, answered with the one error body by the app's ``Refusals``."""
