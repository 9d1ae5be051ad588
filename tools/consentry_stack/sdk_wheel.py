"""Build the light ``consentry-sdk`` wheel: ``python -m consentry_stack.sdk_wheel [-o dist]``.

The distribution holds ``consentry_sdk`` and exactly the modules of the platform's other
packages that it imports (found by importing every SDK module in a fresh interpreter,
with ``consentry_signals`` -- the c2pa-backed ``consentry signals`` commands -- made
unimportable, as it is where the SDK is installed alone). Its metadata is
``sdk/pyproject.toml``; the files are staged in a temporary directory and built there
by ``python -m build``, so the repository's own ``pyproject.toml`` is not involved.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SOURCES = (ROOT / "events", ROOT / "services", ROOT / "tools")
DATA = ("py.typed", "*.toml", "lua/*.lua")
"""Package data shipped beside a package's modules (the Lua scripts, the default purposes)."""

_CLOSURE = """
import importlib, json, pkgutil, sys

class Absent:
    def find_spec(self, name, path=None, target=None):
        if name == "consentry_signals" or name.startswith("consentry_signals."):
            raise ImportError(f"{name} is not part of the SDK")
        return None

sys.meta_path.insert(0, Absent())
import consentry_sdk
for module in pkgutil.walk_packages(consentry_sdk.__path__, "consentry_sdk."):
    importlib.import_module(module.name)
print(json.dumps(sorted(
    (name, getattr(module, "__file__", None))
    for name, module in sys.modules.items() if name.startswith("consentry_")
)))
"""


def sdk_modules() -> dict[str, Path]:
    """Every project module the SDK imports, by name, with its source file."""
    out = subprocess.run(
        [sys.executable, "-c", _CLOSURE], check=True, capture_output=True, text=True, cwd=ROOT
    ).stdout
    return {name: Path(path) for name, path in json.loads(out) if path is not None}


def _source_root(path: Path) -> Path:
    for root in SOURCES:
        if path.is_relative_to(root):
            return root
    raise ValueError(f"{path} is not one of this repository's modules")


def stage(into: Path) -> list[str]:
    """Copy the SDK's modules, their packages' data and the metadata into ``into``;
    returns the packages staged."""
    packages: set[str] = set()
    for name, path in sdk_modules().items():
        root = _source_root(path)
        target = into / path.relative_to(root)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(path, target)
        packages.add(name if path.name == "__init__.py" else name.rpartition(".")[0])
    for package in packages:
        source = next(r / package.replace(".", "/") for r in SOURCES if (r / package).is_dir())
        for pattern in DATA:
            for data in source.glob(pattern):
                target = into / package.replace(".", "/") / data.relative_to(source)
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(data, target)
    metadata = (ROOT / "sdk" / "pyproject.toml").read_text()
    listed = ", ".join(f'"{p}"' for p in sorted(packages))
    patterns = ", ".join(f'"{d}"' for d in DATA)
    (into / "pyproject.toml").write_text(
        f"{metadata}\n[tool.setuptools]\npackages = [{listed}]\n\n"
        f'[tool.setuptools.package-data]\n"*" = [{patterns}]\n'
    )
    shutil.copy2(ROOT / "sdk" / "README.md", into / "README.md")
    return sorted(packages)


def build(out: Path) -> Path:
    """Build the wheel into ``out``; returns its path."""
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="consentry-sdk-") as work:
        staged = Path(work) / "src"
        stage(staged)
        subprocess.run(
            [sys.executable, "-m", "build", "--wheel", "--outdir", str(Path(work) / "dist")],
            check=True,
            cwd=staged,
            capture_output=True,
        )
        [wheel] = (Path(work) / "dist").glob("consentry_sdk-*.whl")
        target = out / wheel.name
        shutil.copy2(wheel, target)
    return target


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-o", "--out", type=Path, default=ROOT / "dist")
    print(build(parser.parse_args().out))


if __name__ == "__main__":
    main()
