"""The documentation site's reference pages, generated from the code at build time so they
cannot drift: every setting from the settings classes, every metric from the metric
definitions, every event from the event models, the HTTP APIs from the services' own
OpenAPI documents (rendered to Markdown offline), the AsyncAPI document's channels, and
the Kafka guide of deploy/kafka/README.md. Nothing generated is committed. This module
holds the hook, the settings page and what the others share; ``docs_models`` writes the
metrics and events pages, ``docs_interfaces`` the HTTP APIs and AsyncAPI pages.

MkDocs runs this module as a hook (``hooks:`` in mkdocs.yml): ``on_files`` adds the pages
to the site. ``python -m consentry_stack.docs_reference DIR`` writes them to DIR instead,
to read them without building the site.

Imports of the project and its libraries happen inside the functions: MkDocs puts this
file's folder first on ``sys.path`` while it loads a hook, where ``kafka.py`` and its
neighbours would shadow libraries of the same name.
"""

from __future__ import annotations

import importlib
import json
import pkgutil
import sys
import types
import typing
from collections.abc import Iterable
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

if TYPE_CHECKING:
    from mkdocs.config.defaults import MkDocsConfig
    from mkdocs.structure.files import Files
    from pydantic.fields import FieldInfo
    from pydantic_settings import BaseSettings


ROOT = Path(__file__).resolve().parents[2]
SOURCES = ("events", "services", "tools")
"""The folders whose packages make up the project (pyproject.toml's package roots)."""

GENERATED = "<!-- Generated at build time by tools/consentry_stack/docs_*.py. -->\n"

# --- the project's modules ---------------------------------------------------------------


@cache
def project_packages() -> tuple[str, ...]:
    """The top-level packages under ``SOURCES``."""
    return tuple(
        sorted(
            info.name
            for source in SOURCES
            for info in pkgutil.iter_modules([str(ROOT / source)])
            if info.ispkg
        )
    )


@cache
def project_modules() -> tuple[types.ModuleType, ...]:
    """Every module of the project, imported. ``__main__`` modules are left out: they are
    entry points, and two of them run their command when imported; what they use is
    defined in the modules they import. Any other module that fails to import fails the
    build: a reference that silently missed a module would be wrong."""
    for source in SOURCES:
        if str(ROOT / source) not in sys.path:
            sys.path.append(str(ROOT / source))
    found: list[types.ModuleType] = []
    for name in project_packages():
        package = importlib.import_module(name)
        found.append(package)
        for info in pkgutil.walk_packages(package.__path__, f"{name}."):
            if info.name.rsplit(".", 1)[-1] != "__main__":
                found.append(importlib.import_module(info.name))
    return tuple(found)


def defined_in_project(obj: object) -> bool:
    return str(getattr(obj, "__module__", "")).split(".")[0] in project_packages()


# --- Markdown helpers --------------------------------------------------------------------


def cell(text: str) -> str:
    """``text`` as one table cell: one line, pipes and angle brackets escaped outside code
    spans (inside them Markdown shows them as they are)."""
    parts = " ".join(text.split()).split("`")
    for i in range(0, len(parts), 2):  # outside code spans
        parts[i] = parts[i].replace("|", r"\|").replace("<", "&lt;")
    return "`".join(parts)


def code(text: str) -> str:
    """``text`` as a code span (with enough backticks around those it holds)."""
    return f"`` {text} ``" if "`" in text else f"`{text}`"


def table(header: Iterable[str], rows: Iterable[Iterable[str]]) -> str:
    head = list(header)
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines) + "\n"


def first_paragraph(doc: str | None) -> str:
    """The first paragraph of a docstring, on one line."""
    if not doc:
        return ""
    return " ".join(doc.strip().split("\n\n")[0].split())


def type_name(annotation: Any) -> str:
    """A type as a reader would write it: ``Path | None``, ``'PLAINTEXT' | 'SSL'``."""
    origin, args = typing.get_origin(annotation), typing.get_args(annotation)
    if origin is typing.Annotated:
        return type_name(args[0])
    if origin is typing.Literal:
        return " | ".join(repr(arg) for arg in args)
    if origin in (typing.Union, types.UnionType):
        return " | ".join(type_name(arg) for arg in args)
    if annotation is type(None):
        return "None"
    if origin is not None:
        name = getattr(origin, "__name__", str(origin))
        return f"{name}[{', '.join(type_name(arg) for arg in args)}]"
    if isinstance(annotation, type):
        return annotation.__name__
    return str(annotation).replace("typing.", "")


# --- settings ----------------------------------------------------------------------------


def settings_classes() -> list[type[BaseSettings]]:
    """Every settings class of the project that reads the environment under a prefix of
    its own (mixins without a prefix show in the classes that use them)."""
    from pydantic_settings import BaseSettings

    found: dict[str, type[BaseSettings]] = {}
    for module in project_modules():
        for value in vars(module).values():
            if (
                isinstance(value, type)
                and issubclass(value, BaseSettings)
                and defined_in_project(value)
                and value.model_config.get("env_prefix")
            ):
                found[f"{value.__module__}.{value.__qualname__}"] = value
    return sorted(found.values(), key=lambda c: (c.model_config.get("env_prefix", ""), c.__name__))


def default_of(info: FieldInfo) -> str:
    """A field's default as the environment would spell it."""
    from pydantic import TypeAdapter

    if info.is_required():
        return "**required**"
    value = info.get_default(call_default_factory=True, validated_data={})
    if value is None:
        return "unset"
    shown = TypeAdapter(cast(Any, info.annotation)).dump_python(value, mode="json")
    text = shown if isinstance(shown, str) else json.dumps(shown, separators=(",", ":"))
    return code(text) if text else '`""`'


def settings_page() -> str:
    out = [
        "# Settings",
        "",
        GENERATED,
        "Every service reads one pydantic-settings class from the environment: each field "
        "is the variable of the class's prefix and the field's name in capitals. Read from "
        "the classes themselves when the site is built. [Configuration]"
        "(../guides/configuration.md) says which service reads which class.",
        "",
    ]
    for cls in settings_classes():
        prefix = str(cls.model_config.get("env_prefix", ""))
        out += [f"## {code(prefix + '*')}: {cls.__name__}", ""]
        out += [f"{code(f'{cls.__module__}.{cls.__qualname__}')}", ""]
        doc = first_paragraph(cls.__dict__.get("__doc__"))
        if doc:
            out += [doc, ""]
        rows = [
            [
                code(prefix + name.upper()),
                cell(code(type_name(info.annotation))),
                cell(default_of(info)),
                cell(info.description or ""),
            ]
            for name, info in cls.model_fields.items()
        ]
        out += [table(["variable", "type", "default", "description"], rows)]
    return "\n".join(out)


# --- pages copied from elsewhere in the repository ---------------------------------------


def kafka_guide_page() -> str:
    """deploy/kafka/README.md, the principals and ACLs a test runs on a real broker."""
    return GENERATED + (ROOT / "deploy" / "kafka" / "README.md").read_text()


PICTURE = ROOT / "bench" / "results" / "propagation.png"


def pages() -> dict[str, str | bytes]:
    """Every generated file, by its path in the site's sources."""
    from consentry_stack.docs_interfaces import api_pages, asyncapi_page
    from consentry_stack.docs_models import events_page, metrics_page

    found: dict[str, str | bytes] = {
        "reference/settings.md": settings_page(),
        "reference/metrics.md": metrics_page(),
        "reference/events.md": events_page(),
        "reference/asyncapi.md": asyncapi_page(),
        "guides/kafka-principals.md": kafka_guide_page(),
        **api_pages(),
    }
    if PICTURE.exists():  # written by `make bench` beside results.md
        found["performance/propagation.png"] = PICTURE.read_bytes()
    return found


# --- the MkDocs hook ---------------------------------------------------------------------


def on_files(files: Files, config: MkDocsConfig) -> Files:
    from mkdocs.structure.files import File

    for path, content in pages().items():
        files.append(File.generated(config, path, content=content))
    return files


def main(argv: list[str]) -> int:
    target = Path(argv[1] if len(argv) > 1 else "site-reference")
    for path, content in pages().items():
        out = target / path
        out.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            out.write_bytes(content)
        else:
            out.write_text(content)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv))
