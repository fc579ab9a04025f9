"""Watermarking, independent of modality: the payload layout and its keyed MAC, the error-correcting
code with list decoding, per-scheme derived keys, the payload-to-record table, the false-positive
arithmetic, and a conformance kit. A modality supplies only its embedding and reading channel
(``modalities/image/watermark/`` is the first scheme)."""
