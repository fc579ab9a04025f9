import json

import pytest

from synthgov.errors import InvalidInput
from synthgov.provenance.label import FIELD_ORDER, AigcLabel, LabelForm, parse_label_text, signed_message

PRODUCER = "0011910000000000DEM00L10001"


def label(**kw) -> AigcLabel:
    return AigcLabel.first_write(label="1", producer=PRODUCER, produce_id="p-1", **kw)


def test_serializes_seven_fields_in_annex_e_order():
    text = label().to_json()
    assert list(json.loads(text)) == list(FIELD_ORDER)
    assert text.startswith('{"Label":"1","ContentProducer":"0011910000000000DEM00L10001","ProduceID":"p-1"')
    assert " " not in text


def test_first_write_mirrors_propagation_fields():
    lab = label()
    assert lab.ContentPropagator == PRODUCER and lab.PropagateID == "p-1" and lab.ReservedCode2 == ""


def test_wrapped_form():
    assert label().to_wrapped_json() == '{"AIGC":' + label().to_json() + "}"


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"Label": "4"}, "Label must be"),
        ({"ContentProducer": ""}, "ContentProducer is empty"),
        ({"ProduceID": ""}, "ProduceID is empty"),
        ({"ProduceID": "has space"}, "character set"),
        ({"ProduceID": "中文"}, "character set"),
        ({"ProduceID": "back\\slash"}, "character set"),
    ],
)
def test_validation_rejects(fields, message):
    base = label().as_dict() | fields
    with pytest.raises(InvalidInput, match=message):
        AigcLabel(**base).validate()


def test_escaped_quote_is_allowed_in_values():
    lab = label(reserved1='{"SecurityData":{}}')
    assert lab.validate() is lab
    assert '\\"SecurityData\\"' in lab.to_json()


def test_signed_message_is_first_three_pairs():
    assert signed_message("1", "P", "X") == b'"Label":"1","ContentProducer":"P","ProduceID":"X"'


def test_parse_inner_and_wrapped_and_glued():
    inner = label().to_json()
    assert parse_label_text(inner).form is LabelForm.INNER
    assert parse_label_text(inner).conformant
    wrapped = parse_label_text(label().to_wrapped_json())
    assert wrapped.form is LabelForm.WRAPPED and wrapped.conformant
    glued = parse_label_text("AIGC" + inner)
    assert glued.form is LabelForm.GLUED and not glued.conformant
    assert glued.to_label() == label()


def test_parse_reports_nonconformities():
    bad = {"Label": 1, "ContentProducer": "Doubao 豆包", "ProduceID": "x", "ReserveCode1": "",
           "Propagator": "", "PropatorID": ""}
    parsed = parse_label_text(json.dumps(bad, ensure_ascii=False))
    text = "; ".join(parsed.problems)
    assert "Label must be a string" in text
    assert "ContentProducer has characters outside" in text
    assert "vendor typo of 'ReservedCode1'" in text
    assert "vendor typo of 'ContentPropagator'" in text
    assert "missing field ReservedCode2" in text
    assert parsed.get("ReservedCode1") == ""  # read through the typo


def test_parse_never_raises_on_garbage():
    for raw in ["", "{", "[]", '"str"', "{" * 10000, "x" * 100_000, '{"AIGC": 5}']:
        parsed = parse_label_text(raw)
        assert not parsed.conformant


def test_parse_out_of_order_fields():
    shuffled = dict(reversed(list(label().as_dict().items())))
    assert "fields are not in Annex E order" in parse_label_text(json.dumps(shuffled)).problems
