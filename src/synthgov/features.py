"""``synthgov features``: optional backends and external tools, and why each is or is not there."""

from __future__ import annotations

import importlib
import shutil


def _module(name: str, purpose: str) -> dict:
    try:
        mod = importlib.import_module(name)
    except ImportError as exc:
        return {"name": name, "available": False, "detail": f"{purpose}; not installed ({exc})"}
    version = getattr(mod, "__version__", "")
    return {"name": name, "available": True, "detail": f"{purpose} {version}".strip()}


def _tool(name: str, purpose: str) -> dict:
    path = shutil.which(name)
    return {"name": name, "available": bool(path), "detail": f"{purpose}; {path or 'not on PATH'}"}


def report() -> list[dict]:
    from PIL import features as pil

    rows = [
        _module("tongsuopy", "fast SM2/SM3 signing (Tongsuo)"),
        _module("gmssl", "pure-Python SM2 reference verifier"),
        _module("psycopg", "PostgreSQL driver"),
        _module("scipy", "image watermark filters and resampling"),
        _module("cv2", "fast image filters for the watermark and SSIMULACRA2 (OpenCV, the `fast` extra; "
                "same results as SciPy's, several times sooner)"),
        _module("pdqhash", "PDQ perceptual fingerprints"),
        {"name": "pillow-webp", "available": bool(pil.check("webp")), "detail": "WebP codec in Pillow"},
        _tool("exiftool", "independent metadata reader used by tests and benchmarks"),
    ]
    return rows
