"""``python -m consentry_materialiser``: run one materialiser worker of the consumer group."""

from __future__ import annotations

import faust

from consentry_materialiser.app import create_app
from consentry_materialiser.settings import MaterialiserSettings


def main() -> None:
    app = create_app(MaterialiserSettings())
    faust.Worker(app, loglevel="INFO", quiet=True).execute_from_commandline()


if __name__ == "__main__":
    main()
