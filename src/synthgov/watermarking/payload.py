"""The payload layout every scheme shares: a 64-bit payload and a keyed 32-bit MAC, convolutionally
coded into antipodal symbols, list-decoded, and accepted only when the MAC checks.

The payload is a random number registered with the generation record (the payload table), so the
mark carries no personal data; the MAC (HMAC-SHA256, truncated) makes a chance or forged reading
fail with probability 2^-mac_bits per candidate word.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from synthgov.watermarking.ecc import ConvolutionalCode

if TYPE_CHECKING:
    import numpy as np


def _bits(value: int, n: int) -> list[int]:
    return [(value >> (n - 1 - i)) & 1 for i in range(n)]


def _int(bits: list[int]) -> int:
    return int("".join(map(str, bits)), 2) if bits else 0


@dataclass
class DecodeStats:
    """What a reading cost, for the false-positive arithmetic (the benchmark counts these)."""

    decodes: int = 0
    mac_checks: int = 0


@dataclass(frozen=True)
class PayloadCodec:
    payload_bits: int = 64
    mac_bits: int = 32
    code: ConvolutionalCode = field(default_factory=ConvolutionalCode)
    mac_context: bytes = b"synthgov-watermark-v2/mac"

    @property
    def info_bits(self) -> int:
        return self.payload_bits + self.mac_bits

    @property
    def coded_bits(self) -> int:
        return self.code.coded_length(self.info_bits)

    def check_payload(self, payload: int) -> None:
        if not 0 <= payload < 1 << self.payload_bits:
            raise ValueError(f"payload must be a {self.payload_bits}-bit unsigned integer")

    def mac(self, key: bytes, payload: int) -> int:
        message = self.mac_context + payload.to_bytes(self.payload_bits // 8, "big")
        digest = hmac.new(key, message, hashlib.sha256).digest()
        return int.from_bytes(digest[: self.mac_bits // 8], "big")

    def symbols(self, key: bytes, payload: int) -> np.ndarray:
        """The coded payload as antipodal symbols (bit 0 -> +1, bit 1 -> -1), float32."""
        import numpy as np

        self.check_payload(payload)
        info = _bits(payload, self.payload_bits) + _bits(self.mac(key, payload), self.mac_bits)
        return 1.0 - 2.0 * self.code.encode(info).astype(np.float32)

    def decode(self, soft: np.ndarray, key: bytes, *, list_size: int = 1,
               stats: DecodeStats | None = None) -> int | None:
        """The payload whose MAC checks among the ``list_size`` best words for these soft symbols."""
        import numpy as np

        norm = soft / (float(np.std(soft)) + 1e-9)
        if stats is not None:
            stats.decodes += 1
        for bits in self.code.decode_list(norm, self.info_bits, list_size):
            if stats is not None:
                stats.mac_checks += 1
            payload, tag = _int(bits[: self.payload_bits]), _int(bits[self.payload_bits :])
            width = self.mac_bits // 8
            if hmac.compare_digest(tag.to_bytes(width, "big"), self.mac(key, payload).to_bytes(width, "big")):
                return payload
        return None
