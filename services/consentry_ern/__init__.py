"""DDEX ERN in: a strict reader of the labels' release deliveries (``read``) and their
mapping onto Consentry's catalogue, AI disclosure and shares (``catalogue``), and the
label's own decisions its deals imply (``deals``)."""

from consentry_ern.model import ErnError, Message
from consentry_ern.read import read_message

__all__ = ["ErnError", "Message", "read_message"]
