"""The documentation site's metrics and events pages (``docs_reference`` builds the
rest): every metric the project defines, from the metric definitions, and every event
from the event models, with the topic that carries it."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, cast

from consentry_stack.docs_reference import (
    GENERATED,
    cell,
    code,
    defined_in_project,
    first_paragraph,
    project_modules,
    table,
    type_name,
)

if TYPE_CHECKING:
    from prometheus_client.registry import Collector
    from pydantic import BaseModel

    from consentry_sdk.checker import ConsentChecker


# --- metrics -----------------------------------------------------------------------------


@dataclass(frozen=True)
class MetricRow:
    name: str
    kind: str
    labels: tuple[str, ...]
    help: str
    package: str


class _IdleChecker:
    """What ``CheckerCollector`` reads of a checker, for one that has answered nothing."""

    answer_counts: Mapping[tuple[str, str], int] = {}  # read, never written
    cache = None


def _checker_collector(cls: type[Collector]) -> Collector:
    return cls(cast("ConsentChecker", _IdleChecker()))  # type: ignore[call-arg]  # CheckerCollector's own argument


COLLECTORS: dict[str, Callable[[type[Collector]], Collector]] = {
    "consentry_sdk.metrics.CheckerCollector": _checker_collector,
}
"""How to make an instance of each custom collector (one that names its metrics only at
scrape time), to read its metrics' names, help and labels. A collector not listed here
fails the build: add it."""

EXPOSED_SUFFIX = {"counter": "_total", "info": "_info"}


def _package(module: str) -> str:
    return module.split(".")[0]


def metric_rows() -> list[MetricRow]:
    """Every ``consentry_*`` metric the project declares: the metric objects its modules
    hold, and the metric families of its custom collectors."""
    from prometheus_client.metrics import MetricWrapperBase
    from prometheus_client.registry import Collector

    rows: dict[str, MetricRow] = {}
    holders: dict[int, list[str]] = {}
    wrappers: dict[int, MetricWrapperBase] = {}
    custom: dict[str, type[Collector]] = {}
    for module in project_modules():
        for value in vars(module).values():
            if isinstance(value, MetricWrapperBase):
                holders.setdefault(id(value), []).append(module.__name__)
                wrappers[id(value)] = value
            elif (
                isinstance(value, type)
                and Collector in value.__mro__  # explicitly (issubclass trips on protocols)
                and MetricWrapperBase not in value.__mro__
                and defined_in_project(value)
            ):
                custom[f"{value.__module__}.{value.__qualname__}"] = value
    for key, metric in wrappers.items():
        # The module that declares it: a metrics module where one holds it, else the first.
        where = sorted(holders[key], key=lambda m: (not m.endswith(".metrics"), m))[0]
        kind = str(metric._type)
        name = metric._name + EXPOSED_SUFFIX.get(kind, "")
        rows[name] = MetricRow(
            name, kind, tuple(metric._labelnames), metric._documentation, _package(where)
        )
    for qualified, cls in sorted(custom.items()):
        make = COLLECTORS.get(qualified)
        if make is None:
            raise RuntimeError(
                f"{qualified} is a custom Prometheus collector the metrics reference cannot "
                "describe: add how to make one to COLLECTORS in consentry_stack.docs_reference"
            )
        for family in make(cls).collect():
            name = family.name + EXPOSED_SUFFIX.get(family.type, "")
            labels = tuple(getattr(family, "_labelnames", ()))
            rows[name] = MetricRow(
                name, family.type, labels, family.documentation, _package(cls.__module__)
            )
    return sorted((r for r in rows.values() if r.name.startswith("consentry_")), key=_by_package)


def _by_package(row: MetricRow) -> tuple[str, str]:
    return (row.package, row.name)


def metrics_page() -> str:
    rows = metric_rows()
    out = [
        "# Metrics",
        "",
        GENERATED,
        f"Every `consentry_*` metric the code declares ({len(rows)}), read from the metric "
        "definitions when the site is built, by the package that declares it. Counters are "
        "exposed with `_total`; histograms add `_bucket`, `_sum` and `_count`. Label values "
        "are bounded (never a party or track id). What to watch and what to do when an alert "
        "fires: [Operating Consentry](../guides/operators.md).",
        "",
    ]
    package = ""
    for row in rows:
        if row.package != package:
            package = row.package
            out += [
                "",
                f"## {code(package)}",
                "",
                "| metric | type | labels | help |",
                "|---|---|---|---|",
            ]
        labels = ", ".join(code(label) for label in row.labels) or "—"
        out.append(f"| {code(row.name)} | {row.kind} | {labels} | {cell(row.help)} |")
    return "\n".join(out) + "\n"


# --- events ------------------------------------------------------------------------------


def topics_of_events() -> dict[str, list[str]]:
    """Event name -> the topics that carry it (from the AsyncAPI generator's table)."""
    from consentry_stack.asyncapi import CARRIED

    carried: dict[str, list[str]] = {}
    for topic, what in CARRIED.items():
        for message in what.messages:
            carried.setdefault(message, []).append(topic)
    return carried


def _field_rows(model: type[BaseModel]) -> list[list[str]]:
    return [
        [
            code(name),
            cell(code(type_name(info.annotation))),
            "yes" if info.is_required() else "no",
            cell(info.description or ""),
        ]
        for name, info in model.model_fields.items()
    ]


def events_page() -> str:
    from consentry_events.schema import MODELS

    carried = topics_of_events()
    out = [
        "# Events",
        "",
        GENERATED,
        "Every event model of `consentry_events`, read from the models when the site is built: "
        "its fields, and the topic that carries it. The JSON Schemas are the same models "
        "exported (`python -m consentry_events.schema`, kept in `events/schemas/`); the "
        "[AsyncAPI document](asyncapi.md) adds keys, headers and who may write or read "
        "each topic.",
        "",
    ]
    for name, model in MODELS.items():
        out += [f"## {code(name)}: {model.__name__}", ""]
        doc = first_paragraph(model.__doc__)
        if doc:
            out += [doc, ""]
        topics = carried.get(name, [])
        if topics:
            out += ["Carried on " + ", ".join(code(t) for t in topics) + ".", ""]
        out += [table(["field", "type", "required", "description"], _field_rows(model))]
        schema = json.dumps(model.model_json_schema(), indent=2, sort_keys=True)
        out += [f'??? note "JSON Schema of {name}"', "", "    ```json"]
        out += ["    " + line for line in schema.splitlines()]
        out += ["    ```", ""]
    return "\n".join(out)
