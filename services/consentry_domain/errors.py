"""The consent domain's errors: each says what was wrong and how to fix it."""

from __future__ import annotations


class DomainError(Exception):
    """Base of every error the domain raises."""


class TaxonomyError(DomainError, ValueError):
    """The purpose configuration is unusable; the message names the entry."""


class IdempotencyKeyReused(DomainError):
    """The Idempotency-Key was first used for a different request."""

    def __init__(self) -> None:
        super().__init__(
            "this Idempotency-Key was first used for a different request; "
            "use a new key for a new request"
        )


class IdempotencyKeyInFlight(DomainError):
    """A request with the same Idempotency-Key is being written right now."""

    def __init__(self) -> None:
        super().__init__(
            "a request with this Idempotency-Key is still being written; retry shortly "
            "with the same key"
        )
