"""The one status map: every status a task or a copy can have, and what it means here.

Table, poller, filters and admin all read this module; nothing else decides
whether a status is in flight, finished, or whether to keep polling it.
Remote statuses come from the Images v2 API; local ones describe submissions
whose POST was refused, or whose outcome is not known yet.

Copies have statuses of their own (the steps of export, transfer, import and
clean-up), kept in the second half. The models read their choices from here,
so this module imports no models.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Phase(StrEnum):
    IN_FLIGHT = "in_flight"
    SUCCEEDED = "succeeded"
    FAILED = "failed"


@dataclass(frozen=True)
class Status:
    code: str
    label: str
    phase: Phase
    badge: str  # CSS modifier: badge--<badge>
    icon: str  # a character, so the badge reads without colour
    poll: bool  # poll the task's detail while it has this status
    local: bool  # a status of this dashboard, never sent by a cloud
    description: str

    @property
    def terminal(self) -> bool:
        return self.phase is not Phase.IN_FLIGHT

    @property
    def in_flight(self) -> bool:
        return self.phase is Phase.IN_FLIGHT


SUBMITTING = "submitting"
UNCONFIRMED = "unconfirmed"
REJECTED = "rejected"
LOST = "lost"
VANISHED = "vanished"
PENDING = "pending"
PROCESSING = "processing"
SUCCESS = "success"
FAILURE = "failure"

_ALL = [
    Status(SUBMITTING, "Submitting", Phase.IN_FLIGHT, "info", "↑", False, True,
           "Being sent to the cloud."),
    Status(UNCONFIRMED, "Unconfirmed", Phase.IN_FLIGHT, "warn", "?", False, True,
           "The cloud did not confirm the submission; it is being looked for."),
    Status(PENDING, "Pending", Phase.IN_FLIGHT, "info", "…", True, False,
           "Accepted by the cloud, waiting to run."),
    Status(PROCESSING, "Processing", Phase.IN_FLIGHT, "info", "↻", True, False,
           "Running on the cloud."),
    Status(SUCCESS, "Success", Phase.SUCCEEDED, "ok", "✓", False, False,
           "Finished; the result is kept."),
    Status(FAILURE, "Failure", Phase.FAILED, "bad", "✗", False, False,
           "The cloud could not complete the task."),
    Status(REJECTED, "Rejected", Phase.FAILED, "bad", "⊘", False, True,
           "The cloud refused the submission."),
    Status(LOST, "Not submitted", Phase.FAILED, "bad", "⊘", False, True,
           "The submission's outcome stayed unknown and no task was found on the cloud."),
    Status(VANISHED, "Vanished", Phase.FAILED, "warn", "⌀", False, True,
           "The cloud forgot the task before it was seen to finish; look for its result."),
]  # fmt: skip

STATUSES: dict[str, Status] = {status.code: status for status in _ALL}
REMOTE_STATUSES = frozenset(code for code, s in STATUSES.items() if not s.local)
IN_FLIGHT = frozenset(code for code, s in STATUSES.items() if s.in_flight)
TERMINAL = frozenset(code for code, s in STATUSES.items() if s.terminal)
SUCCEEDED = frozenset(code for code, s in STATUSES.items() if s.phase is Phase.SUCCEEDED)
FAILED = frozenset(code for code, s in STATUSES.items() if s.phase is Phase.FAILED)
POLLED = frozenset(code for code, s in STATUSES.items() if s.poll)
CHOICES = [(s.code, s.label) for s in _ALL]


def codes(phase: Phase) -> list[str]:
    """The statuses of a phase, in the map's order (as filter links list them)."""
    return [status.code for status in _ALL if status.phase is phase]


def get(code: str) -> Status:
    """The status for a code; an unknown code (a cloud inventing one) reads as in flight."""
    return STATUSES.get(code) or Status(
        code, code.title(), Phase.IN_FLIGHT, "warn", "?", True, False, "Unknown status."
    )


# Copies ------------------------------------------------------------------------------


@dataclass(frozen=True)
class CopyStatus:
    code: str
    label: str
    badge: str  # CSS modifier: badge--<badge>
    icon: str  # a character, so the badge reads without colour
    step: str  # the machine's step that runs while a copy has this status; "" when final
    description: str

    @property
    def final(self) -> bool:
        """Nothing more will happen to a copy with this status: no step is left to run."""
        return not self.step


COPY_EXPORTING = "exporting"
COPY_TRANSFERRING = "transferring"
COPY_IMPORTING = "importing"
COPY_CLEANING = "cleaning"
COPY_SUCCEEDED = "succeeded"
COPY_FAILED = "failed"

_ALL_COPY = [
    CopyStatus(COPY_EXPORTING, "Exporting", "info", "↻", "export",
               "The image is being exported to a staging container here."),
    CopyStatus(COPY_TRANSFERRING, "Transferring", "info", "⇄", "transfer",
               "The exported object is being streamed to the target's object storage."),
    CopyStatus(COPY_IMPORTING, "Importing", "info", "↻", "import",
               "The target cloud is importing the object as an image."),
    CopyStatus(COPY_CLEANING, "Cleaning up", "info", "…", "cleanup",
               "The staging objects are being removed."),
    CopyStatus(COPY_SUCCEEDED, "Copied", "ok", "✓", "",
               "The image is in the target cloud; the staging objects are gone."),
    CopyStatus(COPY_FAILED, "Failed", "bad", "✗", "",
               "The copy did not complete; the reason is kept and the staging objects removed."),
]  # fmt: skip

COPY_STATUSES: dict[str, CopyStatus] = {status.code: status for status in _ALL_COPY}
COPY_FINAL = frozenset(code for code, s in COPY_STATUSES.items() if s.final)
COPY_IN_FLIGHT = frozenset(code for code, s in COPY_STATUSES.items() if not s.final)
COPY_CHOICES = [(s.code, s.label) for s in _ALL_COPY]


def copy_status(code: str) -> CopyStatus:
    """The status for a copy's code; copies only ever hold codes of this map."""
    return COPY_STATUSES[code]
