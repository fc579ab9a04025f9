"""Conformance kit: every modality handler's tests subclass :class:`HandlerConformance`.

It feeds the handler its own ``examples()`` and checks the contract each capability promises.
"""

from __future__ import annotations

from typing import Any, ClassVar

import pytest

from synthgov.errors import SynthgovError
from synthgov.modalities.base import (
    ExplicitLabelSpec,
    FormatInfo,
    Labeler,
    LabelKind,
    LabelPlan,
    MediaInfo,
    MetadataReader,
)
from synthgov.modalities.registry import validate_handler
from synthgov.provenance.label import AigcLabel


class HandlerConformance:
    handler_class: ClassVar[Any]

    @pytest.fixture
    def handler(self) -> Any:
        return self.handler_class(self.handler_class.Config())

    def test_declares_identity(self, handler: Any) -> None:
        validate_handler(self.handler_class)
        assert handler.modality and handler.name and handler.version

    def test_examples_are_accepted_and_probe(self, handler: Any) -> None:
        examples = handler.examples()
        assert examples, "a handler must offer examples"
        for ex in examples:
            assert handler.accept(ex.data[:64]), ex.name
            info = handler.probe(ex.data)
            assert isinstance(info, MediaInfo) and ex.extension in info.extensions
            fmt = handler.format_info(ex.data[:64])
            assert isinstance(fmt, FormatInfo) and fmt.format == info.format

    def test_garbage_is_rejected_with_a_domain_error(self, handler: Any) -> None:
        for blob in (b"", b"\x00" * 64, b"not media at all"):
            with pytest.raises(SynthgovError):
                handler.probe(blob)

    def test_metadata_label_round_trip(self, handler: Any) -> None:
        if not isinstance(handler, Labeler) or not isinstance(handler, MetadataReader):
            pytest.skip("no labeling capability")
        handler = self.handler_class(self.handler_class.Config())  # untyped again: every protocol
        label = AigcLabel.first_write(label="1", producer="0011910000000000DEM00L10001", produce_id="conformance")
        for ex in handler.examples():
            once = handler.label(ex.data, LabelPlan(metadata=label))
            assert once.media.format == handler.probe(ex.data).format
            assert [a.tag for a in once.applied] == ["metadata:xmp-tc260"]
            twice = handler.label(once.data, LabelPlan(metadata=label)).data
            report = handler.read_labels(twice)
            assert [f.parsed.to_label() for f in report.labels] == [label], ex.name
            assert handler.read_labels(ex.data).labels == []

    def test_explicit_label(self, handler: Any) -> None:
        if not isinstance(handler, Labeler):
            pytest.skip("no labeling capability")
        handler = self.handler_class(self.handler_class.Config())
        for ex in handler.examples():
            result = handler.label(ex.data, LabelPlan(explicit=ExplicitLabelSpec("AI生成")))
            assert result.has(LabelKind.EXPLICIT) and result.data != ex.data
            assert handler.probe(result.data).format == handler.probe(ex.data).format
