"""What a watermark scheme is: a named channel of one modality that carries the shared payload."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar, Protocol, TypeVar, runtime_checkable

from synthgov.watermarking.falsepositives import FalsePositiveBudget
from synthgov.watermarking.payload import DecodeStats, PayloadCodec

HostT = TypeVar("HostT")


@dataclass(frozen=True)
class Reading:
    payload: int
    confidence: float  # the scheme's synchronisation z-score; > 6 is far from chance
    detail: dict[str, Any] = field(default_factory=dict)


class Unmarkable(ValueError):
    """This content cannot carry the watermark (the message says why)."""


class TooSmall(Unmarkable):
    pass


@runtime_checkable
class Scheme(Protocol[HostT]):
    name: ClassVar[str]  # "<modality>/<method>-v<N>": the key derivation and the payload table use it
    codec: PayloadCodec

    @property
    def budget(self) -> FalsePositiveBudget: ...

    def embed(self, host: HostT, key: bytes, payload: int) -> HostT: ...

    def detect(self, host: HostT, key: bytes, *, stats: DecodeStats | None = None) -> Reading | None: ...
