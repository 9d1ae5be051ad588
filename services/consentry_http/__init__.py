"""The HTTP services' edge: bearer authentication, the one error body, serving."""

from consentry_http.app import TAXONOMY_MARK, TaxonomyPurpose, service_app
from consentry_http.auth import Authenticator, Caller
from consentry_http.problems import (
    ErrorBody,
    FieldProblem,
    HttpProblem,
    Invalid,
    Problem,
    Refusals,
    Refused,
    TooMany,
    Unauthenticated,
    invalid_field,
    responses,
)
from consentry_http.serve import serve_fast

__all__ = [
    "TAXONOMY_MARK",
    "Authenticator",
    "Caller",
    "ErrorBody",
    "FieldProblem",
    "HttpProblem",
    "Invalid",
    "Problem",
    "Refusals",
    "Refused",
    "TaxonomyPurpose",
    "TooMany",
    "Unauthenticated",
    "invalid_field",
    "responses",
    "serve_fast",
    "service_app",
]
