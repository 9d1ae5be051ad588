"""The ``acl`` lines of deploy/kafka/README.md, read from the guide itself: run for real
by the ACL test, compared with the Kubernetes ``KafkaUser``s by the manifests' test, and
the principals of the AsyncAPI document (``consentry_stack.asyncapi``)."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

from consentry_events import CATALOGUE, CONSENT_CHANGES

GUIDE = Path(__file__).parents[2] / "deploy" / "kafka" / "README.md"
"""Read from the repository (the guide is not packaged)."""


def documented_acls() -> list[list[str]]:
    """The arguments of every ``acl`` line in the guide, its shell variables filled in."""
    text = GUIDE.read_text().replace("\\\n", " ")
    variables = {"CONSENT": CONSENT_CHANGES.name, "CATALOGUE": CATALOGUE.name}
    lines = [line for line in text.splitlines() if line.startswith("acl --")]
    return [
        [re.sub(r"\$(\w+)", lambda m: variables[m.group(1)], arg) for arg in shlex.split(line)[1:]]
        for line in lines
    ]


Grant = tuple[str, str, str, str, str]
"""(principal, resource type, resource name, pattern type, operation)."""


def documented_grants() -> set[Grant]:
    """Each ``acl`` line as one grant per operation: ``User:x`` -> ``x``; ``--cluster``
    is the resource ``cluster``; ``--resource-pattern-type prefixed`` a prefix."""
    grants: set[Grant] = set()
    for args in documented_acls():
        principal = args[args.index("--allow-principal") + 1].removeprefix("User:")
        operations = [args[i + 1] for i, a in enumerate(args) if a == "--operation"]
        pattern = "prefix" if "prefixed" in args else "literal"
        if "--cluster" in args:
            resource = ("cluster", "kafka-cluster", "literal")
        else:
            kind = next(k for k in ("topic", "group") if f"--{k}" in args)
            resource = (kind, args[args.index(f"--{kind}") + 1], pattern)
        grants |= {(principal, *resource, op) for op in operations}
    return grants
