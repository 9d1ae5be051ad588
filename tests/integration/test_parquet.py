"""Issue 28: a Parquet manifest filtered by consent -- through the ``consentry`` command
as a data engineer runs it, and in Python on a ``pyarrow.Table``: the allowed rows with
every other column, in their order, the consent token in the file's metadata; values
that are not ISRCs counted apart and never allowed; a missing column a clear error."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from consentry_sdk.tables import TOKEN_KEY, Filtered, filter_table
from consentry_stack.stack import Stack
from tests.support.data_sets import catalogue_with_decisions, data_sets
from tests.support.ids import new_isrc


def consentry_filter(stack: Stack, *args: str) -> subprocess.CompletedProcess[str]:
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("CONSENTRY_")},
        "CONSENTRY_CHECK_REDIS_URL": stack.check_redis_url,
        "CONSENTRY_FEED_KAFKA_BOOTSTRAP": stack.kafka.bootstrap,
    }
    consentry = str(Path(sys.executable).parent / "consentry")  # the installed command
    return subprocess.run(
        [consentry, "filter", "--purpose", "ai.training", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_a_parquet_manifest_keeps_its_columns_and_order_and_carries_the_token(
    stack: Stack, tmp_path: Path
) -> None:
    made = catalogue_with_decisions(stack)
    on_a, on_b = made.on_a, made.on_b
    unknown = new_isrc()
    isrcs = [on_b[1], on_a[1], None, on_a[0], "not-an-isrc", unknown, on_b[0], on_b[1]]
    manifest = pa.table(
        {
            "isrc": pa.array(isrcs, type=pa.string()),
            "path": [f"audio/{n}.flac" for n in range(len(isrcs))],
            "seconds": list(range(len(isrcs))),
        },
        metadata={b"owner": b"training-team"},
    )
    source = tmp_path / "manifest.parquet"
    pq.write_table(manifest, source)
    allowed_rows = [0, 3, 7]  # on_b[1] twice, on_a[0]; the rest denied, unknown or not ISRCs
    out = tmp_path / "allowed.parquet"
    done = consentry_filter(stack, str(source), "--column", "isrc", "-o", str(out))
    assert done.returncode == 0, done.stderr
    assert "allowed for ai.training: 3 of 8 rows" in done.stderr
    assert "(2 not an ISRC, never allowed)" in done.stderr
    written = pq.read_table(out)
    assert written.column_names == ["isrc", "path", "seconds"]
    assert written.to_pylist() == [manifest.slice(i, 1).to_pylist()[0] for i in allowed_rows]
    metadata = written.schema.metadata
    assert metadata[b"owner"] == b"training-team"
    assert metadata[TOKEN_KEY].startswith(b"c1:")
    assert metadata[b"consentry.purpose"] == b"ai.training"

    async def in_python() -> Filtered:
        async with data_sets(stack) as sets:
            return await filter_table(sets, manifest, "isrc", "ai.training")

    found = asyncio.run(in_python())
    assert found.table.column("path").to_pylist() == [f"audio/{i}.flac" for i in allowed_rows]
    assert (found.rows, found.malformed) == (8, 2)
    missing = consentry_filter(stack, str(source), "--column", "ISRC", "-o", str(out))
    assert missing.returncode != 0
    assert "no column 'ISRC'" in missing.stderr
