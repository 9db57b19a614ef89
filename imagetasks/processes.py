"""Whether a process is still running, for leftovers named after the process that made them."""

from __future__ import annotations

import os


def process_exists(pid: int) -> bool:
    """True while ``pid`` runs, also when it is another user's (signal 0 checks, sends nothing)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
