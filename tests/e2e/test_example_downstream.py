"""Issue 15: the reference downstream system, end to end on the real stack.

An operator registers it; it filters its training-set manifest and follows the feed; a
label opts out of AI training; the label's tracks leave the manifest, the system sends
its receipts, and the label's decision receipt shows the system ``done``: each of its
tracks the system held was dropped, the others were never held.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

import httpx
import pytest

from consentry_stack.processes import ManagedProcess
from consentry_stack.stack import Stack
from tests.support.eventually import eventually
from tests.support.http import ADMIN, await_answer, decide, register
from tests.support.ids import new_isrc, new_party, new_upc

SYSTEM = "example-trainer"


@pytest.mark.e2e
def test_an_opt_out_reaches_the_example_trainer_and_comes_back_as_a_done_receipt(
    stack: Stack, tmp_path: Path
) -> None:
    registered = httpx.put(
        f"{stack.write_url}/v1/downstream-systems/{SYSTEM}",
        json={"purposes": ["ai.training"], "deadline_s": 3600},
        headers=stack.bearer(ADMIN),
        timeout=10,
    )
    assert registered.status_code == 202, registered.text
    label, upc = new_party("label"), new_upc()
    labels = [new_isrc() for _ in range(6)]
    others = [new_isrc() for _ in range(3)]
    for isrc in labels:
        register(stack, isrc, upc, [new_party(), label])
    for isrc in others:
        register(stack, isrc, new_upc(), [new_party()])
    await_answer(stack, labels[-1], "ai.training", "allow")
    await_answer(stack, others[-1], "ai.training", "allow")
    held = [*labels[:4], *others]  # it trains on four of the label's six tracks
    manifest, cursor = tmp_path / "manifest.txt", tmp_path / "cursor"
    manifest.write_text("\n".join(held) + "\n")
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("CONSENTRY_")},
        "CONSENTRY_EXAMPLE_MANIFEST": str(manifest),
        "CONSENTRY_EXAMPLE_CURSOR_FILE": str(cursor),
        "CONSENTRY_EXAMPLE_WRITE_URL": stack.write_url,
        "CONSENTRY_EXAMPLE_TOKEN": stack.token(f"system:{SYSTEM}"),
        "CONSENTRY_CHECK_REDIS_URL": stack.check_redis_url,
        "CONSENTRY_FEED_KAFKA_BOOTSTRAP": stack.kafka.bootstrap,
        "CONSENTRY_FEED_CHECKPOINT_EVERY_S": "0.3",
    }
    trainer = ManagedProcess(
        SYSTEM,
        [sys.executable, "-m", "consentry_example_downstream"],
        tmp_path / "trainer.log",
        env=env,
    )
    trainer.start()
    try:
        eventually(cursor.exists, 30, "the first filter done, the cursor kept")
        assert manifest.read_text().split() == held, "nothing was denied yet"
        decision = decide(stack, label, "ai.training", "deny", "party")

        eventually(lambda: manifest.read_text().split() == others, 30, "the label's tracks dropped")

        def done() -> dict[str, Any] | None:
            response = httpx.get(
                f"{stack.write_url}/v1/decisions/{decision['decision_id']}/receipt",
                headers=stack.bearer(label),
                timeout=10,
            )
            assert response.status_code in (200, 404), response.text
            if response.status_code == 404:
                return None
            mine = [s for s in response.json()["downstream"] if s["system"] == SYSTEM]
            return mine[0] if mine and mine[0]["status"] == "done" else None

        status = eventually(done, 30, "the decision's receipt shows the trainer done")
        assert (status["done"], status["not_held"], status["pending"]) == (4, 2, 0)
        assert trainer.alive(), trainer.tail()
    finally:
        trainer.stop()
