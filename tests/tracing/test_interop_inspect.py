"""The interop corpus through the whole inspection (SQLite and PostgreSQL): every file's status
follows from its expected reading (tests/fixtures/interop/expected.json), and relabeling a
misplaced or damaged vendor file either refuses it (damage) or leaves exactly one conformant label."""

import pytest

from synthgov.errors import SynthgovError
from synthgov.labeling.service import label_content
from synthgov.tracing.service import Status, inspect_content
from tests.modalities.image.test_interop import CORPUS, EXPECTED


def _status(want: dict) -> Status:
    if not want["labels"]:
        return Status.UNLABELED
    clean = len(want["labels"]) == 1 and want["labels"][0]["conformant"] and not want.get("damaged")
    return Status.LABELED if clean and not want.get("problems") else Status.NONCONFORMANT


def test_every_layout_inspects_as_expected(platform, operator):
    with platform.unit_of_work(operator) as ctx:
        for name, want in sorted(EXPECTED.items()):
            found = inspect_content(ctx, data=(CORPUS / name).read_bytes(), name=name, search=False)
            assert found.status is _status(want), (name, found.problems, [f.problems for f in found.labels])
            assert [f.fields.get("ProduceID") for f in found.labels] == [w["ProduceID"] for w in want["labels"]]


@pytest.mark.parametrize("name", ["gimt-wrong-uri.jpg", "usercomment-inner-exif-ifd.jpg", "double-label.png",
                                  "xmp-header-xmp0xmp0.jpg", "truncated.jpg", "avif-exif-usercomment.avif"])
def test_relabeling_a_vendor_file(platform, operator, name):
    data = (CORPUS / name).read_bytes()
    try:
        with platform.unit_of_work(operator) as ctx:
            outcome = label_content(ctx, data=data, filename=name, visible=False, watermark=False)
    except SynthgovError as exc:
        assert EXPECTED[name].get("damaged"), exc  # only damaged input is refused
        return
    with platform.unit_of_work(operator) as ctx:
        again = inspect_content(ctx, data=outcome.data, name=name, search=False)
    conformant = [f for f in again.labels if f.conformant]
    assert len(conformant) == 1 and conformant[0].record is not None
    if name != "xmp-header-xmp0xmp0.jpg":  # a stray APP1 packet is not ours to remove: it stays, named
        assert again.status is Status.LABELED, again.problems
