"""The copy's status map: label, badge and whether anything more will happen."""

from __future__ import annotations

from dataclasses import dataclass

from imagetasks.dashboard.models.copies import Copy


@dataclass(frozen=True)
class CopyState:
    code: str
    label: str
    badge: str  # CSS modifier: badge--<badge>
    icon: str
    final: bool
    description: str


_ALL = [
    CopyState(Copy.Status.EXPORTING, "Exporting", "info", "↻", False,
              "The image is being exported to a staging container here."),
    CopyState(Copy.Status.TRANSFERRING, "Transferring", "info", "⇄", False,
              "The exported object is being streamed to the target's object storage."),
    CopyState(Copy.Status.IMPORTING, "Importing", "info", "↻", False,
              "The target cloud is importing the object as an image."),
    CopyState(Copy.Status.CLEANING, "Cleaning up", "info", "…", False,
              "The staging objects are being removed."),
    CopyState(Copy.Status.SUCCEEDED, "Copied", "ok", "✓", True,
              "The image is in the target cloud; the staging objects are gone."),
    CopyState(Copy.Status.FAILED, "Failed", "bad", "✗", True,
              "The copy did not complete; the reason is kept and the staging objects removed."),
]  # fmt: skip

STATES: dict[str, CopyState] = {state.code: state for state in _ALL}
FINAL = frozenset(code for code, state in STATES.items() if state.final)
IN_FLIGHT = frozenset(code for code, state in STATES.items() if not state.final)


def get(code: str) -> CopyState:
    return STATES[code]
