"""What a cloud sends, in a form the database can keep, whichever database it is.

PostgreSQL refuses NUL (``\\x00``) anywhere in text and ``jsonb``, and its columns have
lengths; SQLite takes both. A hostile or broken cloud must not make a poll fail on one
database and pass on the other, so every value taken from a cloud goes through here:
NUL becomes U+FFFD (the replacement character), and short columns are cut to size.
The whole body, as received, is kept in the snapshot's JSON (with the same NUL rule).
"""

from __future__ import annotations

import json
import re
from typing import Any

NUL = "\x00"
REPLACEMENT = "\ufffd"
# A \u0000 escape in JSON text, not preceded by an odd number of backslashes (which
# would make it the literal text "\u0000" instead).
_NUL_ESCAPE = re.compile(r"(?<!\\)((?:\\\\)*)\\u0000")


def text(value: str, limit: int | None = None) -> str:
    cleaned = value.replace(NUL, REPLACEMENT)
    return cleaned[:limit] if limit else cleaned


def json_value(value: Any) -> Any:
    """The same JSON value with every NUL in its strings (and keys) replaced."""
    encoded = json.dumps(value)
    if "\\u0000" not in encoded:
        return value
    return json.loads(_NUL_ESCAPE.sub(lambda m: m.group(1) + "\\ufffd", encoded))
