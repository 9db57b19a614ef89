"""The `.env` file beside the project: ``KEY=value`` lines that fill in the environment.

docker compose reads the same file. A variable already set in the environment wins,
so a value given on the command line overrides the file. Quotes around a value are
removed; ``#`` starts a comment line; ``export KEY=value`` is accepted.
"""

from __future__ import annotations

import os
from pathlib import Path


def parse(text: str) -> dict[str, str]:
    values: dict[str, str] = {}
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        line = line.removeprefix("export ").strip()
        key, separator, value = line.partition("=")
        key = key.strip()
        if not separator or not key.isidentifier():
            raise ValueError(f".env line {number} is not KEY=value: {raw!r}")
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
            value = value[1:-1]
        values[key] = value
    return values


def load(path: Path) -> dict[str, str]:
    """Put the file's variables into ``os.environ`` (unless already set); returns them."""
    if not path.is_file():
        return {}
    values = parse(path.read_text())
    for key, value in values.items():
        os.environ.setdefault(key, value)
    return values
