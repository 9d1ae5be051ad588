"""``python -m consentry_bench.statement_scale --tracks 1000000``: a month's revenue
statements over a catalogue of that size (issue 25: at most 60 s at 1M tracks).

Kafka only: a statement reads the logs, not the state. The shaped catalogue and its
decisions are produced to their topics, then ``make bench``'s 200 usage reports of 1,000
uses over its tracks; the measurement is ``consentry-admin statement``'s work in
process (the usage topic, the records bearing on the used tracks, two pools settled).
Beside it, the same-run reference: a plain aiokafka consumer reading the consent and
catalogue logs without decoding them -- what any reader of those logs pays."""

from __future__ import annotations

import asyncio
import json
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any

import click
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition

from consentry_bench import usage
from consentry_bench.catalogue import Catalogue, isrc
from consentry_bench.measure import produce
from consentry_events import CATALOGUE, CONSENT_CHANGES, USAGE
from consentry_stack.stack import Stack


async def _usage(bootstrap: str, isrcs: list[str]) -> None:
    producer = AIOKafkaProducer(
        bootstrap_servers=bootstrap, acks="all", max_request_size=4 * 1024 * 1024
    )
    await producer.start()
    try:
        records = usage.reports(isrcs)
        await asyncio.gather(*[await producer.send(USAGE.name, v, key=k) for k, v in records])
    finally:
        await producer.stop()


async def _plain_read(bootstrap: str) -> dict[str, float]:
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap, group_id=None, enable_auto_commit=False
    )
    await consumer.start()
    try:
        partitions = [
            TopicPartition(topic.name, p)
            for topic in (CONSENT_CHANGES, CATALOGUE)
            for p in range(topic.partitions)
        ]
        consumer.assign(partitions)
        await consumer.seek_to_beginning(*partitions)
        ends = await consumer.end_offsets(partitions)
        started, records = time.perf_counter(), 0
        left = {tp for tp in partitions if ends[tp] > 0}
        while left:
            fetched = await consumer.getmany(*left, timeout_ms=1000, max_records=20_000)
            records += sum(len(m) for m in fetched.values())
            left = {tp for tp in left if await consumer.position(tp) < ends[tp]}
        return {"records": records, "read_s": round(time.perf_counter() - started, 1)}
    finally:
        await consumer.stop()


@click.command()
@click.option("--tracks", default=1_000_000, show_default=True, help="Catalogue size.")
@click.option(
    "--out", type=click.Path(path_type=Path), default=Path("bench/results"), show_default=True
)
def main(tracks: int, out: Path) -> None:
    """Measure a month's statements over a catalogue of TRACKS tracks."""
    root = Path(tempfile.mkdtemp(prefix="consentry-statement-"))
    stack = Stack(root)
    try:
        click.echo("starting Kafka ...")
        stack.start_infra()
        catalogue = Catalogue(tracks, solo=0)
        click.echo(f"producing {tracks:,} tracks, their decisions and 200,000 uses ...")
        asyncio.run(produce(stack.kafka.bootstrap, stack.event_signing_key, catalogue.tracks()))
        asyncio.run(produce(stack.kafka.bootstrap, stack.event_signing_key, catalogue.decisions()))
        asyncio.run(_usage(stack.kafka.bootstrap, [isrc(i) for i in range(tracks)]))
        click.echo("the month's statements, then the plain read ...")
        results: dict[str, Any] = {
            "tracks": tracks,
            "statement": asyncio.run(usage.statement(stack)),
            "plain_read": asyncio.run(_plain_read(stack.kafka.bootstrap)),
        }
    finally:
        stack.stop()
        shutil.rmtree(root, ignore_errors=True)
    out.mkdir(parents=True, exist_ok=True)
    path = out / "statement_scale.json"
    path.write_text(json.dumps(results, indent=2) + "\n")
    click.echo(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
