"""The fuzzing harness in the test suite: every kept corpus input (fuzz/corpus, found by
``make fuzz``) and every seed replayed through its parser, and a short seeded mutation run per
target. A parser may return or refuse with its typed error; anything else fails."""

import random

import pytest
from fuzz.targets import CORPUS, TARGETS, check


@pytest.mark.parametrize("name", sorted(TARGETS))
def test_the_kept_corpus_replays_cleanly(name):
    target = TARGETS[name]
    inputs = [p.read_bytes() for p in sorted((CORPUS / name).glob("*"))] if (CORPUS / name).is_dir() else []
    for data in inputs + target.seeds():
        check(target, data)


@pytest.mark.parametrize("name", sorted(TARGETS))
def test_a_short_mutation_run(name):
    """Byte flips, insertions, deletions and splices of the seeds (the make-test-sized smoke of make fuzz)."""
    target = TARGETS[name]
    rng = random.Random(name)
    seeds = target.seeds()
    for _ in range(1500):
        data = bytearray(rng.choice(seeds))
        for _ in range(rng.randint(1, 8)):
            op = rng.randrange(4)
            at = rng.randrange(len(data) + 1)
            if op == 0 and data:
                data[min(at, len(data) - 1)] = rng.randrange(256)
            elif op == 1:
                data[at:at] = bytes(rng.randrange(256) for _ in range(rng.randint(1, 16)))
            elif op == 2:
                del data[at:at + rng.randint(1, 64)]
            else:
                other = rng.choice(seeds)
                cut = rng.randrange(len(other) + 1)
                data[at:] = other[cut:]
        check(target, bytes(data))
