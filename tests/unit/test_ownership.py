"""One owner per concern, enforced: Redis key names live in ``consentry_state`` alone, and
modules stay small enough to read in one sitting."""

from __future__ import annotations

import ast
import io
import tokenize
from pathlib import Path

from consentry_state import keys

ROOT = Path(__file__).resolve().parents[2]
SOURCES = [ROOT / "events", ROOT / "services", ROOT / "tools", ROOT / "tests"]
STATE = ROOT / "services" / "consentry_state"
PREFIX = keys.PREFIX
MAX_LINES = 300
LONG_ON_PURPOSE = "Longer than"
"""A module over MAX_LINES says why in its docstring, in a sentence starting with this."""


def python_files() -> list[Path]:
    return sorted(p for root in SOURCES for p in root.rglob("*.py") if ".venv" not in p.parts)


def key_literals(path: Path) -> list[str]:
    """String literals in ``path`` that begin with the key prefix."""
    found = []
    for token in tokenize.generate_tokens(io.StringIO(path.read_text()).readline):
        if token.type != tokenize.STRING:
            continue
        body = token.string.lstrip("rbuRBUfF")
        for quote in ('"""', "'''", '"', "'"):
            if body.startswith(quote):
                body = body[len(quote) :]
                break
        if body.startswith(PREFIX):
            found.append(f"{path.relative_to(ROOT)}:{token.start[0]}: {token.string}")
    return found


def test_no_module_outside_the_state_package_names_a_redis_key() -> None:
    outside = [p for p in python_files() if STATE not in p.parents]
    assert len(outside) > 50, "the scan must see the tree"
    found = [hit for path in outside for hit in key_literals(path)]
    assert not found, found


def test_inside_the_state_package_only_keys_py_spells_the_prefix() -> None:
    inside = [p for p in STATE.rglob("*.py") if p.name != "keys.py"]
    found = [hit for path in inside for hit in key_literals(path)]
    lua = [
        f"{path.relative_to(ROOT)}:{n}"
        for path in (STATE / "lua").glob("*.lua")
        for n, line in enumerate(path.read_text().splitlines(), start=1)
        if f"'{PREFIX}" in line or f'"{PREFIX}' in line
    ]
    assert not found, found
    assert not lua, f"Lua scripts take key names from the table K: {lua}"


def test_the_scan_finds_a_key_literal() -> None:
    """The rule must be able to fail."""
    sample = ROOT / "tests" / "unit" / "test_ownership.py"
    planted = sample.parent / "_planted_key_literal.py"
    planted.write_text('KEY = "' + PREFIX + 'party:x"\n')
    try:
        assert key_literals(planted) == [
            f"{planted.relative_to(ROOT)}:1: " + '"' + PREFIX + 'party:x"'
        ]
    finally:
        planted.unlink()


def test_no_module_is_longer_than_a_sitting_without_saying_why() -> None:
    long = []
    for path in python_files():
        lines = len(path.read_text().splitlines())
        if lines <= MAX_LINES:
            continue
        docstring = ast.get_docstring(ast.parse(path.read_text())) or ""
        if LONG_ON_PURPOSE not in docstring:
            long.append(f"{path.relative_to(ROOT)}: {lines} lines")
    assert not long, long
