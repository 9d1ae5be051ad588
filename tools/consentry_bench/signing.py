"""What signing events costs (issue 26): the write API signs a batch once, every reader
verifies every record. Measured on the bench catalogue's records, as the benchmarks and
the bulk import produce them (batches of 5,000), beside decoding the same records -- the
work each reader does on every record anyway."""

from __future__ import annotations

import itertools
import tempfile
import time
from pathlib import Path
from typing import Any

from consentry_auth import generate_keys, key_set_json, parse_keys
from consentry_auth.keyset import KeySet
from consentry_bench.catalogue import Catalogue
from consentry_events import CATALOGUE, decode, encode, partition_key
from consentry_kafka.signatures import CutOver, EventSigner, EventVerifier

RECORDS = 100_000
BATCH = 5_000
SINGLES = 2_000


def _per_record_us(seconds: float, n: int) -> float:
    return round(seconds / n * 1e6, 2)


def cost() -> dict[str, Any]:
    tracks = list(itertools.islice(Catalogue(RECORDS).tracks(), RECORDS))
    records = [(partition_key(t), encode(t)) for t in tracks]
    with tempfile.TemporaryDirectory() as directory:
        private, public = generate_keys()
        path = Path(directory) / "private.pem"
        path.write_bytes(private)
        signer = EventSigner(path)
        keys = KeySet(data=key_set_json(parse_keys(public)).encode())

        started = time.perf_counter()
        headers = [
            h
            for at in range(0, len(records), BATCH)
            for h in signer.sign(CATALOGUE.name, records[at : at + BATCH])
        ]
        signed_s = time.perf_counter() - started

        verifier = EventVerifier(keys, CutOver({}))
        started = time.perf_counter()
        for (key, value), found in zip(records, headers, strict=True):
            if not verifier.verdict(CATALOGUE.name, 0, 0, key, value, found).admitted:
                raise AssertionError("a record the bench signed was refused")
        verified_s = time.perf_counter() - started

        singles = [signer.sign(CATALOGUE.name, [r])[0] for r in records[:SINGLES]]
        single_verifier = EventVerifier(keys, CutOver({}))
        started = time.perf_counter()
        for (key, value), found in zip(records, singles, strict=False):
            single_verifier.verdict(CATALOGUE.name, 0, 0, key, value, found)
        single_s = time.perf_counter() - started

    started = time.perf_counter()
    for _, value in records:
        decode(value)
    decoded_s = time.perf_counter() - started
    return {
        "records": len(records),
        "batch": BATCH,
        "sign_us_per_record": _per_record_us(signed_s, len(records)),
        "verify_us_per_record": _per_record_us(verified_s, len(records)),
        "verify_single_us": _per_record_us(single_s, SINGLES),
        "decode_us_per_record": _per_record_us(decoded_s, len(records)),
    }


def row(s: dict[str, Any]) -> tuple[str, str, str, str, str]:
    """The report's line (``report.rows``)."""
    return (
        "event signatures: every record of the consent and catalogue logs verified",
        f"{s['verify_us_per_record']:.1f} µs a record (batches of {s['batch']:,}; a tree "
        f"of one: {s['verify_single_us']:.0f} µs); signing {s['sign_us_per_record']:.1f} µs "
        "a record",
        "(issue 26: state it)",
        "—",
        f"decoding the same record: {s['decode_us_per_record']:.1f} µs",
    )
