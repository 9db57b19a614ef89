"""How a page looks to people: on a desktop, on a 390 px phone, in dark mode.

``look_at`` checks the page as it is now in all three: axe-core finds no
serious or critical violation, the phone page never scrolls sideways, and a
screenshot of each is kept (``var/screenshots/``, or the folder named by
``IMAGETASKS_SCREENSHOTS``, which ``make screenshots`` points at docs/).
"""

from __future__ import annotations

import os
from pathlib import Path

from axe_playwright_python.sync_playwright import Axe

PHONE = {"width": 390, "height": 844}
BLOCKING = ("serious", "critical")
SCREENSHOTS = Path(
    os.environ.get("IMAGETASKS_SCREENSHOTS")
    or Path(__file__).resolve().parents[2] / "var" / "screenshots"
)
_axe = Axe()


def violations(page) -> list[str]:
    """axe-core's serious and critical findings on the page, one readable line each."""
    found = _axe.run(page).response["violations"]
    return [
        f"{v['id']} ({v['impact']}): {v['help']} — "
        + "; ".join(node["target"][0] if node["target"] else "?" for node in v["nodes"][:5])
        for v in found
        if v["impact"] in BLOCKING
    ]


def assert_accessible(page, what: str) -> None:
    found = violations(page)
    assert not found, f"axe-core on {what}:\n" + "\n".join(found)


def sideways_overflow(page) -> int:
    """Pixels the page is wider than the window (0 when it fits)."""
    return page.evaluate(
        "Math.max(document.documentElement.scrollWidth, document.body.scrollWidth)"
        " - document.documentElement.clientWidth"
    )


def shoot(page, name: str) -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def look_at(page, name: str) -> None:
    """The page as it is, on a desktop, a phone and in dark mode (see the module's doc)."""
    assert_accessible(page, f"{name} on a desktop")
    shoot(page, f"{name}-desktop")
    desktop = page.viewport_size
    page.set_viewport_size(PHONE)
    try:
        overflow = sideways_overflow(page)
        assert overflow <= 0, f"{name} scrolls {overflow} px sideways on a 390 px phone"
        assert_accessible(page, f"{name} on a phone")
        shoot(page, f"{name}-phone")
    finally:
        page.set_viewport_size(desktop)
    page.emulate_media(color_scheme="dark")
    try:
        assert_accessible(page, f"{name} in dark mode")
        shoot(page, f"{name}-dark")
    finally:
        page.emulate_media(color_scheme="light")
