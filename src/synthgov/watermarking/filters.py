"""Filters and pixel arithmetic on planes, for the watermark's front ends and the quality metrics.

OpenCV's when it is installed (the ``fast`` extra: its SIMD filters are several times
faster than SciPy's on these planes), SciPy's otherwise. Both apply the same kernels with the same
borders (SciPy's ``reflect`` is OpenCV's ``BORDER_REFLECT``, ``constant`` with 0 is
``BORDER_CONSTANT``) and the same rounding, so a mark made with one reads the same with the other:
results agree to float rounding (``tests/watermarking/test_filters.py`` holds them together).
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any, Literal

import numpy as np

Border = Literal["reflect", "constant"]


@lru_cache(maxsize=1)
def _cv2() -> Any:
    try:
        import cv2
    except ImportError:
        return None
    return cv2


def use_opencv(enabled: bool) -> None:
    """Force the SciPy path (``False``) or go back to OpenCV where installed (tests compare them)."""
    global _enabled
    _enabled = enabled


_enabled = True


def _backend() -> Any:
    return _cv2() if _enabled else None


@lru_cache(maxsize=32)
def gaussian_kernel(sigma: float, truncate: float) -> np.ndarray:
    """SciPy's Gaussian kernel: radius ``int(truncate * sigma + 0.5)``, normalised to sum 1."""
    radius = int(truncate * sigma + 0.5)
    x = np.arange(-radius, radius + 1, dtype=np.float64)
    weights = np.exp(-0.5 * (x / sigma) ** 2)
    kernel: np.ndarray = (weights / weights.sum()).astype(np.float32)
    return kernel


def _border(cv2: Any, mode: Border) -> int:
    return int(cv2.BORDER_REFLECT if mode == "reflect" else cv2.BORDER_CONSTANT)


def gaussian(plane: np.ndarray, sigma: float, *, truncate: float = 3.0, mode: Border = "reflect") -> np.ndarray:
    """A 2-D Gaussian blur of a float plane (float32 out)."""
    plane = np.ascontiguousarray(plane, dtype=np.float32)
    cv2 = _backend()
    if cv2 is not None:
        kernel = gaussian_kernel(sigma, truncate)
        out: np.ndarray = cv2.sepFilter2D(plane, cv2.CV_32F, kernel, kernel, borderType=_border(cv2, mode))
        return out
    from scipy.ndimage import gaussian_filter

    blurred: np.ndarray = gaussian_filter(plane, sigma, mode=mode, cval=0.0, truncate=truncate)
    return blurred


def box(plane: np.ndarray, size: int) -> np.ndarray:
    """The mean over an odd ``size`` x ``size`` window (reflected borders; float32 out)."""
    if size % 2 != 1:
        raise ValueError("box windows are odd, so they are centred")
    plane = np.ascontiguousarray(plane, dtype=np.float32)
    cv2 = _backend()
    if cv2 is not None:
        out: np.ndarray = cv2.blur(plane, (size, size), borderType=cv2.BORDER_REFLECT)
        return out
    from scipy.ndimage import uniform_filter

    mean: np.ndarray = uniform_filter(plane, size)
    return mean


def minimum(plane: np.ndarray, size: int) -> np.ndarray:
    """The minimum over a ``size`` x ``size`` window (reflected borders, which for a minimum is the
    same as ignoring what lies outside; float32 out)."""
    plane = np.ascontiguousarray(plane, dtype=np.float32)
    cv2 = _backend()
    if cv2 is not None:
        kernel = np.ones((size, size), dtype=np.uint8)  # anchored at size // 2, as SciPy centres it
        out: np.ndarray = cv2.erode(plane, kernel, anchor=(size // 2, size // 2), borderType=cv2.BORDER_REFLECT)
        return out
    from scipy.ndimage import minimum_filter

    least: np.ndarray = minimum_filter(plane, size=size)
    return least


def add_offsets(src: np.ndarray, planes: tuple[np.ndarray, np.ndarray, np.ndarray]) -> tuple[np.ndarray, float]:
    """``src`` (uint8 rows x columns x 3) plus one float offset plane per channel, rounded to the
    nearest integer (halves to even) and clipped to 0-255; and the summed squared change."""
    cv2 = _backend()
    if cv2 is not None:
        marked: np.ndarray = cv2.add(src, cv2.merge(list(planes)), dtype=cv2.CV_8U)
        return marked, float(cv2.norm(marked, src, cv2.NORM_L2SQR))
    change = np.stack(planes, axis=-1)
    np.rint(change, out=change)
    change += src
    np.clip(change, 0, 255, out=change)
    marked = change.astype(np.uint8)
    change -= src
    flat = change.ravel()
    return marked, float(np.dot(flat, flat))


def dilate(mask: np.ndarray, iterations: int) -> np.ndarray:
    """A boolean mask grown by ``iterations`` steps of the 4-neighbour cross (SciPy's default
    structure; nothing outside the mask's bounds counts)."""
    cv2 = _backend()
    if cv2 is not None:
        cross = cv2.getStructuringElement(cv2.MORPH_CROSS, (3, 3))
        grown: np.ndarray = cv2.dilate(mask.astype(np.uint8), cross, iterations=iterations,
                                       borderType=cv2.BORDER_CONSTANT, borderValue=0) > 0
        return grown
    from scipy.ndimage import binary_dilation

    out: np.ndarray = binary_dilation(mask, iterations=iterations)
    return out
