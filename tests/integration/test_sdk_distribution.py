"""The light SDK as its users get it: the ``consentry-sdk`` wheel built from this
repository, installed into a clean virtual environment (the pinned versions of
requirements.lock, nothing else), runs the README's first example against the stack."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import venv
import zipfile
from dataclasses import dataclass
from pathlib import Path

import pytest

from consentry_domain import Basis
from consentry_sdk import CheckSettings, connect
from consentry_stack import sdk_wheel
from consentry_stack.stack import Stack
from tests.support.eventually import eventually_async

ROOT = Path(__file__).resolve().parents[2]

DECLARED = {
    "redis",
    "pydantic",
    "pydantic-settings",
    "orjson",
    "aiokafka",
    "cryptography",
    "pyjwt",
    "prometheus-client",
    "httpx",
    "click",
}
"""What the SDK may depend on. Growing it is a decision: change it here and in
sdk/pyproject.toml together, and say why there."""

PLATFORM_ONLY = {"faust-streaming", "fastapi", "starlette", "granian", "uvicorn", "c2pa-python"}


@dataclass(frozen=True)
class Installed:
    wheel: Path
    python: Path


def _name(requirement: str) -> str:
    return re.split(r"[\s;\[<>=!~]", requirement, maxsplit=1)[0].lower().replace("_", "-")


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Installed:
    work = tmp_path_factory.mktemp("sdk")
    wheel = sdk_wheel.build(work / "dist")
    venv.create(work / "venv", with_pip=True)
    python = work / "venv" / "bin" / "python"
    pins = [
        line.split(" ")[0]
        for line in (ROOT / "requirements.lock").read_text().splitlines()
        if re.match(r"^[A-Za-z0-9_.\-]+(\[[^\]]*\])?==", line)
    ]
    constraints = work / "constraints.txt"
    constraints.write_text("\n".join(pins) + "\n")
    subprocess.run(
        [python, "-m", "pip", "install", "-q", "-c", constraints, wheel],
        check=True,
        capture_output=True,
    )
    return Installed(wheel, python)


def test_the_wheel_declares_what_the_sdk_needs_and_no_more(installed: Installed) -> None:
    with zipfile.ZipFile(installed.wheel) as wheel:
        [metadata] = [n for n in wheel.namelist() if n.endswith(".dist-info/METADATA")]
        text = wheel.read(metadata).decode()
        files = wheel.namelist()
    required = {
        _name(line.removeprefix("Requires-Dist: "))
        for line in text.splitlines()
        if line.startswith("Requires-Dist: ") and "extra ==" not in line
    }
    assert required == DECLARED
    assert "consentry_sdk/py.typed" in files, "typed"
    assert not [f for f in files if f.startswith(("consentry_writeapi/", "consentry_signals/"))]
    listed = subprocess.run(
        [installed.python, "-m", "pip", "list", "--format", "json"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    present = {_name(d["name"]) for d in json.loads(listed)}
    assert not present & PLATFORM_ONLY, "no faust, no web framework"


def test_every_sdk_module_imports_with_only_the_declared_dependencies(
    installed: Installed,
) -> None:
    script = (
        "import importlib, pkgutil, consentry_sdk\n"
        "for m in pkgutil.walk_packages(consentry_sdk.__path__, 'consentry_sdk.'):\n"
        "    importlib.import_module(m.name)\n"
        "print(consentry_sdk.__version__)\n"
    )
    done = subprocess.run(
        [installed.python, "-c", script], capture_output=True, text=True, cwd=installed.wheel.parent
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() in installed.wheel.name


def first_example() -> str:
    """The README's first example: the python block after ``<!-- first-check -->``."""
    readme = (ROOT / "README.md").read_text()
    found = re.search(r"<!-- first-check -->\s*```python\n(.*?)```", readme, re.DOTALL)
    assert found, "README.md has its first example, marked <!-- first-check -->"
    return found.group(1)


@pytest.fixture
async def canary_track(stack: Stack) -> str:
    """The track the example checks: the canary's own, registered by the canary."""
    isrc = "ZZCAN0000001"
    async with connect(CheckSettings(redis_url=stack.check_redis_url)) as checker:

        async def registered() -> bool:
            answer = await checker.check(isrc, "ai.training")
            return answer.reasons[0].basis is not Basis.UNKNOWN_TRACK

        await eventually_async(registered, 30.0, "the canary's track registered", 0.2)
    return isrc


def test_the_readme_example_runs_in_the_clean_environment(
    installed: Installed, stack: Stack, canary_track: str, tmp_path: Path
) -> None:
    example = first_example()
    assert canary_track in example
    script = tmp_path / "first_check.py"
    script.write_text(example)
    env = {k: v for k, v in os.environ.items() if not k.startswith("CONSENTRY_")}
    env["CONSENTRY_CHECK_REDIS_URL"] = stack.check_redis_url
    done = subprocess.run(
        [installed.python, script], capture_output=True, text=True, env=env, cwd=tmp_path
    )
    assert done.returncode == 0, done.stderr
    verdict, _, reasons = done.stdout.partition(" ")
    assert verdict == "allow", done.stdout
    assert "ai.training" in reasons
    assert sys.executable != str(installed.python)
