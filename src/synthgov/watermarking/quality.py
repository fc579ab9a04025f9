"""Perceptual quality of a mark: SSIMULACRA 2.1 (Sneyers, Cloudinary; libjxl ``tools/ssimulacra2``).

Hand-written in numpy/scipy because no maintained Python package of the metric is on the package
index this project installs from (the reference is a C++ tool inside libjxl, not in Debian 12's
libjxl packages). This is a re-implementation from the published description of the metric: XYB
colour space rescaled to about 0..1 (X, Y, B-Y), at six scales (1:1 to 1:32, downscaled in linear
RGB), an SSIM map without the luminance-gamma term and two edge maps ("ringing": the distorted
image has an edge where the original is smooth; "blurring": the reverse), each summarised by its
1-norm and 4-norm per channel and scale; the 108 norms are weighted and mapped to a score. The
weights and the mapping are the metric's published constants (they *are* the metric).

Scores: 100 identical; about 90 visually lossless; 70 high quality; 50 medium; 30 low. The one
deliberate difference from the reference is the blur: scipy's sampled Gaussian (sigma 1.5, zero
outside the image) instead of libjxl's recursive approximation of it; on the test photographs the
scores agree with published reference values to within about half a point (tests/watermarking).

Used by the benchmark (``make bench``), the quality-floor tests and ``synthgov``'s own reports of a
mark's visibility; it is not on the embedding path (about a second per megapixel).
"""

from __future__ import annotations

import numpy as np
from PIL import Image

SCALES = 6
C2 = 0.0009
SIGMA = 1.5

# opsin absorbance (LMS-like mix of linear sRGB), its bias, as in the XYB definition of JPEG XL
_M = np.array([[0.30, 0.622, 0.078],
               [0.23, 0.692, 0.078],
               [0.24342268924547819, 0.20476744424496821, 1.0 - 0.24342268924547819 - 0.20476744424496821]])
_BIAS = 0.0037930732552754493
_BIAS_CBRT = np.cbrt(_BIAS)

# per channel (X, Y, B), per scale (1:1 … 1:32), per norm (1, 4): SSIM, ringing, blurring
_WEIGHTS = np.array([
    0.0, 0.0007376606707406586, 0.0, 0.0, 0.0007793481682867309, 0.0, 0.0, 0.0004371155730107379, 0.0,
    1.1041726426657346, 0.00066284834129271, 0.00015231632783718752, 0.0, 0.0016406437456599754, 0.0,
    1.8422455520539298, 11.441172603757666, 0.0, 0.0007989109436015163, 0.000176816438078653, 0.0,
    1.8787594979546387, 10.94906990605142, 0.0, 0.0007289346991508072, 0.9677937080626833, 0.0,
    0.00014003424285435884, 0.9981766977854967, 0.00031949755934435053, 0.0004550992113792063, 0.0, 0.0,
    0.0013648766163243398, 0.0, 0.0, 0.0, 0.0, 0.0, 7.466890328078848, 0.0, 17.445833984131262,
    0.0006235601634041466, 0.0, 0.0, 6.683678146179332, 0.00037724407979611296, 1.027889937768264,
    225.20515300849274, 0.0, 0.0, 19.213238186143016, 0.0011401524586618361, 0.001237755635509985,
    176.39317598450694, 0.0, 0.0, 24.43300999870476, 0.28520802612117757, 0.0004485436923833408, 0.0, 0.0,
    0.0, 34.77906344483772, 44.835625328877896, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0,
    0.0008680556573291698, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0005313191874358747, 0.0, 0.00016533814161379112,
    0.0, 0.0, 0.0, 0.0, 0.0, 0.0004179171803251336, 0.0017290828234722833, 0.0, 0.0020827005846636437,
    0.0, 0.0, 8.826982764996862, 23.19243343998926, 0.0, 95.1080498811086, 0.9863978034400682,
    0.9834382792465353, 0.0012286405048278493, 171.2667255897307, 0.9807858872435379, 0.0, 0.0, 0.0,
    0.0005130064588990679, 0.0, 0.00010854057858411537,
])


def linear_rgb(image: Image.Image) -> np.ndarray:
    """sRGB pixels (alpha blended onto mid grey, as the reference does) as linear RGB floats."""
    if image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info):
        rgba = np.asarray(image.convert("RGBA"), dtype=np.float32) / 255.0
        srgb = rgba[..., :3] * rgba[..., 3:] + 0.5 * (1.0 - rgba[..., 3:])
    else:
        srgb = np.asarray(image.convert("RGB"), dtype=np.float32) / 255.0
    linear: np.ndarray = np.where(srgb <= 0.04045, srgb / 12.92, ((srgb + 0.055) / 1.055) ** 2.4).astype(np.float32)
    return linear


def _xyb(linear: np.ndarray) -> np.ndarray:
    mixed = np.maximum(linear @ _M.T.astype(np.float32) + np.float32(_BIAS), 0.0)
    cones = np.cbrt(mixed) - np.float32(_BIAS_CBRT)
    x = 0.5 * (cones[..., 0] - cones[..., 1])
    y = 0.5 * (cones[..., 0] + cones[..., 1])
    b = cones[..., 2]
    # rescaled to about 0..1 ("make positive"): X * 14 + 0.42, Y + 0.01, B - Y + 0.55
    planes: np.ndarray = np.stack([x * 14.0 + 0.42, y + 0.01, (b - y) + 0.55]).astype(np.float32)
    return planes


def _downsample(linear: np.ndarray) -> np.ndarray:
    """2x2 box average; an odd last row or column is averaged with itself (edge replication)."""
    h, w = linear.shape[:2]
    padded = np.pad(linear, ((0, h % 2), (0, w % 2), (0, 0)), mode="edge")
    out: np.ndarray = 0.25 * (padded[0::2, 0::2] + padded[1::2, 0::2] + padded[0::2, 1::2] + padded[1::2, 1::2])
    return out


def _blur(plane: np.ndarray) -> np.ndarray:
    from synthgov.watermarking.filters import gaussian

    return gaussian(plane, SIGMA, truncate=4.0, mode="constant")


def _norms(values: np.ndarray) -> tuple[float, float]:
    v = values.astype(np.float64)
    return float(v.mean()), float(np.sqrt(np.sqrt(np.mean(v**4))))


def _scale_norms(img1: np.ndarray, img2: np.ndarray) -> np.ndarray:
    """(3 channels, 3 maps, 2 norms) for one scale of XYB planes."""
    out = np.zeros((3, 3, 2))
    for c in range(3):
        a, b = img1[c], img2[c]
        mu1, mu2 = _blur(a), _blur(b)
        s11, s22, s12 = _blur(a * a) - mu1 * mu1, _blur(b * b) - mu2 * mu2, _blur(a * b) - mu1 * mu2
        num_m = 1.0 - (mu1 - mu2) ** 2
        ssim = 1.0 - num_m * (2.0 * s12 + C2) / (s11 + s22 + C2)
        out[c, 0] = _norms(np.maximum(ssim, 0.0))
        d1 = (1.0 + np.abs(b - mu2)) / (1.0 + np.abs(a - mu1)) - 1.0
        out[c, 1] = _norms(np.maximum(d1, 0.0))  # ringing: distorted has edges where the original is smooth
        out[c, 2] = _norms(np.maximum(-d1, 0.0))  # blurring: the original has edges the distorted lost
    return out


def ssimulacra2(original: Image.Image, distorted: Image.Image) -> float:
    """The SSIMULACRA 2.1 score of ``distorted`` against ``original`` (same size)."""
    if original.size != distorted.size:
        raise ValueError(f"images differ in size: {original.size} and {distorted.size}")
    lin1, lin2 = linear_rgb(original), linear_rgb(distorted)
    per_scale: list[np.ndarray] = []
    for scale in range(SCALES):
        if lin1.shape[0] < 8 or lin1.shape[1] < 8:
            break
        if scale:
            lin1, lin2 = _downsample(lin1), _downsample(lin2)
        per_scale.append(_scale_norms(_xyb(lin1), _xyb(lin2)))
    weights = _WEIGHTS.reshape(3, SCALES, 2, 3)  # channel, scale, norm, map
    total = 0.0
    for s, norms in enumerate(per_scale):  # norms: channel, map, norm
        total += float(np.sum(weights[:, s] * np.abs(norms).transpose(0, 2, 1)))
    total *= 0.9562382616834844
    total = 2.326765642916932 * total - 0.020884521182843837 * total**2 + 6.248496625763138e-05 * total**3
    return 100.0 - 10.0 * total**0.6276336467831387 if total > 0 else 100.0


def butteraugli(original: Image.Image, distorted: Image.Image) -> float | None:
    """Butteraugli distance (max norm) from libjxl's ``butteraugli_main`` (Debian libjxl-devtools),
    or None where that tool is not installed. Below about 1 is invisible, 2-3 is JPEG q75-like."""
    import shutil
    import subprocess
    import tempfile
    from pathlib import Path

    tool = shutil.which("butteraugli_main")
    if tool is None:
        return None
    with tempfile.TemporaryDirectory() as tmp:
        a, b = Path(tmp, "a.png"), Path(tmp, "b.png")
        original.convert("RGB").save(a)
        distorted.convert("RGB").save(b)
        done = subprocess.run([tool, str(a), str(b)], capture_output=True, text=True, timeout=600, check=False)
    try:
        return float(done.stdout.split()[0])
    except (IndexError, ValueError):
        return None
