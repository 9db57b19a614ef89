"""Copies between clouds, for tests that follow them to their end."""

from __future__ import annotations

from imagetasks.dashboard.models import Copy


def finished(copy: Copy) -> Copy | None:
    """``copy``, read again, once it has ended; None while it runs."""
    copy.refresh_from_db()
    return copy if copy.state.final else None


def timeline(copy: Copy) -> list[tuple[str, str]]:
    """The steps ``copy`` went through, each with its status, in order."""
    return list(copy.events.values_list("step", "status"))
