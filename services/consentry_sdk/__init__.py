"""The in-process consent check for AI features.

    async with connect(CheckSettings()) as checker:
        answer = await checker.check("GBAYE2400001", "ai.training")
        if not answer.allowed: ...

or, without an event loop (threads, a forked data-loader worker), the same answers:

    with connect_sync() as checker:
        answer = checker.check("GBAYE2400001", "ai.training")

Every answer carries its reasons. When consent cannot be verified -- Redis unreachable,
or the materialiser's heartbeat older than the bound -- the answer is deny with reason
``unverifiable``: the SDK fails closed.

Downstream AI systems follow the change feed (``ChangeFeed.follow``): every answer change,
resumable from a cursor they store.
"""

from consentry_domain import Answer, Basis, Reason, Verdict
from consentry_sdk.checker import ConsentChecker, connect
from consentry_sdk.feed import (
    BadCursor,
    ChangeFeed,
    Checkpoint,
    Cursor,
    CursorExpired,
    FeedChange,
    FeedSettings,
)
from consentry_sdk.settings import CheckSettings
from consentry_sdk.sync import SyncConsentChecker, connect_sync

__version__ = "0.2.0"
"""The SDK's version; it reads the consent state of Consentry servers that write state
layout 5 (``consentry_state.layout``), the layout this version's reader speaks."""

__all__ = [
    "Answer",
    "BadCursor",
    "Basis",
    "ChangeFeed",
    "CheckSettings",
    "Checkpoint",
    "ConsentChecker",
    "Cursor",
    "CursorExpired",
    "FeedChange",
    "FeedSettings",
    "Reason",
    "SyncConsentChecker",
    "Verdict",
    "__version__",
    "connect",
    "connect_sync",
]
