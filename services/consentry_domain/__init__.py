"""Consent domain: purposes, decisions, versioned slots and resolution.

Pure functions and frozen data only -- no Kafka, Redis or web framework here -- so
every rule of DESIGN section 2 is unit- and property-tested in isolation.
"""

from consentry_domain.answers import Answer, Basis, Reason, Verdict
from consentry_domain.errors import DomainError, TaxonomyError
from consentry_domain.purposes import Taxonomy, load_taxonomy
from consentry_domain.resolve import resolve
from consentry_domain.slots import ApplyOutcome, Entry, Slot, SlotKey, merge
from consentry_domain.state import ConsentState
from consentry_domain.state_types import Track

__all__ = [
    "Answer",
    "ApplyOutcome",
    "Basis",
    "ConsentState",
    "DomainError",
    "Entry",
    "Reason",
    "Slot",
    "SlotKey",
    "Taxonomy",
    "TaxonomyError",
    "Track",
    "Verdict",
    "load_taxonomy",
    "merge",
    "resolve",
]
