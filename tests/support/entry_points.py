"""Is a container's command a real entry point of this code? For the deployment tests
(docker-compose, Kubernetes)."""

from __future__ import annotations

import importlib.util
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SCRIPTS = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["scripts"]


def entry_point_exists(argv: list[str]) -> bool:
    """``python -m <module>`` with a module (or a package with ``__main__``), or one of
    the project's console scripts."""
    if argv[:2] == ["python", "-m"]:
        module = argv[2]
        spec = importlib.util.find_spec(module)
        return spec is not None and (
            spec.submodule_search_locations is None
            or importlib.util.find_spec(f"{module}.__main__") is not None
        )
    return argv[0] in SCRIPTS
