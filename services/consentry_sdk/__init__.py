"""The in-process consent check for AI features.

    async with connect(CheckSettings()) as checker:
        answer = await checker.check("GBAYE2400001", "ai.training")
        if not answer.allowed: ...

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
    "Verdict",
    "connect",
]
