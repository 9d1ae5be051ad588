"""Consent domain: purposes, decisions, versioned slots and resolution.

Pure functions and frozen data only -- no Kafka, Redis or web framework here -- so
every rule of DESIGN section 2 is unit- and property-tested in isolation.
"""

from consentry_domain.answers import Answer, Basis, Reason, Verdict
from consentry_domain.purposes import Taxonomy, TaxonomyError, load_taxonomy
from consentry_domain.resolve import resolve
from consentry_domain.slots import Entry, Outcome, Slot, SlotKey, merge
from consentry_domain.state import ConsentState
from consentry_domain.state_types import Track

__all__ = [
    "Answer",
    "Basis",
    "ConsentState",
    "Entry",
    "Outcome",
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
