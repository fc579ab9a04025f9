"""The floor under ``synthgov inspect`` of a folder: a bare script that does only what exiftool does
(read every file and its labels with synthgov's handler, hash it, write a JSON line) in two forked
processes, with no CLI, no database, no record and no inclusion proof; ``--verify`` adds each
label's SM2 signature. The folder bench runs it beside the real command to show how much of the
gap to exiftool is Python and the signature, and how much is the command.

    python -m bench.bare_reader FOLDER OUT.jsonl [--verify] [--jobs N]
"""

from __future__ import annotations

import hashlib
import json
import os
import sys

VERIFY = "--verify" in sys.argv
JOBS = int(sys.argv[sys.argv.index("--jobs") + 1]) if "--jobs" in sys.argv else 2


def _read(paths: list[str]) -> list[str]:
    from synthgov.modalities.registry import builtin_handlers
    from synthgov.provenance.label import signed_message
    from synthgov.provenance.signing import check_security_data

    handler = builtin_handlers()[0]()
    lines = []
    for path in paths:
        with open(path, "rb") as fh:
            data = fh.read()
        report = handler.read_labels(data)
        verdicts = []
        for found in report.labels:
            fields = found.parsed
            if VERIFY:
                message = signed_message(fields.get("Label"), fields.get("ContentProducer"), fields.get("ProduceID"))
                verdicts.append(check_security_data(fields.get("ReservedCode1"), message, set()).verdict.value)
        lines.append(json.dumps({"name": path, "sha256": hashlib.sha256(data).hexdigest(),
                                 "labels": [found.parsed.fields for found in report.labels],
                                 "problems": report.problems, "signatures": verdicts}, ensure_ascii=False))
    return lines


def main() -> None:
    import multiprocessing

    folder, target = sys.argv[1], sys.argv[2]
    paths = sorted(os.path.join(root, name) for root, _, names in os.walk(folder) for name in names)
    chunks = [paths[i : i + 64] for i in range(0, len(paths), 64)]
    with multiprocessing.get_context("fork").Pool(JOBS) as pool, open(target, "w", encoding="utf-8") as out:
        for lines in pool.imap_unordered(_read, chunks):
            out.write("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
