"""Provider codes per TC260-PG-20252A (服务提供者编码规则), spec §4.6.

Layout (27 characters, digits and upper-case letters): ``00`` format code, then the 20-character
subject code (``1`` organisation, ``1`` bound to the USCC, the 18-character USCC), then the 5-character
service extension (``00000``, or ``1``/``2`` for generation/propagation plus a 4-character code).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from stdnum.cn import uscc
from stdnum.exceptions import ValidationError as StdnumError

from synthgov.errors import InvalidInput

CODE_RE = re.compile(r"^00[0-9A-Z]{25}$")


@dataclass(frozen=True)
class ProviderCode:
    code: str
    uscc: str
    service_type: str  # "0" unused, "1" generation, "2" propagation
    service_code: str

    @property
    def is_generation(self) -> bool:
        return self.service_type in {"0", "1"}


def parse_provider_code(code: str) -> ProviderCode:
    """Validate a PG-20252A organisation code; raise :class:`InvalidInput` naming what is wrong."""
    if len(code) != 27:
        raise InvalidInput(f"provider code must be 27 characters, got {len(code)}")
    if not CODE_RE.match(code):
        raise InvalidInput("provider code must start with '00' and use only digits and upper-case letters")
    subject_type, binding = code[2], code[3]
    if subject_type != "1" or binding != "1":
        raise InvalidInput(
            "only organisation codes bound to a Unified Social Credit Code ('0011…') can be validated; "
            "the individual layout of TC260-PG-20252A is not published in a form we can check"
        )
    credit = code[4:22]
    try:
        uscc.validate(credit)
    except StdnumError as exc:
        raise InvalidInput(f"the USCC {credit} inside the provider code is invalid: {exc}") from exc
    extension = code[22:]
    if extension[0] not in "012":
        raise InvalidInput("service extension must start with 0 (unused), 1 (generation) or 2 (propagation)")
    if extension[0] == "0" and extension != "00000":
        raise InvalidInput("an unused service extension must be '00000'")
    return ProviderCode(code=code, uscc=credit, service_type=extension[0], service_code=extension[1:])


def make_provider_code(credit_code: str, *, service_type: str = "1", service_code: str = "0001") -> str:
    """Compose an organisation code from a USCC (it must come from the entity's registration)."""
    code = f"0011{credit_code}{service_type}{service_code}" if service_type != "0" else f"0011{credit_code}00000"
    parse_provider_code(code)
    return code
