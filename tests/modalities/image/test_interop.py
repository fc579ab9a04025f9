"""The interop corpus (tests/fixtures/interop, README there): files laid out the way other
implementations and vendors write labels, each read as expected.json says; and wherever exiftool, a
lenient generic reader, finds an AIGC value, synthgov reports it (as a label, or as a named vendor
schema)."""

import json
import subprocess
from pathlib import Path

import pytest

from synthgov.modalities.image import ImageHandler

CORPUS = Path(__file__).parents[2] / "fixtures" / "interop"
EXPECTED = json.loads((CORPUS / "expected.json").read_text())
handler = ImageHandler()


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_each_layout_is_read_and_judged(name):
    want = EXPECTED[name]
    report = handler.read_labels((CORPUS / name).read_bytes())
    assert len(report.labels) == len(want["labels"]), (report.labels, report.notes, report.problems)
    for found, expected in zip(report.labels, want["labels"], strict=True):
        assert found.parsed.get("ProduceID") == expected["ProduceID"]
        assert found.conformant is expected["conformant"], found.problems
        if expected["place"]:
            assert any(expected["place"] in p for p in found.placement), found.placement
    damaged = [p for p in report.problems if p.startswith("container damaged: ")]
    assert bool(damaged) is bool(want.get("damaged")), report.problems
    for problem in want.get("problems", []):
        assert any(problem in p for p in report.problems), report.problems
    if "vendor" in want:
        assert any(want["vendor"] in n and "not a GB 45438 implicit label" in n for n in report.notes), report.notes


def _exiftool_hits(names: list[str]) -> dict[str, list[str]]:
    out = subprocess.run(["exiftool", "-j", "-a", "-u", "-G1", "-q", "-q", *names], cwd=CORPUS, capture_output=True,
                         text=True).stdout
    return {d["SourceFile"]: [k for k, v in d.items() if "aigc" in k.lower() or "AIGC" in str(v)
                              or '"ContentProducer"' in str(v)] for d in json.loads(out)}


@pytest.mark.tools
def test_whatever_exiftool_finds_synthgov_reports(exiftool):
    for name, tags in _exiftool_hits(sorted(EXPECTED)).items():
        if not tags:
            continue
        report = handler.read_labels((CORPUS / name).read_bytes())
        assert report.labels or any("not a GB 45438 implicit label" in n for n in report.notes), (name, tags)
