"""What a deployment may name, for the deployment tests (docker-compose, Kubernetes): a
container's command must be a real entry point of this code, and its variables settings
of the service's settings class (by prefix)."""

from __future__ import annotations

import importlib.util
import tomllib
from pathlib import Path

from pydantic_settings import BaseSettings

from consentry_canary.settings import CanarySettings
from consentry_checkapi.settings import CheckServiceSettings
from consentry_enforcer.settings import EnforcerSettings
from consentry_materialiser.settings import MaterialiserSettings
from consentry_meter.settings import MeterSettings
from consentry_portal.settings import PortalSettings
from consentry_receipts.settings import ReceiptsSettings
from consentry_writeapi.settings import WriteSettings

ROOT = Path(__file__).resolve().parents[2]
SCRIPTS = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["scripts"]

SETTINGS: dict[str, type[BaseSettings]] = {
    "CONSENTRY_WRITE_": WriteSettings,
    "CONSENTRY_MATERIALISER_": MaterialiserSettings,
    "CONSENTRY_ENFORCER_": EnforcerSettings,
    "CONSENTRY_RECEIPTS_": ReceiptsSettings,
    "CONSENTRY_METER_": MeterSettings,
    "CONSENTRY_CHECK_": CheckServiceSettings,
    "CONSENTRY_CANARY_": CanarySettings,
    "CONSENTRY_PORTAL_": PortalSettings,
}
"""Each service's settings class by its variables' prefix."""


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
