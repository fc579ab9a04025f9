"""GB 45438 5.x b): an explicit text label needs an AI element and a generation element."""

from __future__ import annotations

import re

AI_ELEMENT = re.compile(r"人工智能|AI", re.IGNORECASE)
GENERATION_ELEMENT = re.compile(r"生成|合成")


def explicit_text_ok(text: str, *, corner_mark: bool = False) -> bool:
    """True when ``text`` satisfies the element rule (a text corner mark only needs 「AI」, 5.1 c)."""
    if corner_mark:
        return bool(AI_ELEMENT.search(text))
    return bool(AI_ELEMENT.search(text) and GENERATION_ELEMENT.search(text))
