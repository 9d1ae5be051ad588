"""``consentry_kafka.batches`` reaches into faust-streaming's consumer: it overrides
``Consumer._drain_messages`` (a copy of its loop that hands whole fetches to a handler)
and uses ``_read_offset``, ``_add_gap``, ``_to_message``, ``_getmany``,
``_get_active_partitions``, ``flow_active``, ``_n_acked`` and ``_commit_every``. Every
worker's offset commits depend on those, so ``pyproject.toml`` bounds faust-streaming to
the minor version they were read from, and this test fails when any of them changes.

On an upgrade, when this fails: read the new ``faust/transport/consumer.py``
(``Consumer._drain_messages``, ``getmany``, ``_add_gap``, ``__init__``) and
``faust/transport/drivers/aiokafka.py`` (``Consumer._to_message``); carry every change of
the read-offset, gap and ack bookkeeping into ``BatchConsumer._drain_messages`` and
``_unread``; run ``tests/faults`` (crashes mid-batch lose nothing, commit nothing twice);
then record the new digests below.

``consentry_kafka.tables`` writes a table from a batch handler with
``Collection.send_changelog`` (the partition named, not taken from a stream's event) and
the table's store ``data``: on a change, check that it still produces to the named
partition through the producer faust flushes before a commit.
"""

from __future__ import annotations

import hashlib
import inspect
from importlib.metadata import version

import pytest
from faust.tables import base as tables
from faust.transport import consumer as base
from faust.transport.drivers import aiokafka as driver

FAUST = "0.15.3"
"""The faust-streaming version these digests were read from."""
UPSTREAM: dict[tuple[type, str], str] = {
    (base.Consumer, "_drain_messages"): "44a2500309e83c63",
    (base.Consumer, "getmany"): "4b168d84882a70d6",
    (base.Consumer, "_add_gap"): "4df2573ded7c1c2c",
    (base.Consumer, "_get_active_partitions"): "b24897f3c7afdb5d",
    (base.Consumer, "commit"): "a354437baaa08bf8",
    (base.Consumer, "__init__"): "302410d59e6972d1",
    (base.ThreadDelegateConsumer, "_getmany"): "f9d47aa9010b5ff2",
    (driver.Consumer, "_to_message"): "7c24f6511b2fcef7",
    (tables.Collection, "send_changelog"): "3dd3884e1b5fc0e1",
}
"""sha256 (first 16 hex digits) of each method's source, as it was read."""


def test_the_installed_faust_is_the_one_the_batch_consumer_was_written_against() -> None:
    assert version("faust-streaming") == FAUST


@pytest.mark.parametrize(("owner", "name"), list(UPSTREAM), ids=lambda v: getattr(v, "__name__", v))
def test_the_upstream_methods_it_relies_on_are_unchanged(owner: type, name: str) -> None:
    source = inspect.getsource(owner.__dict__[name])
    digest = hashlib.sha256(source.encode()).hexdigest()[:16]
    assert digest == UPSTREAM[(owner, name)], (
        f"{owner.__module__}.{owner.__qualname__}.{name} changed upstream: see this module's "
        "docstring for what to re-check before recording its new digest"
    )


def test_the_attributes_it_uses_are_still_there() -> None:
    assert "_read_offset" in inspect.getsource(base.Consumer.__init__)
    assert "_commit_every" in inspect.getsource(base.Consumer.__init__)
    assert base.Consumer._n_acked == 0
    assert isinstance(inspect.getattr_static(base.Consumer, "flow_active"), bool)
