"""Rendering deploy/kubernetes for the manifests' tests: kustomize (built by the set-up
into .tools/bin), the resources by kind, a container's variables and settings."""

from __future__ import annotations

import functools
import re
import subprocess
from collections.abc import Iterator
from typing import Any

import yaml
from pydantic_settings import BaseSettings

from tests.support.entry_points import ROOT, SETTINGS

KUBERNETES = ROOT / "deploy" / "kubernetes"
KUSTOMIZE = ROOT / ".tools" / "bin" / "kustomize"
OVERLAYS = ("small", "large")
OURS = {
    "consentry-writeapi": "consentry_writeapi",
    "consentry-checkapi": "consentry_checkapi",
    "consentry-portal": "consentry_portal",
    "consentry-materialiser": "consentry_materialiser",
    "consentry-enforcer": "consentry_enforcer",
    "consentry-receipts": "consentry_receipts",
    "consentry-canary": "consentry_canary",
}
HTTP = {"consentry-writeapi", "consentry-checkapi", "consentry-portal"}
IMAGE = "registry.example.com/consentry:0.1.0"


@functools.cache
def rendered(overlay: str) -> tuple[dict[str, Any], ...]:
    built = subprocess.run(
        [str(KUSTOMIZE), "build", str(KUBERNETES / "overlays" / overlay)],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert built.returncode == 0, built.stderr
    return tuple(d for d in yaml.safe_load_all(built.stdout) if d)


def of_kind(overlay: str, kind: str) -> dict[str, dict[str, Any]]:
    return {d["metadata"]["name"]: d for d in rendered(overlay) if d["kind"] == kind}


def containers(deployment: dict[str, Any]) -> Iterator[dict[str, Any]]:
    spec = deployment["spec"]["template"]["spec"]
    yield from spec.get("initContainers", [])
    yield from spec["containers"]


def environment(overlay: str, container: dict[str, Any]) -> dict[str, str | None]:
    """The container's variables: its ConfigMaps' data, then its own ``env`` (a
    Secret's value as None)."""
    config_maps = of_kind(overlay, "ConfigMap")
    found: dict[str, str | None] = {}
    for source in container.get("envFrom", []):
        found.update(config_maps[source["configMapRef"]["name"]]["data"])
    for variable in container.get("env", []):
        found[variable["name"]] = variable.get("value")
    return found


def settings_of(env: dict[str, str | None]) -> tuple[type[BaseSettings], dict[str, Any]]:
    """The settings class these ``CONSENTRY_*`` variables are for, and their fields (a
    Secret's or an interpolated value as a placeholder of the right shape)."""
    prefixes = {p for p in SETTINGS for name in env if name.startswith(p)}
    assert len(prefixes) == 1, f"one service's settings per container: {prefixes}"
    prefix = prefixes.pop()
    fields: dict[str, Any] = {}
    for name, value in env.items():
        if name.startswith(prefix):
            text = "secret" if value is None else re.sub(r"\$\((\w+)\)", "secret", value)
            fields[name.removeprefix(prefix).lower()] = text
    return SETTINGS[prefix], fields
