"""Fresh ids, so tests on the shared stack never see each other's tracks and parties."""

from __future__ import annotations

import random
import string

_rng = random.Random()


def new_isrc() -> str:
    letters = "".join(_rng.choices(string.ascii_uppercase + string.digits, k=3))
    return f"ZZ{letters}{_rng.randrange(10**7):07d}"


def new_upc() -> str:
    return f"{_rng.randrange(10**13):013d}"


def new_party(kind: str = "artist") -> str:
    return f"{kind}:t-{_rng.getrandbits(48):012x}"
