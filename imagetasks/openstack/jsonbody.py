"""Reading a cloud's JSON: whatever arrives is a value or a ``ValueError``, never a crash.

``json.loads`` raises ``RecursionError`` for arrays or objects nested deeper than the
interpreter's stack (a few hundred levels is enough from a hostile server); callers
already turn ``ValueError`` into a ``MalformedResponse`` with a clear message.
"""

from __future__ import annotations

import json
from typing import Any


def parse(content: bytes | str) -> Any:
    try:
        return json.loads(content)
    except RecursionError:
        raise ValueError("JSON nested too deeply to read") from None
