"""Re-encoding after pixels change (visible label), keeping what the source carried.

JPEG keeps its quantisation tables and chroma subsampling; PNG its text chunks; WebP stays
lossless when it was; all keep ICC profiles and EXIF. XMP is carried by the metadata writer.
"""

from __future__ import annotations

import io

from PIL import Image, ImageSequence, JpegImagePlugin, PngImagePlugin

from synthgov.errors import UnsupportedMedia
from synthgov.modalities.image.formats import ImageFormat

DRAWABLE_MODES = {"RGB", "RGBA", "L", "LA", "P", "PA", "CMYK", "1"}


def heif_codec() -> None:
    """HEIF pixels need libheif: the optional pillow-heif package (AVIF is Pillow's own)."""
    try:
        import pillow_heif
    except ImportError as exc:
        raise UnsupportedMedia("decoding or encoding HEIF pixels needs the optional pillow-heif package "
                               "(pip install 'synthgov[heif]'); its metadata label is read and written without it"
                               ) from exc
    pillow_heif.register_heif_opener()


def frames(im: Image.Image) -> list[Image.Image]:
    if im.mode not in DRAWABLE_MODES:
        kind = "16-bit or floating-point" if im.mode.startswith(("I", "F")) else im.mode
        raise UnsupportedMedia(
            f"{kind} samples (mode {im.mode}) cannot carry a visible label or a watermark without losing "
            "precision (both need 8-bit samples); label this file metadata-only (--no-visible --no-watermark)")
    return [frame.copy() for frame in ImageSequence.Iterator(im)]


def back_to_mode(labeled: Image.Image, mode: str) -> Image.Image:
    if mode in ("RGBA", "LA", "PA"):
        return labeled if mode == "RGBA" else labeled.convert("LA" if mode == "LA" else "RGBA")
    if mode == "P":
        return labeled.convert("RGB").quantize(colors=256, method=Image.Quantize.MEDIANCUT)
    if mode == "1":
        return labeled.convert("L")
    return labeled.convert(mode)


def save(source: Image.Image, fmt: ImageFormat, labeled: list[Image.Image], lossless_webp: bool) -> bytes:
    info = source.info
    common = {}
    if info.get("icc_profile"):
        common["icc_profile"] = info["icc_profile"]
    exif = source.getexif()
    if len(exif):
        common["exif"] = exif.tobytes()
    buf = io.BytesIO()
    first, rest = labeled[0], labeled[1:]
    if fmt is ImageFormat.JPEG:
        opts = dict(common, optimize=False)
        if isinstance(source, JpegImagePlugin.JpegImageFile) and source.quantization:
            opts["qtables"] = source.quantization
            sampling = JpegImagePlugin.get_sampling(source)
            if sampling >= 0:
                opts["subsampling"] = sampling
        else:
            opts["quality"] = 92
        if info.get("progressive") or info.get("progression"):
            opts["progressive"] = True
        first.save(buf, "JPEG", **opts)
    elif fmt is ImageFormat.PNG:
        pnginfo = PngImagePlugin.PngInfo()
        for key, value in getattr(source, "text", {}).items():
            if key not in ("AIGC", "XML:com.adobe.xmp"):
                pnginfo.add_itxt(key, value)
        if rest:  # APNG: every frame, with its timing (never flattened to the first)
            common.update(save_all=True, append_images=rest, default_image=bool(info.get("default_image")))
            for key in ("duration", "loop", "disposal", "blend"):
                if key in info:
                    common[key] = info[key]
        first.save(buf, "PNG", pnginfo=pnginfo, **common)
    elif fmt is ImageFormat.WEBP:
        opts = dict(common, lossless=lossless_webp, quality=100 if lossless_webp else 90, method=4)
        if rest:
            opts.update(save_all=True, append_images=rest, duration=info.get("duration", 100), loop=info.get("loop", 0))
        first.save(buf, "WEBP", **opts)
    elif fmt is ImageFormat.TIFF:
        compression = info.get("compression", "raw")
        if compression not in ("raw", "tiff_lzw", "tiff_adobe_deflate", "packbits", "tiff_deflate"):
            compression = "tiff_lzw"
        opts = {k: v for k, v in common.items() if k == "icc_profile"}
        if "dpi" in info:
            opts["dpi"] = info["dpi"]
        if rest:  # every page (never flattened to the first)
            opts.update(save_all=True, append_images=rest)
        first.save(buf, "TIFF", compression=compression, **opts)
    elif fmt in (ImageFormat.AVIF, ImageFormat.HEIF):  # lossy codecs: re-encoded at a high quality
        if fmt is ImageFormat.HEIF:
            heif_codec()
        if rest:
            raise UnsupportedMedia(f"{fmt} image sequences cannot carry a visible label or watermark yet")
        first.save(buf, fmt.value, quality=90, **common)
    elif fmt is ImageFormat.GIF:
        opts = {"save_all": bool(rest), "append_images": rest}
        for key in ("duration", "loop", "disposal"):
            if key in info:
                opts[key] = info[key]
        first.save(buf, "GIF", **opts)
    return buf.getvalue()
