"""RFC 9162 algorithms, checked against a naive recursion and against pymerkle (independent)."""

import random

import pytest

from synthgov.audit.merkle import CompactRange, ProofError, Tree, frontier, is_perfect, split


def naive(tree, leaves, lo, hi):
    n = hi - lo
    if n == 0:
        return tree.empty
    if n == 1:
        return leaves[lo]
    k = split(n)
    return tree.node(naive(tree, leaves, lo, lo + k), naive(tree, leaves, lo + k, hi))


@pytest.fixture(params=["sm3", "sha256"])
def tree(request):
    return Tree(request.param)


def test_roots_match_pymerkle():
    pymerkle = pytest.importorskip("pymerkle")
    tree = Tree("sha256")
    for n in (1, 2, 3, 7, 8, 33, 100):
        ref = pymerkle.InmemoryTree(algorithm="sha256")
        for i in range(n):
            ref.append_entry(b"entry %d" % i)
        ours = tree.root(tree.leaf(b"entry %d" % i) for i in range(n))[1]
        assert ours == ref.get_root(), n


def test_known_empty_and_single(tree):
    assert tree.root([])[1] == tree.h(b"")
    assert tree.root([tree.leaf(b"a")])[1] == tree.h(b"\x00a")


def test_proofs_round_trip_and_reject_tampering(tree):
    rng = random.Random(5)
    leaves = [tree.leaf(b"%d" % i) for i in range(131)]

    def sub(lo, hi):
        assert is_perfect(lo, hi)
        return naive(tree, leaves, lo, hi)

    for n in (1, 2, 5, 64, 65, 130):
        root = naive(tree, leaves, 0, n)
        assert tree.subtree_root(0, n, sub) == root
        for i in rng.sample(range(n), min(n, 10)):
            path = tree.inclusion_path(i, n, sub)
            tree.verify_inclusion(i, n, leaves[i], path, root)
            with pytest.raises(ProofError):
                tree.verify_inclusion(i, n, tree.leaf(b"forged"), path, root)
            if n > 1:
                with pytest.raises(ProofError):  # the same proof against another tree
                    tree.verify_inclusion(i, n + 1, leaves[i], path, naive(tree, leaves, 0, n + 1))
        for m in range(1, n + 1):
            path = tree.consistency_path(m, n, sub)
            tree.verify_consistency(m, n, naive(tree, leaves, 0, m), root, path)
            if m < n:
                with pytest.raises(ProofError):
                    tree.verify_consistency(m, n, tree.leaf(b"other"), root, path)


def test_compact_range_reports_completed_nodes(tree):
    compact = CompactRange(tree)
    made = [compact.append(tree.leaf(b"%d" % i)) for i in range(8)]
    assert [len(m) for m in made] == [1, 2, 1, 3, 1, 2, 1, 4]
    assert made[-1][-1][:2] == (3, 0)
    assert frontier(13) == [(3, 0), (2, 2), (0, 12)]
