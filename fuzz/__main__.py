"""Coverage-guided fuzzing with atheris: ``python -m fuzz TARGET [--runs N] [--merge]``.

The corpus lives in fuzz/corpus/TARGET (seeds are written there first); new inputs that reach new
code are added; ``--merge`` keeps only a minimal covering set. A crash writes crash-* files and
exits non-zero; libFuzzer's -rss_limit_mb and -timeout catch unbounded memory and hangs.
``make fuzz`` runs every target for 1,000,000 inputs.
"""

from __future__ import annotations

import hashlib
import sys


def main(argv: list[str]) -> int:
    import argparse

    parser = argparse.ArgumentParser(prog="python -m fuzz")
    parser.add_argument("target")
    parser.add_argument("--runs", type=int, default=1_000_000)
    parser.add_argument("--merge", action="store_true", help="minimise the corpus instead of fuzzing")
    args, rest = parser.parse_known_args(argv)
    import atheris

    import synthgov.audit.notes  # noqa: F401
    import synthgov.audit.witness  # noqa: F401
    import synthgov.modalities.image  # noqa: F401
    import synthgov.modalities.image.metadata  # noqa: F401
    import synthgov.modalities.image.xmp  # noqa: F401
    import synthgov.provenance.label  # noqa: F401
    from fuzz.targets import CORPUS, TARGETS, check

    target = TARGETS[args.target]
    corpus = CORPUS / target.name
    corpus.mkdir(parents=True, exist_ok=True)
    for seed in target.seeds():  # made before instrumenting: instrumented code must not run before Setup
        (corpus / f"seed-{hashlib.sha256(seed).hexdigest()[:12]}").write_bytes(seed)
    check(target, b"")  # import whatever the target imports lazily, so it is instrumented too
    atheris.instrument_all()  # every loaded Python function: our parsers and what they call

    def one(data: bytes) -> None:
        check(target, data)

    flags = [sys.argv[0], str(corpus), f"-runs={args.runs}", "-max_len=8192", "-rss_limit_mb=1024", "-timeout=10",
             f"-artifact_prefix={CORPUS.parent / 'crashes'}/{target.name}-", *rest]
    if args.merge:
        merged = CORPUS.parent / "merge-tmp" / target.name
        merged.mkdir(parents=True, exist_ok=True)
        flags = [sys.argv[0], "-merge=1", str(merged), str(corpus), "-max_len=8192"]
    (CORPUS.parent / "crashes").mkdir(exist_ok=True)
    atheris.Setup(flags, one)
    atheris.Fuzz()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
