"""What the usage tests share: a use as an AI feature reports it, a report through the
check service, the meter's count as a rights holder reads it, and a month settled (and
published) with ``consentry-admin statement``."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx

from consentry_stack.stack import Stack
from tests.support.eventually import eventually
from tests.support.http import SERVICE

MODEL = "dj-voice"


def use(
    use_id: str,
    isrc: str,
    at: datetime,
    units: str = "1",
    purpose: str = "ai.training",
    unit_kind: str = "training_inclusion",
) -> dict[str, Any]:
    return {
        "use_id": use_id,
        "isrc": isrc,
        "purpose": purpose,
        "units": units,
        "unit_kind": unit_kind,
        "model": MODEL,
        "model_version": "1",
        "happened_at": at.isoformat(),
    }


def report(stack: Stack, uses: list[dict[str, Any]], reporter: str = SERVICE) -> httpx.Response:
    return httpx.post(
        f"{stack.check_url}/v1/usage",
        json={"uses": uses},
        headers=stack.bearer(reporter),
        timeout=15,
    )


def usage_of(stack: Stack, party: str, reader: str | None = None) -> httpx.Response:
    return httpx.get(
        f"{stack.write_url}/v1/parties/{party}/usage",
        headers=stack.bearer(reader or party),
        timeout=10,
    )


def month_line(
    stack: Stack, party: str, when: datetime, purpose: str = "ai.training"
) -> dict[str, Any] | None:
    response = usage_of(stack, party)
    assert response.status_code == 200, response.text
    lines = [
        line
        for line in response.json()["lines"]
        if line["period"] == f"{when:%Y-%m}"
        and line["model"] == MODEL
        and line["purpose"] == purpose
    ]
    return lines[0] if lines else None


def await_units(
    stack: Stack,
    party: str,
    when: datetime,
    allowed: str,
    violations: str,
    purpose: str = "ai.training",
) -> dict[str, Any]:
    """The party's month line for ``purpose``, once the meter has counted these units."""

    def counted() -> dict[str, Any] | None:
        line = month_line(stack, party, when, purpose)
        if line is None:
            return None
        got = (Decimal(line["allowed"]), Decimal(line["violations"]))
        return line if got == (Decimal(allowed), Decimal(violations)) else None

    return eventually(counted, 30, f"{party}: {allowed} allowed, {violations} in violation")


POOLS = """
[pools.training]
purpose = "ai.training"
amount = "1000.00"
currency = "EUR"
model = "equal"

[pools.outputs]
purpose = "ai.generation"
amount = "1000.00"
currency = "EUR"
model = "attribution"
"""


def settle(stack: Stack, period: str, pools: Path, out: Path, *options: str) -> dict[str, bytes]:
    """``consentry-admin statement`` for the month, as an operator runs it: the files."""
    run = subprocess.run(
        [
            sys.executable,
            "-m",
            "consentry_admin",
            "statement",
            period,
            "--pools",
            str(pools),
            "--out",
            str(out),
            "--bootstrap",
            stack.kafka.bootstrap,
            *options,
        ],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "CONSENTRY_AUDIT_EVENT_KEYS_FILE": str(stack.event_key_set)},
    )
    assert run.returncode == 0, run.stderr
    return {p.name: p.read_bytes() for p in sorted(out.iterdir())}
