"""The architecture document's map of modules names exactly the modules the tree has."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
UNMAPPED = {"__init__.py", "apps.py", "urls.py"}


def mapped_paths() -> set[Path]:
    """Every file or folder the map in docs/ARCHITECTURE.md names."""
    text = (ROOT / "docs" / "ARCHITECTURE.md").read_text()
    block = text.split("## Map of the modules", 1)[1].split("```text\n", 1)[1].split("```", 1)[0]
    named, folder = set(), None
    for line in block.splitlines():
        if re.match(r"^imagetasks/\S*", line):
            folder = ROOT / line.split()[0]
        elif match := re.match(r"^  ([^\s,]+(?:, [^\s,]+)*)", line):
            named.update(folder / name for name in match.group(1).split(", "))
    return named


def modules() -> set[Path]:
    return {
        path
        for path in (ROOT / "imagetasks").rglob("*.py")
        if "migrations" not in path.parts and path.name not in UNMAPPED
    }


def test_every_module_is_on_the_map():
    named = mapped_paths()
    missing = [
        str(path.relative_to(ROOT))
        for path in modules()
        if path not in named and not any(folder in named for folder in path.parents)
    ]
    assert not missing, f"modules the map does not name: {sorted(missing)}"


def test_everything_on_the_map_exists():
    gone = [str(path.relative_to(ROOT)) for path in mapped_paths() if not path.exists()]
    assert not gone, f"the map names what the tree does not have: {sorted(gone)}"
