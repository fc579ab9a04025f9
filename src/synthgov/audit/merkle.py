"""RFC 9162 Merkle tree hashing, proofs and their verification (the reference algorithms).

Leaves hash as ``H(0x00 || leaf)`` and interior nodes as ``H(0x01 || left || right)``; the tree over
``n`` leaves splits at the largest power of two below ``n`` (RFC 9162 §2.1.1). ``H`` is SM3 or
SHA-256. Everything here is pure and storage-free: callers supply subtree hashes through a
``subtree(lo, hi)`` function, so the same code serves the database, exports and tests.

Hand-written: pymerkle (the Python peer, compared in bench/) has no SM3, no streaming verification
of a million-entry log and no range roots for partial exports.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable

HASHES = ("sm3", "sha256")
Subtree = Callable[[int, int], bytes]


class ProofError(ValueError):
    """A proof or tree head does not verify; the message says exactly what failed."""


def hasher(name: str) -> Callable[[bytes], bytes]:
    if name not in HASHES:
        raise ValueError(f"unknown Merkle hash {name!r}; use one of {', '.join(HASHES)}")
    base = hashlib.new(name)

    def digest(data: bytes) -> bytes:
        h = base.copy()
        h.update(data)
        return h.digest()

    return digest


class Tree:
    """Hash functions of one algorithm."""

    def __init__(self, alg: str) -> None:
        self.alg = alg
        self.h = hasher(alg)
        self.empty = self.h(b"")

    def leaf(self, data: bytes) -> bytes:
        return self.h(b"\x00" + data)

    def node(self, left: bytes, right: bytes) -> bytes:
        return self.h(b"\x01" + left + right)

    # -- roots -------------------------------------------------------------------------------
    def root(self, leaf_hashes: Iterable[bytes]) -> tuple[int, bytes]:
        """(size, root) of a stream of leaf hashes, in O(log n) memory."""
        stack = CompactRange(self)
        for lh in leaf_hashes:
            stack.append(lh)
        return stack.size, stack.root()

    def subtree_root(self, lo: int, hi: int, subtree: Subtree) -> bytes:
        """MTH(D[lo:hi]) from perfect subtrees supplied by ``subtree``."""
        if hi - lo == 0:
            return self.empty
        if is_perfect(lo, hi):
            return subtree(lo, hi)
        k = split(hi - lo)
        return self.node(self.subtree_root(lo, lo + k, subtree), self.subtree_root(lo + k, hi, subtree))

    # -- inclusion ---------------------------------------------------------------------------
    def inclusion_path(self, index: int, size: int, subtree: Subtree) -> list[bytes]:
        if not 0 <= index < size:
            raise ProofError(f"entry {index} is not in a tree of size {size}")
        path: list[bytes] = []
        lo, hi = 0, size
        while hi - lo > 1:
            k = split(hi - lo)
            if index < lo + k:
                path.append(self.subtree_root(lo + k, hi, subtree))
                hi = lo + k
            else:
                path.append(self.subtree_root(lo, lo + k, subtree))
                lo = lo + k
        path.reverse()
        return path

    def verify_inclusion(self, index: int, size: int, leaf_hash: bytes, path: list[bytes], root: bytes) -> None:
        """RFC 9162 §2.1.3.2; raises :class:`ProofError` naming the failure."""
        if index >= size:
            raise ProofError(f"entry index {index} is not below tree size {size}")
        fn, sn, r = index, size - 1, leaf_hash
        for p in path:
            if sn == 0:
                raise ProofError("inclusion proof is longer than the tree is deep (proof for another tree?)")
            if fn & 1 or fn == sn:
                r = self.node(p, r)
                if not fn & 1:
                    while not fn & 1 and fn != 0:
                        fn >>= 1
                        sn >>= 1
            else:
                r = self.node(r, p)
            fn >>= 1
            sn >>= 1
        if sn != 0:
            raise ProofError("inclusion proof is too short for the tree size (proof for another tree?)")
        if r != root:
            raise ProofError(f"inclusion proof does not lead to the root of the tree of size {size}")

    # -- consistency -------------------------------------------------------------------------
    def consistency_path(self, first: int, second: int, subtree: Subtree) -> list[bytes]:
        if not 0 < first <= second:
            raise ProofError(f"no consistency proof from size {first} to size {second}")
        if first == second:
            return []
        return self._subproof(first, 0, second, True, subtree)

    def _subproof(self, m: int, lo: int, hi: int, complete: bool, subtree: Subtree) -> list[bytes]:
        n = hi - lo
        if m == n:
            return [] if complete else [self.subtree_root(lo, hi, subtree)]
        k = split(n)
        if m <= k:
            return self._subproof(m, lo, lo + k, complete, subtree) + [self.subtree_root(lo + k, hi, subtree)]
        return self._subproof(m - k, lo + k, hi, False, subtree) + [self.subtree_root(lo, lo + k, subtree)]

    def verify_consistency(
        self, first: int, second: int, first_root: bytes, second_root: bytes, path: list[bytes]
    ) -> None:
        """RFC 9162 §2.1.4.2; raises :class:`ProofError` naming the failure."""
        if first == second:
            if path:
                raise ProofError("a consistency proof between equal sizes must be empty")
            if first_root != second_root:
                raise ProofError(f"two different roots for the same tree size {first}")
            return
        if not 0 < first < second:
            raise ProofError(f"sizes {first} and {second} do not describe a growing log")
        if not path:
            raise ProofError("consistency proof is empty")
        path = list(path)
        if first & (first - 1) == 0:
            path.insert(0, first_root)
        fn, sn = first - 1, second - 1
        while fn & 1:
            fn >>= 1
            sn >>= 1
        fr = sr = path[0]
        for c in path[1:]:
            if sn == 0:
                raise ProofError("consistency proof is too long (proof for other trees?)")
            if fn & 1 or fn == sn:
                fr, sr = self.node(c, fr), self.node(c, sr)
                if not fn & 1:
                    while not fn & 1 and fn != 0:
                        fn >>= 1
                        sn >>= 1
            else:
                sr = self.node(sr, c)
            fn >>= 1
            sn >>= 1
        if fr != first_root:
            raise ProofError(f"consistency proof does not reproduce the root of size {first}")
        if sr != second_root:
            raise ProofError(f"consistency proof does not reproduce the root of size {second}")
        if sn != 0:
            raise ProofError("consistency proof is too short")


class CompactRange:
    """Perfect subtrees of the leaves seen so far; root at any size in O(log n)."""

    def __init__(self, tree: Tree) -> None:
        self.tree = tree
        self.size = 0
        self.stack: list[bytes] = []  # hashes of perfect subtrees, largest first

    def append(self, leaf_hash: bytes) -> list[tuple[int, int, bytes]]:
        """Add a leaf; return the perfect nodes it completed as (level, index, hash), leaf first."""
        index = self.size
        made = [(0, index, leaf_hash)]
        node, level = leaf_hash, 0
        self.size += 1
        n = self.size
        while n & 1 == 0:
            node = self.tree.node(self.stack.pop(), node)
            level += 1
            n >>= 1
            made.append((level, index >> level, node))
        self.stack.append(node)
        return made

    def root(self) -> bytes:
        if not self.stack:
            return self.tree.empty
        acc = self.stack[-1]
        for h in reversed(self.stack[:-1]):
            acc = self.tree.node(h, acc)
        return acc


def split(n: int) -> int:
    """The largest power of two strictly below ``n`` (n > 1)."""
    return 1 << ((n - 1).bit_length() - 1)


def is_perfect(lo: int, hi: int) -> bool:
    size = hi - lo
    return size > 0 and size & (size - 1) == 0 and lo % size == 0


def frontier(size: int) -> list[tuple[int, int]]:
    """(level, index) of the perfect subtrees that make up a tree of ``size`` leaves, left to right."""
    out, lo = [], 0
    for level in range(size.bit_length() - 1, -1, -1):
        if size >> level & 1:
            out.append((level, lo >> level))
            lo += 1 << level
    return out
