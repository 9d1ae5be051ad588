"""A training manifest as data engineers hold it (issue 28): 1,000,000 rows of Parquet
(the bench catalogue's tracks ten times over, shuffled, 1 % unknown ISRCs, with a path
and a duration beside each), filtered by consent into another Parquet file -- beside the
text filter over the same million ISRCs and a plain pyarrow read of the file."""

from __future__ import annotations

import random
import tempfile
import time
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
from redis.asyncio import Redis

from consentry_bench.stats import met
from consentry_domain import load_taxonomy
from consentry_sdk import ChangeFeed, FeedSettings
from consentry_sdk.datasets import DataSets
from consentry_sdk.tables import filter_table
from consentry_state import StateReader

ROWS = 1_000_000


async def parquet_rate(
    redis_url: str, bootstrap: str, isrcs: list[str], purpose: str, *, seed: int = 5
) -> dict[str, Any]:
    rng = random.Random(seed)
    unknown = [f"ZZUNK{i:07d}" for i in range(ROWS // 100)]
    column = [rng.choice(isrcs) for _ in range(ROWS - len(unknown))] + unknown
    rng.shuffle(column)
    table = pa.table(
        {
            "isrc": column,
            "path": [f"audio/{i:07d}.flac" for i in range(ROWS)],
            "seconds": [rng.randint(60, 420) for _ in range(ROWS)],
        }
    )
    redis = Redis.from_url(redis_url)
    sets = DataSets(
        StateReader(redis),
        load_taxonomy(None),
        feed=ChangeFeed(FeedSettings(kafka_bootstrap=bootstrap)),
    )
    try:
        with tempfile.TemporaryDirectory() as directory:
            source, target = Path(directory) / "manifest.parquet", Path(directory) / "out.parquet"
            pq.write_table(table, source)
            started = time.perf_counter()
            pq.read_table(source)
            read_s = time.perf_counter() - started
            started = time.perf_counter()
            found = await filter_table(sets, pq.read_table(source), "isrc", purpose)
            pq.write_table(found.table, target)
            parquet_s = time.perf_counter() - started
        started = time.perf_counter()
        async for _ in sets.filter(column, purpose):
            pass
        text_s = time.perf_counter() - started
    finally:
        await redis.aclose()
    return {
        "rows": ROWS,
        "allowed": found.table.num_rows,
        "parquet_rows_per_s": ROWS / parquet_s,
        "text_isrcs_per_s": ROWS / text_s,
        "pyarrow_read_rows_per_s": ROWS / read_s,
    }


def row(m: dict[str, Any]) -> tuple[str, str, str, str, str]:
    """The report's line (``report.rows``)."""
    return (
        f"a Parquet manifest of {m['rows']:,} rows filtered into Parquet (columns kept)",
        f"{m['parquet_rows_per_s']:,.0f} rows/s ({m['allowed']:,} allowed)",
        "≥ the text filter's rate over the same ISRCs (issue 28)",
        met(m["parquet_rows_per_s"] >= m["text_isrcs_per_s"]),
        f"text filter {m['text_isrcs_per_s']:,.0f} ISRCs/s; pyarrow reads the file at "
        f"{m['pyarrow_read_rows_per_s']:,.0f} rows/s",
    )
