"""The documentation site's interface pages (``docs_reference`` builds the rest): the
HTTP APIs from the services' own OpenAPI documents, rendered to Markdown offline, and
the AsyncAPI document's channels."""

from __future__ import annotations

import contextlib
import copy
import html
import os
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from consentry_stack.docs_reference import GENERATED, ROOT, cell, code, table

if TYPE_CHECKING:
    from fastapi import FastAPI

# --- HTTP APIs ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Api:
    title: str
    page: str
    build: Callable[[Path], FastAPI]
    summary: str


@contextlib.contextmanager
def _no_consentry_environment() -> Iterator[None]:
    """The apps as the code defines them, whatever ``CONSENTRY_*`` the shell holds."""
    saved = {k: v for k, v in os.environ.items() if k.startswith("CONSENTRY_")}
    for key in saved:
        del os.environ[key]
    try:
        yield
    finally:
        os.environ.update(saved)


def _keys(folder: Path) -> Path:
    """A throwaway Ed25519 pair (the apps read a public key when they are made)."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    key = Ed25519PrivateKey.generate()
    (folder / "public.pem").write_bytes(
        key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    )
    (folder / "private.pem").write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return folder


def _write_api(keys: Path) -> FastAPI:
    from consentry_writeapi.app import create_app
    from consentry_writeapi.settings import WriteSettings

    return create_app(
        WriteSettings(
            auth_public_key_file=keys / "public.pem", event_signing_key_file=keys / "private.pem"
        )
    )


def _check_service(keys: Path) -> FastAPI:
    from consentry_checkapi.app import create_app
    from consentry_checkapi.settings import CheckServiceSettings

    return create_app(CheckServiceSettings(auth_public_key_file=keys / "public.pem"))


def _portal(keys: Path) -> FastAPI:
    from consentry_portal.app import create_app
    from consentry_portal.settings import PortalSettings

    return create_app(PortalSettings(auth_public_key_file=keys / "public.pem"))


APIS = (
    Api(
        "Write API",
        "reference/write-api.md",
        _write_api,
        "Decisions, delegations, the catalogue, disclosures, downstream systems and their "
        "receipts, and what a party reads back (`consentry_writeapi`, port 8701).",
    ),
    Api(
        "Check service",
        "reference/check-service.md",
        _check_service,
        "Checks one at a time and in batches, the data-set filter, reservations (TDMRep, "
        "Content-Usage, CAWG) and usage reports (`consentry_checkapi`, port 8702).",
    ),
    Api(
        "Portal",
        "",
        _portal,
        "The artists' and rights holders' web pages (`consentry_portal`, port 8703).",
    ),
)


def openapi_documents() -> dict[str, dict[str, Any] | None]:
    """Each app's OpenAPI document, as the app itself serves it (``None``: it serves none).
    The apps are made with harmless settings and never started: nothing is connected."""
    found: dict[str, dict[str, Any] | None] = {}
    with _no_consentry_environment(), tempfile.TemporaryDirectory() as folder:
        keys = _keys(Path(folder))
        for api in APIS:
            app = api.build(keys)
            found[api.title] = app.openapi() if app.openapi_url else None
    return found


def html_text(text: str) -> str:
    """A description for an HTML table cell, where Markdown is not read: escaped, its code
    spans as ``<code>`` (else ``<kind>:<id>`` would vanish as an unknown tag)."""
    parts = [html.escape(part, quote=False) for part in text.split("`")]
    return "".join(f"<code>{part}</code>" if i % 2 else part for i, part in enumerate(parts))


def _for_html_cells(document: dict[str, Any]) -> dict[str, Any]:
    """A copy of ``document`` whose descriptions that the renderer puts in HTML tables
    (parameters, security schemes) are HTML."""
    document = copy.deepcopy(document)
    components = document.get("components", {})
    described: list[dict[str, Any]] = [
        parameter
        for path in document.get("paths", {}).values()
        for operation in path.values()
        if isinstance(operation, dict)
        for parameter in operation.get("parameters", [])
    ]
    described += components.get("parameters", {}).values()
    described += components.get("securitySchemes", {}).values()
    for item in described:
        if isinstance(item.get("description"), str):
            item["description"] = html_text(item["description"])
    return document


def render_openapi(document: dict[str, Any], source: str) -> str:
    """OpenAPI as Markdown, offline (essentials-openapi, the renderer of neoteroi-mkdocs'
    ``[OAD(...)]`` tag: the tag reads a file beside its page, and these pages have none)."""
    from openapidocs.mk.v3 import (  # type: ignore[import-untyped]  # ships no type information
        OpenAPIV3DocumentationHandler,
    )

    handler = OpenAPIV3DocumentationHandler(
        _for_html_cells(document), style="MKDOCS", source=source
    )
    return str(handler.write())


def api_pages() -> dict[str, str]:
    documents = openapi_documents()
    pages: dict[str, str] = {}
    overview = [
        "# HTTP APIs",
        "",
        GENERATED,
        "Each service's OpenAPI document, rendered to Markdown when the site is built from "
        "the app itself (made with harmless settings, never started), so the pages say what "
        "the code serves. A running service serves the same document at `/openapi.json` and "
        "its interactive pages at `/docs` (no internet needed).",
        "",
    ]
    for api in APIS:
        document = documents[api.title]
        if document is None:
            overview += [
                f"- **{api.title}**: {api.summary} It serves HTML pages and no API of its own: "
                "every change it makes goes through the write API with the party's own token.",
            ]
            continue
        paths = document.get("paths", {})
        operations = sum(len(ops) for ops in paths.values())
        link = Path(api.page).name
        overview += [
            f"- **[{api.title}]({link})**: {api.summary} {operations} operations on "
            f"{len(paths)} paths.",
        ]
        pages[api.page] = GENERATED + render_openapi(document, api.page)
    overview += [
        "",
        "Every refusal of both services has one body: a `reason` code and a `message` saying "
        "what was wrong and how to fix it (and, for `422`, every field at fault). The "
        "walk-through in [Getting started](../getting-started.md) shows them in use.",
        "",
    ]
    pages["reference/http-apis.md"] = "\n".join(overview)
    return pages


# --- AsyncAPI ----------------------------------------------------------------------------


def asyncapi_page() -> str:
    import yaml

    document = yaml.safe_load((ROOT / "docs" / "asyncapi.yaml").read_text())
    operations: dict[str, list[str]] = {}
    for operation in document.get("operations", {}).values():
        channel = operation["channel"]["$ref"].rsplit("/", 1)[-1]
        verb = "writes" if operation["action"] == "send" else "reads"
        principal = operation["x-principal"].removeprefix("User:")
        operations.setdefault(channel, []).append(f"{code(principal)} {verb}")
    rows = []
    for key, channel in document["channels"].items():
        kafka = channel.get("bindings", {}).get("kafka", {})
        config = kafka.get("topicConfiguration", {})
        keeps = ", ".join(config.get("cleanup.policy", []))
        retention = config.get("retention.ms")
        if retention is not None:
            keeps += (
                "; kept forever" if retention == -1 else f"; kept {retention / 86_400_000:g} days"
            )
        messages = ", ".join(code(m) for m in channel.get("messages", {}))
        rows.append(
            [
                code(channel["address"]),
                str(kafka.get("partitions", "")),
                keeps,
                messages,
                cell(str(channel.get("description", "")).removeprefix("Key: ")),
                ", ".join(operations.get(key, [])) or "—",
            ]
        )
    return "\n".join(
        [
            "# AsyncAPI: every topic",
            "",
            GENERATED,
            "The event contracts as an AsyncAPI 3 document: [asyncapi.yaml](../asyncapi.yaml), "
            "generated from the code by `python -m consentry_stack.asyncapi` (a test keeps the "
            "committed file current and validates it against AsyncAPI's published JSON "
            "Schema). AsyncAPI's own tools (code generators, Studio) read it as it is. The "
            "messages' fields are on [Events](events.md).",
            "",
            "## Channels",
            "",
            table(
                ["topic", "partitions", "cleanup", "messages", "key", "principals"],
                rows,
            ),
            "## The document",
            "",
            "```yaml",
            '--8<-- "docs/asyncapi.yaml"',
            "```",
            "",
        ]
    )
