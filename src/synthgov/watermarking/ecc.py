"""The rate-1/2 convolutional code (K = 7, generators 171/133 octal, the NASA/Voyager code) and
its soft-decision list Viterbi decoder.

Hand-written: the decoder must return a *list* of the best words for the MAC to choose from, and
must run on numpy without a compiled extension; the maintained Python codecs (commpy, for one)
decode the single best path only.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import numpy as np


@dataclass(frozen=True)
class ConvolutionalCode:
    constraint: int = 7
    polys: tuple[int, ...] = (0o171, 0o133)

    def coded_length(self, info_bits: int) -> int:
        """Coded bits for ``info_bits`` information bits, the zero tail included."""
        return len(self.polys) * (info_bits + self.constraint - 1)

    def encode(self, bits: list[int]) -> np.ndarray:
        import numpy as np

        out: list[int] = []
        state, mask = 0, (1 << self.constraint) - 1
        for b in [*bits, *[0] * (self.constraint - 1)]:
            state = ((state << 1) | b) & mask
            out.extend(bin(state & poly).count("1") & 1 for poly in self.polys)
        return np.array(out, dtype=np.int8)

    @cached_property
    def _trellis(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """For each next state: its two predecessor states, the input bit, and both branch outputs."""
        import numpy as np

        k = self.constraint
        n_states = 1 << (k - 1)
        nxt = np.arange(n_states)
        pred = np.stack([nxt >> 1, (nxt >> 1) | (1 << (k - 2))], axis=1)
        bit = (nxt & 1).astype(np.int8)
        out = np.zeros((n_states, 2, len(self.polys)), dtype=np.float64)
        for s_next in range(n_states):
            for which in range(2):
                reg = (int(pred[s_next, which]) << 1 | int(bit[s_next])) & ((1 << k) - 1)
                for j, poly in enumerate(self.polys):
                    out[s_next, which, j] = 1.0 - 2.0 * (bin(reg & poly).count("1") & 1)
        return pred, bit, out

    def decode_list(self, soft: np.ndarray, info_bits: int, size: int = 1) -> list[list[int]]:
        """The ``size`` most likely information words, best first (``soft`` > 0 means bit 0; BPSK
        0 -> +1). Parallel list decoding: every state keeps its ``size`` best paths. A MAC then picks
        the right one, which gains about half a decibel over the single best path; each extra
        candidate costs one more chance of 2^-mac_bits for a wrong word to pass."""
        import numpy as np

        pred, bit, out = self._trellis
        n_states = pred.shape[0]
        steps = np.asarray(soft, dtype=np.float64).reshape(-1, len(self.polys))
        metric = np.full((n_states, size), -np.inf)
        metric[0, 0] = 0.0
        back = np.zeros((len(steps), n_states, size), dtype=np.int16)  # survivor -> (predecessor, its rank)
        for t, sym in enumerate(steps):
            branch = out @ sym  # (states, 2)
            cand = np.concatenate([metric[pred[:, 0]] + branch[:, :1], metric[pred[:, 1]] + branch[:, 1:]], axis=1)
            keep = np.argpartition(-cand, size - 1, axis=1)[:, :size] if size > 1 else np.argmax(cand, axis=1)[:, None]
            back[t] = keep
            metric = np.take_along_axis(cand, keep, axis=1)
        words = []
        for rank in np.argsort(-metric[0]):  # the tail drives the encoder back to state 0
            if not np.isfinite(metric[0, rank]):
                break
            state, bits, r = 0, [], int(rank)
            for t in range(len(steps) - 1, -1, -1):
                bits.append(int(bit[state]))
                which, r = divmod(int(back[t, state, r]), size)
                state = int(pred[state, which])
            bits.reverse()
            words.append(bits[:info_bits])
        return words
