"""A keyed, classical, CPU-fast invisible image watermark (GB 45438 6.2 content implicit label).

Design (hand-written: no maintained library does synchronised spread-spectrum image marks; the
peers in shared/docs/research/image-watermark-anchors.md lose the payload to crops, rotation and
rescaling). Measured robustness, false positives and speed: docs/benchmarks.md; the design in
words: docs/watermark.md.

* **Payload**: 64 bits plus a 32-bit keyed MAC (HMAC-SHA256), protected by a rate-1/2, K=7
  convolutional code -> 204 coded bits, list-decoded (soft Viterbi, LIST_SIZE words; the MAC picks).
* **Pattern**: a square tile of G x G smooth cells; coded bit j modulates a keyed orthonormal
  pattern P_j (CDMA), plus a keyed pilot P_0 for translation, orientation and fine geometry. The
  tile side is a quarter of the image's shortest side (half of it below SMALL_SIDE, so cells keep
  4 px), so resizing without restoring the size leaves the mark's *relative* geometry intact.
* **Embedding**: in two planes, luminance (equal R, G, B offsets) and a green-red chroma plane
  (up to half the budget, by image size and measured host interference), with equal strength
  wherever the pixel is not clipped, scaled so that the PSNR is ``target_psnr``; improved spread
  spectrum cancels part of the picture's own reading. Full-resolution work is done in strips
  (bounded memory).
* **Detection**: normalise the shortest side to 512 and to 256 px (the two tile layouts), high-pass
  each plane and divide by the local texture level, try the canonical geometry first (re-encoding,
  resizing and colour changes keep it), else read scale and rotation (modulo 90 degrees) off the
  tile lattice in the autocorrelation (plus an unrotated-lattice scan, and in the small layout a
  pilot scan of unrotated scales), refine them on the keyed pilot, fold all tiles into one, find the
  translation and which of the eight quarter turns / mirror images by cyclic correlation with the
  pilot, read soft bits per plane, combine the planes (maximal-ratio), list-decode, check the MAC.
  Without the key neither the patterns nor the MAC can be produced, so nobody without it reads or
  forges the mark.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from PIL import Image

G = 32  # cells per tile side
TILE_W = 128  # tile side in the detector's working resolution
WORK = 512  # the detector normalises the shortest side to this (tile = shortest side / 4) ...
SMALL_WORK = 256  # ... and also to this (tile = shortest side / 2, the layout of small images)
SMALL_SIDE = 640  # images with a shorter shortest side get 2 x 2 or more tiles of shortest side / 2
PAYLOAD_BITS = 64
MAC_BITS = 32
INFO_BITS = PAYLOAD_BITS + MAC_BITS
K = 7
POLYS = (0o171, 0o133)
CODED_BITS = 2 * (INFO_BITS + K - 1)
MIN_EMBED_SIDE = 256
MIN_PSNR = 40.05  # the mark never costs more than this (the floor is 40 dB)
MIN_DETECT_SIDE = 96
PILOT_SHARE = 0.2  # share of the pattern energy spent on the pilot
GEOMETRIES = 4  # (scale, rotation) candidates decoded per layout: canonical + 3 lattice (+ 1 scan, small layout)
SCAN_STEP = 0.02  # relative scale step of the small layout's last-resort scan
CLIMBS = (2, 1)  # refinement rounds at the coarse and the fine step size
LATTICE_CANDIDATES = 3  # tile-lattice candidates from the autocorrelation, refined on the pilot
SCALE_RANGE = (0.7, 2.0)  # relative scales searched: crops enlarge, rotations with expand shrink
ANGLE_RANGE = 45.0  # degrees either way (the square lattice repeats every 90 degrees)
CHROMA_SHARE = 0.5  # share of the PSNR budget spent in the chroma plane (images with cells >= 4 px)
BAND = 3  # pixels of margin zeroed around constant fill
SHIFTS = 3  # best pilot shifts decoded per geometry
ORIENTATIONS = 8  # quarter turns and mirror images of the folded tile tried at each geometry
LAYOUTS = 2  # tile layouts tried (WORK and SMALL_WORK)
LIST_SIZE = 16  # candidate words per decoding (list Viterbi), each checked against the MAC
LIST_Z = 5.0  # pilot z-score from which the list is decoded (a chance peak rarely reaches it; saves time)
MAX_DECODES = (LAYOUTS * GEOMETRIES + 1) * SHIFTS  # decodings per image (the + 1: the scale scan)
MAX_MAC_CHECKS = MAX_DECODES * LIST_SIZE  # per image; false-positive bound MAX_MAC_CHECKS * 2^-MAC_BITS


@dataclass(frozen=True)
class Detection:
    payload: int
    confidence: float  # pilot correlation z-score; > 6 is far from chance
    scale: float
    rotation_deg: float  # counter-clockwise, as Pillow's rotate(); with mirrored, applied after the mirror
    bit_margin: float  # mean |soft bit| after decoding, a quality figure
    mirrored: bool = False  # the picture was flipped left to right (or, with 180 degrees, top to bottom)


class Unmarkable(ValueError):
    """This image cannot carry the watermark (the message says why)."""


class TooSmall(Unmarkable):
    pass


# -- keyed patterns and the payload code --------------------------------------------------------
@lru_cache(maxsize=8)
def _basis(key: bytes) -> np.ndarray:
    """Keyed orthonormal cell patterns (QR of keyed Gaussian noise), unit RMS: the pilot and the
    CODED_BITS codes.

    Orthogonal codes carry no interference between bits, which random +/-1 codes would (with 188
    codes in 1,024 cells that alone caps the per-bit SNR near 2).
    """
    seed = int.from_bytes(hmac.new(key, b"synthgov-watermark-v2/patterns", hashlib.sha256).digest()[:8], "big")
    rng = np.random.default_rng(seed)
    q, _ = np.linalg.qr(rng.standard_normal((G * G, 1 + CODED_BITS)))
    return (q.T * G).astype(np.float32).reshape(-1, G, G)


def patterns(key: bytes) -> tuple[np.ndarray, np.ndarray]:
    """(pilot G x G, codes CODED_BITS x G x G)."""
    basis = _basis(key)
    return basis[0], basis[1 : 1 + CODED_BITS]


@lru_cache(maxsize=8)
def _matched(key: bytes) -> tuple[np.ndarray, np.ndarray]:
    """Smooth TILE_W x TILE_W versions of the pilot and the codes: the detector's matched filters."""
    basis = _basis(key)
    return _smooth_tile(basis[0], TILE_W), np.stack([_smooth_tile(b, TILE_W).ravel() for b in basis[1:]])


@lru_cache(maxsize=8)
def _crosstalk_inverse(key: bytes) -> np.ndarray:
    """Inverse of the matched filters' Gram matrix (regularised): smoothing makes the filters
    slightly non-orthogonal, and the embedder pre-compensates so the detector reads clean symbols."""
    smooth_pilot, smooth_codes = _matched(key)
    filters = np.concatenate([smooth_pilot.ravel()[None], smooth_codes]).astype(np.float64)
    pilot, codes = patterns(key)
    basis = np.concatenate([pilot[None], codes]).reshape(1 + CODED_BITS, -1) / G
    # response of filter i to the smooth tile of basis vector j (what one unit of j looks like)
    shapes = np.stack([_smooth_tile(b.reshape(G, G), TILE_W).ravel() for b in basis]).astype(np.float64)
    gram = filters @ shapes.T
    gram /= np.mean(np.diag(gram))
    return np.linalg.inv(gram + 0.05 * np.eye(len(gram)))


def mac(key: bytes, payload: int) -> int:
    digest = hmac.new(key, b"synthgov-watermark-v2/mac" + payload.to_bytes(8, "big"), hashlib.sha256).digest()
    return int.from_bytes(digest[: MAC_BITS // 8], "big")


def _bits(value: int, n: int) -> list[int]:
    return [(value >> (n - 1 - i)) & 1 for i in range(n)]


def conv_encode(bits: list[int]) -> np.ndarray:
    state, out = 0, []
    for b in bits + [0] * (K - 1):
        state = ((state << 1) | b) & ((1 << K) - 1)
        for poly in POLYS:
            out.append(bin(state & poly).count("1") & 1)
    return np.array(out, dtype=np.int8)


@lru_cache(maxsize=1)
def _trellis() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """For each next state: its two predecessor states, the input bit, and both branch outputs."""
    n_states = 1 << (K - 1)
    nxt = np.arange(n_states)
    pred = np.stack([nxt >> 1, (nxt >> 1) | (1 << (K - 2))], axis=1)
    bit = (nxt & 1).astype(np.int8)
    out = np.zeros((n_states, 2, 2), dtype=np.float64)
    for s_next in range(n_states):
        for which in range(2):
            reg = (int(pred[s_next, which]) << 1 | int(bit[s_next])) & ((1 << K) - 1)
            for k, poly in enumerate(POLYS):
                out[s_next, which, k] = 1.0 - 2.0 * (bin(reg & poly).count("1") & 1)
    return pred, bit, out, nxt


def viterbi(soft: np.ndarray, size: int = 1) -> list[list[int]]:
    """Soft-decision list Viterbi for the K=7 code (``soft`` > 0 means bit 0; BPSK 0 -> +1): the
    ``size`` most likely information words, best first (parallel list decoding: every state keeps
    its ``size`` best paths). The MAC then picks the right one, which gains about half a decibel over
    the single best path; each extra candidate costs one more chance of 2^-MAC_BITS to pass the MAC."""
    pred, bit, out, _ = _trellis()
    n_states = pred.shape[0]
    steps = soft.reshape(-1, 2)
    metric = np.full((n_states, size), -np.inf)
    metric[0, 0] = 0.0
    back = np.zeros((len(steps), n_states, size), dtype=np.int16)  # survivor -> (predecessor, its rank)
    for t, sym in enumerate(steps):
        branch = out @ sym  # (states, 2)
        cand = np.concatenate([metric[pred[:, 0]] + branch[:, :1], metric[pred[:, 1]] + branch[:, 1:]], axis=1)
        keep = np.argpartition(-cand, size - 1, axis=1)[:, :size] if size > 1 else np.argmax(cand, axis=1)[:, None]
        back[t] = keep
        metric = np.take_along_axis(cand, keep, axis=1)
    words = []
    for rank in np.argsort(-metric[0]):  # the tail drives the encoder back to state 0
        if not np.isfinite(metric[0, rank]):
            break
        state, bits = 0, []
        for t in range(len(steps) - 1, -1, -1):
            bits.append(int(bit[state]))
            which, rank = divmod(int(back[t, state, rank]), size)
            state = int(pred[state, which])
        bits.reverse()
        words.append(bits[:INFO_BITS])
    return words


def coded_symbols(key: bytes, payload: int) -> np.ndarray:
    info = _bits(payload, PAYLOAD_BITS) + _bits(mac(key, payload), MAC_BITS)
    return 1.0 - 2.0 * conv_encode(info).astype(np.float32)  # 0 -> +1, 1 -> -1


def _smooth_tile(cells: np.ndarray, side: int) -> np.ndarray:
    """A smooth, periodic ``side`` x ``side`` tile from cell values (cubic on a wrapped grid)."""
    padded = np.pad(cells, 2, mode="wrap").astype(np.float32)
    img = Image.fromarray(padded, mode="F")
    cell = side / G
    big = img.resize((round((G + 4) * cell), round((G + 4) * cell)), Image.Resampling.BICUBIC)
    arr = np.asarray(big, dtype=np.float32)
    off = round(2 * cell)
    return arr[off : off + side, off : off + side]


# -- the detector's front end (also used by the embedder to cancel host interference) ------------
# The mark lives in two planes the detector reads separately: luminance (an equal offset on R, G
# and B) and a green-red chroma plane (minus Cr; its offset direction leaves luminance unchanged).
# Grey and textured pictures have little host "noise" in chroma; JPEG keeps luminance better. Both
# planes carry the same readings, and the two offset directions point partly against each other in
# RGB, so together they cost less squared error than apart (the negative cross term below).
CHROMA_DIRECTION = np.array([-1.402, 0.714, 0.0], dtype=np.float32)  # RGB change per unit of the plane
CHROMA_COST = float(np.mean(CHROMA_DIRECTION**2))  # MSE per unit squared chroma offset (luminance: 1)
CHROMA_CROSS = float(np.mean(CHROMA_DIRECTION))  # MSE cross term per unit luminance x chroma offset


def _luma(rgb: np.ndarray) -> np.ndarray:
    return rgb[..., 0] * 0.299 + rgb[..., 1] * 0.587 + rgb[..., 2] * 0.114


def _chroma(rgb: np.ndarray) -> np.ndarray:
    return rgb[..., 1] * 0.4187 + rgb[..., 2] * 0.0813 - rgb[..., 0] * 0.5


def _work_rgb(image: Image.Image, work: int = WORK) -> np.ndarray:
    width, height = image.size
    scale = work / min(width, height)
    size = (max(1, round(width * scale)), max(1, round(height * scale)))
    return np.asarray(image.convert("RGB").resize(size, Image.Resampling.BILINEAR), dtype=np.float32)


def _whiten(y: np.ndarray) -> np.ndarray:
    """High-pass at the cell scale (the image minus its local mean), divided by the local residual
    level (texture is host noise: weighting pixels by its inverse is the matched detector for a mark
    in noise of varying strength), with outliers clipped. The embedder runs the same function, so it
    can predict what the detector will see."""
    return _whiten_parts(y)[0]


def _whiten_parts(y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(whitened plane, the divisor it used)."""
    from scipy.ndimage import gaussian_filter

    hp = y - gaussian_filter(y, 2.0, truncate=3.0)
    divisor = np.sqrt(gaussian_filter(hp * hp, 4.0, truncate=3.0)) + 0.3
    return np.clip(hp / divisor, -3.0, 3.0), divisor


def _fold(w: np.ndarray, scale: float, angle: float, period: int = TILE_W) -> np.ndarray:
    """Resample the whitened image onto the canonical grid and sum all tiles into one."""
    h, wd = w.shape
    if abs(scale - 1.0) < 1e-6 and abs(angle) < 1e-9:
        samples = w
    else:
        # output (row u, col v) samples input (h/2, wd/2) + scale * R(angle) (u - out_h/2, v - out_w/2),
        # bilinear, zero outside; Pillow's affine transform does it several times faster than scipy
        out_h, out_w = max(1, int(h / scale)), max(1, int(wd / scale))
        c, s = np.cos(angle), np.sin(angle)
        a, b, d, e = scale * c, -scale * s, scale * s, scale * c
        x0 = wd / 2 - a * out_w / 2 - b * out_h / 2 - 0.5 * (a + b) + 0.5  # Pillow samples pixel centres
        y0 = h / 2 - d * out_w / 2 - e * out_h / 2 - 0.5 * (d + e) + 0.5
        samples = np.asarray(Image.fromarray(np.ascontiguousarray(w, dtype=np.float32), "F").transform(
            (out_w, out_h), Image.Transform.AFFINE, (a, b, x0, d, e, y0), resample=Image.Resampling.BILINEAR,
            fillcolor=0.0))
    rows, cols = samples.shape
    pr, pc = -(-rows // period) * period, -(-cols // period) * period
    padded = np.zeros((pr, pc), dtype=np.float32)
    padded[:rows, :cols] = samples
    return padded.reshape(pr // period, period, pc // period, period).sum(axis=(0, 2))


def _soft(folded: np.ndarray, key: bytes) -> np.ndarray:
    return _matched(key)[1] @ folded.ravel()


def _combine(softs: list[np.ndarray], pilot_z: list[float]) -> np.ndarray:
    """Maximal-ratio combining of the planes' code readings. Each plane carries the pilot and the
    codes in the same proportion, so its pilot z-score at the chosen shift estimates its
    signal-to-noise ratio: weight each plane's readings (in units of their spread) by it."""
    weights = [max(z, 0.0) for z in pilot_z]
    if not any(weights):
        weights = [1.0] * len(softs)
    return sum(w * s / (float(np.std(s)) + 1e-12) for w, s in zip(weights, softs, strict=True))


# -- embedding ------------------------------------------------------------------------------------
def _readings(w: np.ndarray, key: bytes, band: np.ndarray) -> np.ndarray:
    """Pilot and code correlations the detector reads from a whitened plane at the canonical
    geometry (shift 0); ``band`` is the fill band the detector zeroes."""
    smooth_pilot, smooth_codes = _matched(key)
    w = np.where(band, 0.0, w).astype(np.float32)
    folded = _fold(w, 1.0, 0.0).ravel()
    return np.concatenate([[smooth_pilot.ravel() @ folded], smooth_codes @ folded])


STRIP_ROWS = 64  # rows processed at a time at full resolution: memory stays bounded for 8K images


def _strips(height: int, side: int):
    """Row ranges of at most STRIP_ROWS rows that never wrap around the tile twice."""
    step = min(STRIP_ROWS, side)
    for r0 in range(0, height, step):
        yield r0, min(height, r0 + step)


def _tile_rows(tile: np.ndarray, r0: int, r1: int, width: int) -> np.ndarray:
    rows = tile[np.arange(r0, r1) % tile.shape[0]]
    reps = -(-width // tile.shape[1])
    return np.tile(rows, (1, reps))[:, :width]


def _carriers(rgb_strip: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Where each plane's mark goes: not on clipped pixels, which cannot carry it (luminance: black
    or white; chroma: red or green at an end of its range)."""
    rgb = rgb_strip.astype(np.float32)
    y = _luma(rgb)
    red, green = rgb[..., 0], rgb[..., 1]
    return (y >= 3) & (y <= 252), (red >= 5) & (red <= 250) & (green >= 5) & (green <= 250)


def _chroma_share(short: int) -> float:
    """Chroma survives 4:2:0 JPEG only when cells span several pixels; small cells keep less there."""
    cell = short / (2 * G) if short < SMALL_SIDE else short / (4 * G)
    return CHROMA_SHARE if cell >= 4 else CHROMA_SHARE * max(0.0, (cell - 1.0) / 3.0)


def embed(image: Image.Image, key: bytes, payload: int, target_psnr: float = 40.3) -> Image.Image:
    """Return ``image`` (RGB/RGBA/L) carrying ``payload``; alpha is kept as is (an "L" image gets
    its luminance mark only).

    Improved spread spectrum (Malvar and Florencio 2003): the embedder runs the detector's front end
    on the host and spends part of its energy cancelling the host's projection onto the pilot and
    code space, so that the detector sees the mark and little of the picture.

    Memory: full-resolution work is done in strips of STRIP_ROWS rows, so beyond the input and the
    output image the embedder holds two bytes per pixel (the carrier masks) and small arrays; the
    ISS planning happens at the detector's working resolution (shortest side WORK or SMALL_WORK).
    """
    from scipy.ndimage import gaussian_filter, map_coordinates

    if not 0 <= payload < 1 << PAYLOAD_BITS:
        raise ValueError("payload must be a 64-bit unsigned integer")
    width, height = image.size
    short = min(width, height)
    if short < MIN_EMBED_SIDE:
        raise TooSmall(f"image {width}x{height} is too small to carry the watermark "
                       f"(shortest side must be at least {MIN_EMBED_SIDE} px)")
    mode = image.mode
    alpha = image.getchannel("A") if mode in ("RGBA", "LA", "PA") else None
    rgb_image = image if mode == "RGB" else image.convert("RGB")
    small = short < SMALL_SIDE  # larger cells survive JPEG and downscaling better on small images
    side = round(short / 2) if small else round(short / 4)
    work = SMALL_WORK if small else WORK  # where the detector's tile is TILE_W wide
    chroma_share = 0.0 if mode in ("L", "LA", "1", "I", "F", "I;16") else _chroma_share(short)

    # Pass 1: the carrier masks, and how many carrying pixels sit on each tile position (so that
    # the energy of any tile pattern over the whole image is one dot product). Most strips carry
    # everywhere; only the pixels that do not carry are folded and subtracted.
    masks = [Image.new("L", (width, height), 255), Image.new("L", (width, height), 255)]
    full = np.zeros((side, side), dtype=np.float32)
    full_rows = np.full(side, float(width // side), dtype=np.float32)
    full_rows_tail = width % side
    counts = [np.zeros((side, side), dtype=np.float32), np.zeros((side, side), dtype=np.float32)]
    everywhere: list[list[bool]] = [[], []]  # per strip and plane: no pixel excluded
    cols = -(-width // side) * side
    for r0, r1 in _strips(height, side):
        rows = np.arange(r0, r1) % side
        full[rows] += full_rows[: r1 - r0, None]
        full[rows, :full_rows_tail] += 1.0
        for plane, carrier in enumerate(_carriers(np.asarray(rgb_image.crop((0, r0, width, r1))))):
            everywhere[plane].append(bool(carrier.all()))
            if everywhere[plane][-1]:
                continue
            masks[plane].paste(Image.fromarray(carrier.astype(np.uint8) * 255), (0, r0))
            padded = np.zeros((r1 - r0, cols), dtype=np.float32)
            padded[:, :width] = ~carrier
            counts[plane][rows] -= padded.reshape(r1 - r0, cols // side, side).sum(axis=1)
    for count in counts:
        count += full
    del full
    pixels = float(width * height)

    # The detector's view: working-resolution planes, carrier shares, and sample positions of the tile.
    scale = work / short
    work_size = (max(1, round(width * scale)), max(1, round(height * scale)))
    rgb_work = _work_rgb(rgb_image, work)
    planes_work = (_luma(rgb_work), _chroma(rgb_work))
    band = None  # the detector's fill band matters only where the mark will not go: computed on demand
    rows = ((np.arange(work_size[1], dtype=np.float32) + 0.5) * (height / work_size[1]) - 0.5) % side
    cols = ((np.arange(work_size[0], dtype=np.float32) + 0.5) * (width / work_size[0]) - 0.5) % side
    ty = np.broadcast_to(rows[:, None], (work_size[1], work_size[0]))
    tx = np.broadcast_to(cols[None, :], (work_size[1], work_size[0]))

    basis = _basis(key)[: 1 + CODED_BITS].reshape(1 + CODED_BITS, -1) / G  # orthonormal rows
    symbols = coded_symbols(key, payload)
    t = np.concatenate([[np.sqrt(PILOT_SHARE)], np.sqrt((1 - PILOT_SHARE) / CODED_BITS) * symbols])
    inverse = _crosstalk_inverse(key)
    u = inverse @ t  # coefficients whose detector reading is proportional to t
    budget = 255.0**2 / 10 ** (target_psnr / 10)  # MSE the whole mark may cost

    def tile_of(coeffs: np.ndarray) -> np.ndarray:
        return np.array(_smooth_tile((basis.T @ coeffs).reshape(G, G), side), dtype=np.float32)

    tile1 = tile_of(u)
    field1 = map_coordinates(tile1, [ty, tx], order=1, mode="grid-wrap")  # tile1 at working resolution

    def measure(plane: int) -> dict:
        """What the detector reads of the host in one plane, and of a unit field."""
        count = counts[plane]
        if all(everywhere[plane]):
            carrier_work = np.ones((work_size[1], work_size[0]), dtype=np.float32)
        else:
            carrier_work = np.asarray(masks[plane].resize(work_size, Image.Resampling.BILINEAR), np.float32) / 255
        nonlocal band
        plane_band = carrier_work < 0.5  # only where the mark will not go can flat fill stay flat
        if plane_band.any():
            band = _fill_band(planes_work[0]) if band is None else band
            plane_band &= band
        whitened, divisor = _whiten_parts(planes_work[plane])
        host = _readings(whitened, key, plane_band)
        # what the detector reads of the field alone (linearised: the host sets the divisor)
        field = field1 * carrier_work
        seen = _readings((field - gaussian_filter(field, 2.0, truncate=3.0)) / divisor, key, plane_band)
        response = float(np.dot(seen, t) / np.dot(t, t))
        per_unit = float(np.einsum("ij,ij,ij->", tile1, tile1, count, dtype=np.float64) / pixels) / float(np.dot(u, u))
        return {"count": count, "host": host, "response": response, "per_unit": per_unit,
                "interference": float(np.dot(host, host)) / max(response, 1e-12) ** 2 * per_unit}

    def plan(m: dict, plane_budget: float) -> np.ndarray:
        """The tile for one plane, scaled so its field's mean square is ``plane_budget``."""
        room = plane_budget / m["per_unit"]  # squared coefficients affordable
        coeffs = np.sqrt(room / np.dot(u, u)) * u
        host, response = m["host"], m["response"]
        if response > 0:
            v = inverse @ (host / response)  # coefficients that would cancel the host's reading
            uu, uv, vv = np.dot(u, u), np.dot(u, v), np.dot(v, v)
            tt, hh = np.dot(t, t), np.dot(host, host) / response**2
            best = -1.0
            for lam in np.linspace(0.0, 1.0, 11):  # how much host to cancel: maximise signal / residual host
                disc = (lam * uv) ** 2 - uu * (lam * lam * vv - room)
                if disc < 0:
                    continue
                a = (lam * uv + np.sqrt(disc)) / uu
                sinr = a * a * tt / ((1.0 - lam) ** 2 * hh + 1e-3 * room)
                if a > 0 and sinr > best:
                    best, coeffs = sinr, a * u - lam * v
        tile = tile_of(coeffs)
        tile *= np.float32(np.sqrt(plane_budget / max(
            float(np.einsum("ij,ij,ij->", tile, tile, m["count"], dtype=np.float64)) / pixels, 1e-12)))
        return tile

    carrying = [float(count.sum()) > 0 for count in counts]
    if not carrying[1]:
        chroma_share = 0.0
    if not carrying[0]:  # all black or white: only a saturated-free chroma plane could carry it
        if chroma_share == 0:
            raise Unmarkable(f"nothing in this {width}x{height} image can carry the watermark "
                             "(every pixel is black, white or saturated)")
        chroma_share = 1.0
    luma = measure(0) if carrying[0] else None
    if 0 < chroma_share < 1:
        chroma = measure(1)
        # Split by the host interference each plane would face with the whole budget (chroma costs
        # CHROMA_COST per unit): a busy chroma plane (colourful texture) gets less of it.
        ratio = chroma["interference"] * CHROMA_COST / max(luma["interference"], 1e-12)
        chroma_share *= float(np.clip(1.5 - ratio, 0.25, 1.0))
    elif chroma_share == 1:
        chroma = measure(1)
    tiles = [plan(luma, budget * (1 - chroma_share)) if luma else np.zeros((side, side), dtype=np.float32)]
    if chroma_share > 0:
        tiles.append(plan(chroma, budget * chroma_share / CHROMA_COST))
        # the joint squared error of both fields (with the cross term) is what the budget limits
        both = np.minimum(counts[0], counts[1])
        joint = (float(np.einsum("ij,ij,ij->", tiles[0], tiles[0], counts[0], dtype=np.float64))
                 + CHROMA_COST * float(np.einsum("ij,ij,ij->", tiles[1], tiles[1], counts[1], dtype=np.float64))
                 + 2 * CHROMA_CROSS * float(np.einsum("ij,ij,ij->", tiles[0], tiles[1], both, dtype=np.float64)))
        del both
        for tile in tiles:
            tile *= np.float32(np.sqrt(budget / max(joint / pixels, 1e-12)))

    # Pass 2: add the fields strip by strip; rounding and clipping move the PSNR a little, so keep it
    # at or above the floor (rarely needs a second pass).
    floor_mse = 255.0**2 / 10 ** (MIN_PSNR / 10)
    for _ in range(3):
        out = Image.new("RGB", (width, height))
        squared = 0.0
        for strip, (r0, r1) in enumerate(_strips(height, side)):
            box = (0, r0, width, r1)
            luma = _tile_rows(tiles[0], r0, r1, width)
            if not everywhere[0][strip]:
                luma *= np.asarray(masks[0].crop(box)) > 0
            change = np.empty((r1 - r0, width, 3), dtype=np.float32)
            if len(tiles) > 1:
                chroma = _tile_rows(tiles[1], r0, r1, width)
                if not everywhere[1][strip]:
                    chroma *= np.asarray(masks[1].crop(box)) > 0
                np.multiply(chroma[..., None], CHROMA_DIRECTION, out=change)
                change += luma[..., None]
            else:
                change[...] = luma[..., None]
            src = np.asarray(rgb_image.crop(box))
            marked = np.rint(change, out=change).astype(np.int16)  # integer pixels: rint(src + f)
            marked += src
            np.clip(marked, 0, 255, out=marked)
            diff = (marked - src).ravel()
            squared += float(np.dot(diff.astype(np.float32), diff.astype(np.float32)))
            out.paste(Image.fromarray(marked.astype(np.uint8), "RGB"), (0, r0))
        mse = squared / (pixels * 3)
        if mse <= floor_mse:
            break
        for tile in tiles:
            tile *= np.float32(np.sqrt(floor_mse / mse) * 0.995)
    if mode == "L":
        return out.convert("L")
    if alpha is not None:
        out.putalpha(alpha)
        return out if mode == "RGBA" else out.convert(mode)
    return out


# -- detection ------------------------------------------------------------------------------------
def _fill_band(y: np.ndarray) -> np.ndarray:
    """Flat fill (e.g. the corners a rotation leaves) and a band around it: its straight edges would
    otherwise dominate the autocorrelation and the correlations."""
    from scipy.ndimage import binary_dilation, uniform_filter

    mean = uniform_filter(y, 5)
    flat = (uniform_filter(y * y, 5) - mean * mean) < 0.02  # constant fill, not merely smooth areas
    if not flat.any():
        return flat
    return binary_dilation(flat, iterations=BAND)


def _z_map(xc: np.ndarray) -> np.ndarray:
    return (xc - xc.mean()) / (xc.std() + 1e-9)


def _combined_pilot_map(maps: list[np.ndarray]) -> np.ndarray:
    """The planes' pilot z-maps combined (equal weights, still z-scores under noise)."""
    return sum(maps) / np.sqrt(len(maps))


def _peaks(maps: list[np.ndarray], count: int = SHIFTS) -> list[tuple[float, int, int, list]]:
    """The ``count`` best cyclic shifts in the planes' pilot z-maps, as (combined z-score, dy, dx,
    each plane's own z-score there)."""
    work = _combined_pilot_map(maps)
    out = []
    for _ in range(count):
        peak = int(np.argmax(work))
        sy, sx = divmod(peak, work.shape[1])
        out.append((float(work[sy, sx]), sy, sx, [float(m[sy, sx]) for m in maps]))
        rows = [(sy + d) % work.shape[0] for d in range(-3, 4)]
        cols = [(sx + d) % work.shape[1] for d in range(-3, 4)]
        work[np.ix_(rows, cols)] = -np.inf
    return out


def _orient(folded: np.ndarray, turn: int) -> np.ndarray:
    """The folded tile as the embedder laid it if the picture was turned by ``turn`` quarter turns
    (0-3) or, from 4 on, also mirrored: the lattice is square, so the geometric search finds rotations
    only modulo 90 degrees, and these eight are what is left to try."""
    oriented = np.rot90(folded, turn % 4)
    return oriented[:, ::-1] if turn >= 4 else oriented


def _oriented_maps(folded: list[np.ndarray], key: bytes, block: int = 1, turns=range(ORIENTATIONS)):
    """(orientation, each plane's pilot z-map) for the eight orientations (or ``turns``), from one
    spectrum per plane; ``block`` > 1 for tiles folded at 1/block resolution."""
    spectra = [np.fft.rfft2(f - f.mean()) for f in folded]
    pilots = _oriented_pilots(key, block)
    for turn in turns:
        yield turn, [_z_map(np.fft.irfft2(spectrum * pilots[turn], s=folded[0].shape)) for spectrum in spectra]


def _oriented_shifts(folded: list[np.ndarray], key: bytes) -> list[tuple[float, int, int, list, int]]:
    """The SHIFTS best (z-score, dy, dx, each plane's z, orientation) over all eight orientations: the
    decodings per geometry (and so the false-positive bound) stay the same. The shift applies to the
    folded tile before it is oriented."""
    found = [(*shift, turn) for turn, maps in _oriented_maps(folded, key) for shift in _peaks(maps)]
    return sorted(found, key=lambda c: c[0], reverse=True)[:SHIFTS]


@lru_cache(maxsize=16)
def _oriented_pilots(key: bytes, block: int = 1) -> tuple[np.ndarray, ...]:
    """Conjugate spectra of the pilot laid back by each orientation (what a turned tile correlates with)."""
    pilot = _block_mean(_matched(key)[0], block) if block > 1 else _matched(key)[0]
    out = []
    for turn in range(ORIENTATIONS):
        back = pilot[:, ::-1] if turn >= 4 else pilot  # undo the mirror, then the quarter turns
        out.append(np.conj(np.fft.rfft2(np.rot90(back, -(turn % 4)))))
    return tuple(out)


def _pilot_z(halves: list[np.ndarray], scale: float, angle: float, key: bytes,
             turns=range(ORIENTATIONS)) -> tuple[float, int]:
    """Pilot z-score at half resolution and the orientation that gives it (of ``turns``): a cheap
    objective for ranking and refining a geometry (the lattice leaves a quarter turn or a mirror image
    open)."""
    folded = [_fold(h, scale, angle, TILE_W // 2) for h in halves]
    return max((float(_combined_pilot_map(maps).max()), turn) for turn, maps in _oriented_maps(folded, key, 2, turns))


def _block_mean(w: np.ndarray, k: int) -> np.ndarray:
    h, wd = (w.shape[0] // k) * k, (w.shape[1] // k) * k
    return w[:h, :wd].reshape(h // k, k, wd // k, k).mean(axis=(1, 3))


def _lattice(planes: list[np.ndarray], count: int = LATTICE_CANDIDATES) -> list[tuple[float, float, float]]:
    """Candidate (score, scale, angle) from the autocorrelation of the whitened image.

    The tile repeats, so the autocorrelation peaks on the tile lattice: every tile's whole mark
    energy (not only the pilot's share) points at the scale and rotation, whatever the key (Kutter's
    self-reference idea). The lattice is square, so a rotation is found modulo 90 degrees.
    """
    from scipy.ndimage import maximum_filter

    h, wd = planes[0].shape
    reach = min(int(np.ceil(TILE_W * SCALE_RANGE[1])) + 2, h - 1, wd - 1)  # lags the padded ACF holds
    r_lo, r_hi = TILE_W * SCALE_RANGE[0], min(TILE_W * SCALE_RANGE[1], reach - 2)
    yy, xx = np.mgrid[-reach : reach + 1, -reach : reach + 1]
    radius = np.hypot(yy, xx)
    annulus = (radius >= r_lo) & (radius <= r_hi)
    z = np.zeros(yy.shape)
    for w in planes:
        spectrum = np.fft.rfft2(w - w.mean(), s=(2 * h, 2 * wd))
        ac = np.fft.fftshift(np.fft.irfft2(spectrum.real**2 + spectrum.imag**2, s=(2 * h, 2 * wd)))
        ac = ac[h - reach : h + reach + 1, wd - reach : wd + reach + 1]  # lags up to the largest tile
        values = ac[annulus]
        z += (ac - values.mean()) / (values.std() + 1e-12)
    z /= np.sqrt(len(planes))
    peaks = annulus & (z == maximum_filter(z, size=5)) & ((yy > 0) | ((yy == 0) & (xx > 0)))  # v ~ -v
    order = np.argsort(z[peaks])[::-1][: 4 * count]
    out: list[tuple[float, float, float]] = []
    for py, px in zip(yy[peaks][order], xx[peaks][order], strict=True):
        cy, cx = py + reach, px + reach
        dy, dx = float(py), float(px)
        if 0 < cy < ac.shape[0] - 1:  # parabolic sub-lag refinement
            a, b, c = z[cy - 1, cx], z[cy, cx], z[cy + 1, cx]
            dy += 0.5 * (a - c) / (a - 2 * b + c) if a - 2 * b + c < 0 else 0.0
        if 0 < cx < ac.shape[1] - 1:
            a, b, c = z[cy, cx - 1], z[cy, cx], z[cy, cx + 1]
            dx += 0.5 * (a - c) / (a - 2 * b + c) if a - 2 * b + c < 0 else 0.0
        angle = (np.arctan2(dy, dx) + np.pi / 4) % (np.pi / 2) - np.pi / 4
        if abs(angle) > np.radians(ANGLE_RANGE):
            continue
        # the lattice's other axis must peak too
        oy, ox = int(round(px)) + reach, int(round(-py)) + reach
        partner = float(z[max(0, oy - 1) : oy + 2, max(0, ox - 1) : ox + 2].max()) if 0 <= oy < z.shape[0] \
            and 0 <= ox < z.shape[1] else 0.0
        geometry = (float(np.hypot(dy, dx)) / TILE_W, float(angle))
        if any(abs(geometry[0] - s) < 0.01 and abs(geometry[1] - a) < 0.01 for _, s, a in out):
            continue
        out.append((float(z[cy, cx]) + partner, *geometry))
    out.sort(reverse=True)
    out = out[:count]
    axis = _axis_lattice(z, reach, r_lo, r_hi)
    if axis is not None and not any(abs(axis[1] - s) < 0.01 and abs(a) < 0.01 for _, s, a in out):
        out = out[: count - 1] + [axis]
    return out


def _axis_lattice(z: np.ndarray, reach: int, r_lo: float, r_hi: float) -> tuple[float, float, float] | None:
    """The best unrotated lattice (the common case: crops and resizes keep the angle): for each tile
    period P the autocorrelation z at (P, 0), (0, P) and, where they fit, the diagonals (P, P) and
    (P, -P). A one-dimensional search over P faces far fewer chance peaks than the whole annulus, so
    it finds the lattice of a small image whose few tiles give only weak peaks."""
    periods = np.arange(int(np.ceil(r_lo)), int(r_hi) + 1)
    if len(periods) < 3:
        return None
    c = reach
    score = z[c, c + periods] + z[c + periods, c]
    fits = periods <= reach
    score[fits] += 0.5 * (z[c + periods[fits], c + periods[fits]] + z[c + periods[fits], c - periods[fits]])
    k = int(np.argmax(score))
    period = float(periods[k])
    if 0 < k < len(score) - 1:  # parabolic sub-lag refinement
        a, b, d = score[k - 1], score[k], score[k + 1]
        period += 0.5 * (a - d) / (a - 2 * b + d) if a - 2 * b + d < 0 else 0.0
    return float(z[c, c + periods[k]] + z[c + periods[k], c]), period / TILE_W, 0.0


def _scale_scan(halves: list[np.ndarray], key: bytes) -> tuple[float, float, float]:
    """The best unrotated scale by the pilot itself, in steps of SCAN_STEP over SCALE_RANGE: a square
    image cropped to 70 % in the small-image layout shows only 1.7 tiles a side, too few for the
    autocorrelation, while the pilot still stands out at the right scale."""
    steps = np.arange(np.log(SCALE_RANGE[0]), np.log(SCALE_RANGE[1]), np.log1p(SCAN_STEP))
    return max((_pilot_z(halves, float(np.exp(step)), 0.0, key)[0], float(np.exp(step)), 0.0) for step in steps)


def _refine(halves: list[np.ndarray], scale: float, angle: float, key: bytes) -> tuple[float, float, float]:
    """Pilot hill-climb from an autocorrelation estimate (good to about 0.5 degrees and 2 %): angle,
    then scale, in steps of 0.25 degrees and 0.5 %, then of 0.1 degrees and 0.15 %; at each step
    size the moves repeat while they improve (at most CLIMBS rounds: the coarse ones reach 2 %). The
    orientation is settled at the start."""
    z, turn = _pilot_z(halves, scale, angle, key)
    best = (z, scale, angle)
    for (step_a, step_s), climbs in zip(((np.radians(0.25), 0.005), (np.radians(0.1), 0.0015)), CLIMBS, strict=True):
        for _ in range(climbs):
            start = best
            for da in (-2, -1, 1, 2):
                z = _pilot_z(halves, start[1], start[2] + step_a * da, key, (turn,))[0]
                if z > best[0]:
                    best = (z, start[1], start[2] + step_a * da)
            _, scale, angle = best
            for ds in (-2, -1, 1, 2):
                z = _pilot_z(halves, scale * (1 + step_s * ds), angle, key, (turn,))[0]
                if z > best[0]:
                    best = (z, scale * (1 + step_s * ds), angle)
            if best == start:
                break
    return best


def _planes(image: Image.Image, work: int) -> list[np.ndarray]:
    """The detector's whitened planes at a working resolution (luminance; chroma unless grey)."""
    rgb = _work_rgb(image, work)
    y = _luma(rgb)
    band = _fill_band(y)
    planes = [_whiten(y)]
    chroma = _chroma(rgb)
    if float(np.ptp(chroma)) > 1.0:  # a grey picture has no chroma plane to read
        planes.append(_whiten(chroma))
    for w in planes:
        w[band] = 0.0
    return planes


def detect(image: Image.Image, key: bytes, *, z_min: float = 3.0, list_z: float = LIST_Z,
           stats: dict | None = None) -> Detection | None:
    """The payload if this key's mark is present and its MAC checks; None otherwise.

    Both tile layouts are tried (shortest side / 4 at WORK, shortest side / 2 at SMALL_WORK): the
    canonical geometry first, then the lattice candidates. False positives: a random word passes the
    32-bit MAC with probability 2^-32, and at most MAX_DECODES = 27 decodings of LIST_SIZE = 16
    candidate words each are checked, so below 432 x 2^-32 = 1.0e-7 per image. A shift whose pilot
    z-score is under ``list_z`` decodes only the best word (chance peaks rarely reach it; this saves
    time on unmarked images); the benchmark sets it, and ``z_min``, out of reach to count the worst case.
    """
    width, height = image.size
    if min(width, height) < MIN_DETECT_SIDE:
        raise TooSmall(f"image {width}x{height} is too small to read a watermark "
                       f"(shortest side must be at least {MIN_DETECT_SIDE} px)")

    def attempt(planes: list[np.ndarray], scale: float, angle: float) -> Detection | None:
        folded = [_fold(w, scale, angle) for w in planes]
        for z, sy, sx, plane_z, turn in _oriented_shifts(folded, key):
            if z < z_min:
                break
            soft = _combine([_soft(_orient(np.roll(f - f.mean(), (-sy, -sx), axis=(0, 1)), turn), key)
                             for f in folded], plane_z)
            if stats is not None:
                stats["decodes"] = stats.get("decodes", 0) + 1
            norm = soft / (np.std(soft) + 1e-9)
            for bits in viterbi(norm.astype(np.float64), LIST_SIZE if z >= list_z else 1):
                if stats is not None:
                    stats["mac_checks"] = stats.get("mac_checks", 0) + 1
                payload = int("".join(map(str, bits[:PAYLOAD_BITS])), 2)
                tag = int("".join(map(str, bits[PAYLOAD_BITS:])), 2)
                expected = mac(key, payload).to_bytes(MAC_BITS // 8, "big")
                if hmac.compare_digest(tag.to_bytes(MAC_BITS // 8, "big"), expected):
                    # the detector samples the picture turned back: the picture was turned the other way
                    rotation = (-float(np.degrees(angle)) - 90.0 * (turn % 4)) % 360.0
                    rotation = rotation - 360.0 if rotation > 180.0 else rotation
                    return Detection(payload, round(z, 2), round(scale, 4), round(rotation, 3),
                                     round(float(np.mean(np.abs(norm))), 3), turn >= 4)
        return None

    # Fast path: no geometric change (re-encoding, resizing, colour changes keep the geometry).
    layouts: dict[int, list[np.ndarray]] = {}  # each layout's planes, made when first needed

    def planes_at(work: int) -> list[np.ndarray]:
        if work not in layouts:
            layouts[work] = _planes(image, work)
        return layouts[work]

    for work in (WORK, SMALL_WORK):
        found = attempt(planes_at(work), 1.0, 0.0)
        if found is not None:
            return found
    for work in (WORK, SMALL_WORK):
        planes = planes_at(work)
        halves = [_block_mean(w, 2) for w in planes]
        # most likely first (pilot z where the autocorrelation points), each refined only when its turn comes
        ranked = sorted(((_pilot_z(halves, s, a, key)[0], s, a) for _, s, a in _lattice(planes)), reverse=True)
        if work == SMALL_WORK and min(width, height) < SMALL_SIDE:
            # the last resort for what may be a cropped small image, whose few tiles the
            # autocorrelation may miss: a scan of the unrotated scales
            ranked = ranked[: GEOMETRIES - 1] + [_scale_scan(halves, key)]
        for _, scale, angle in ranked[:GEOMETRIES]:
            found = attempt(planes, *_refine(halves, scale, angle, key)[1:])
            if found is not None:
                return found
    return None
