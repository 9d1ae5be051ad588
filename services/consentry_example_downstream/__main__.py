"""``python -m consentry_example_downstream``: keep a training-set manifest current."""

from __future__ import annotations

import asyncio
import logging

from consentry_example_downstream.trainer import ExampleSettings, run


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    asyncio.run(run(ExampleSettings()))


if __name__ == "__main__":
    main()
