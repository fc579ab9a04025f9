from synthgov.domains import Manifest

MANIFEST = Manifest(
    name="watermarking",
    summary="Payload table of every watermark scheme (payload -> generation record)",
    models=("synthgov.watermarking.models",),
)
