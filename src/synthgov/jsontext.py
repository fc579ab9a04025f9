"""JSON text that is always valid UTF-8 (JSON Lines, ``--json`` output, encoded results)."""

from __future__ import annotations

import json
from typing import Any


def dumps(obj: Any, **options: Any) -> str:
    """``json.dumps(obj, ensure_ascii=False)``, readable as it is, unless the text holds a lone
    surrogate: a file name that is not UTF-8, as Python decodes it (PEP 383), which UTF-8 cannot
    write. Then the whole text is written with ``\\u`` escapes (``ensure_ascii``): valid UTF-8 that
    JSON readers accept, and that Python's ``json`` reads back to the very same name (so a
    ``--resume`` finds it)."""
    text = json.dumps(obj, ensure_ascii=False, **options)
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        text = json.dumps(obj, ensure_ascii=True, **options)
    return text
