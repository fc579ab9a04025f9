"""Embedding: improved spread spectrum (Malvar and Florencio 2003) at a fixed PSNR.

The embedder runs the detector's front end on the host and spends part of its energy cancelling
the host's projection onto the pilot and code space, so that the detector sees the mark and little
of the picture. Memory: full-resolution work is done in strips of ``cfg.strip_rows`` rows, so
beyond the input and the output image the embedder holds two bytes per pixel (the carrier masks)
and small arrays; the planning happens at the detector's working resolution.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
from PIL import Image

from synthgov.modalities.image.watermark import masking
from synthgov.modalities.image.watermark.config import CODEC, DEFAULT, ImageWatermarkConfig
from synthgov.modalities.image.watermark.frontend import (
    CHROMA_COST,
    CHROMA_CROSS,
    CHROMA_DIRECTION,
    chroma,
    fill_band,
    fold,
    luma,
    whiten_parts,
    work_rgb,
)
from synthgov.modalities.image.watermark.patterns import basis, crosstalk_inverse, matched, smooth_tile
from synthgov.watermarking.scheme import TooSmall, Unmarkable

GREY_MODES = ("L", "LA", "1", "I", "F", "I;16")


def strips(height: int, side: int, rows: int) -> Iterator[tuple[int, int]]:
    """Row ranges of at most ``rows`` rows that never wrap around the tile twice."""
    step = min(rows, side)
    for r0 in range(0, height, step):
        yield r0, min(height, r0 + step)


def tile_rows(tile: np.ndarray, r0: int, r1: int, width: int) -> np.ndarray:
    rows = tile[np.arange(r0, r1) % tile.shape[0]]
    reps = -(-width // tile.shape[1])
    return np.tile(rows, (1, reps))[:, :width]


def readings(w: np.ndarray, key: bytes, band: np.ndarray, cfg: ImageWatermarkConfig) -> np.ndarray:
    """Pilot and code correlations the detector reads from a whitened plane at the canonical
    geometry (shift 0); ``band`` is the fill band the detector zeroes."""
    smooth_pilot, smooth_codes = matched(key, cfg)
    w = np.where(band, 0.0, w).astype(np.float32)
    folded = fold(w, 1.0, 0.0, cfg.tile).ravel()
    return np.concatenate([[smooth_pilot.ravel() @ folded], smooth_codes @ folded])


@dataclass
class CarrierMap:
    """Pass 1: each plane's carrier mask, and how many carrying pixels sit on each tile position
    (so that the energy of any tile pattern over the whole image is one dot product)."""

    masks: list[Image.Image]
    counts: list[np.ndarray]
    everywhere: list[list[bool]]  # per plane and strip: no pixel excluded

    @classmethod
    def scan(cls, rgb: Image.Image, side: int, cfg: ImageWatermarkConfig) -> CarrierMap:
        width, height = rgb.size
        masks = [Image.new("L", (width, height), 255), Image.new("L", (width, height), 255)]
        full = np.zeros((side, side), dtype=np.float32)
        full_rows = np.full(side, float(width // side), dtype=np.float32)
        tail = width % side
        counts = [np.zeros((side, side), dtype=np.float32), np.zeros((side, side), dtype=np.float32)]
        everywhere: list[list[bool]] = [[], []]
        cols = -(-width // side) * side
        for r0, r1 in strips(height, side, cfg.strip_rows):
            rows = np.arange(r0, r1) % side
            full[rows] += full_rows[: r1 - r0, None]
            full[rows, :tail] += 1.0
            # most strips carry everywhere; only the pixels that do not are folded and subtracted
            for plane, carrier in enumerate(masking.carriers(np.asarray(rgb.crop((0, r0, width, r1))))):
                everywhere[plane].append(bool(carrier.all()))
                if everywhere[plane][-1]:
                    continue
                masks[plane].paste(Image.fromarray(carrier.astype(np.uint8) * 255), (0, r0))
                padded = np.zeros((r1 - r0, cols), dtype=np.float32)
                padded[:, :width] = ~carrier
                counts[plane][rows] -= padded.reshape(r1 - r0, cols // side, side).sum(axis=1)
        for count in counts:
            count += full
        return cls(masks, counts, everywhere)


@dataclass(frozen=True)
class PlaneMeasure:
    """What the detector reads of the host in one plane, and of a unit field there."""

    count: np.ndarray
    host: np.ndarray  # the host's pilot and code readings
    response: float  # the reading of the unit field, per unit of target
    per_unit: float  # mean square of the unit field over the image, per squared coefficient
    interference: float  # host energy in units of the whole-budget mark


class _Plan:
    """The detector's view of the host at working resolution and the coefficients to embed."""

    def __init__(self, rgb: Image.Image, key: bytes, payload: int, side: int, work: int, carriers: CarrierMap,
                 cfg: ImageWatermarkConfig) -> None:
        from scipy.ndimage import map_coordinates

        width, height = rgb.size
        self.cfg, self.key, self.side, self.carriers = cfg, key, side, carriers
        self.pixels = float(width * height)
        scale = work / min(width, height)
        self.work_size = (max(1, round(width * scale)), max(1, round(height * scale)))
        rgb_work = work_rgb(rgb, work)
        self.planes_work = (luma(rgb_work), chroma(rgb_work))
        self._band: np.ndarray | None = None  # the detector's fill band, computed on demand
        rows = ((np.arange(self.work_size[1], dtype=np.float32) + 0.5) * (height / self.work_size[1]) - 0.5) % side
        cols = ((np.arange(self.work_size[0], dtype=np.float32) + 0.5) * (width / self.work_size[0]) - 0.5) % side
        ty = np.broadcast_to(rows[:, None], (self.work_size[1], self.work_size[0]))
        tx = np.broadcast_to(cols[None, :], (self.work_size[1], self.work_size[0]))
        self.basis = basis(key, cfg.grid)[: 1 + CODEC.coded_bits].reshape(1 + CODEC.coded_bits, -1) / cfg.grid
        symbols = CODEC.symbols(key, payload)
        code_gain = np.sqrt((1 - cfg.pilot_share) / CODEC.coded_bits)
        self.t = np.concatenate([[np.sqrt(cfg.pilot_share)], code_gain * symbols])
        self.inverse = crosstalk_inverse(key, cfg)
        self.u = self.inverse @ self.t  # coefficients whose detector reading is proportional to t
        self.tile1 = self.tile_of(self.u)
        self.field1 = map_coordinates(self.tile1, [ty, tx], order=1, mode="grid-wrap")  # tile1 at working resolution

    def tile_of(self, coeffs: np.ndarray) -> np.ndarray:
        return np.array(smooth_tile((self.basis.T @ coeffs).reshape(self.cfg.grid, self.cfg.grid), self.side),
                        dtype=np.float32)

    def measure(self, plane: int) -> PlaneMeasure:
        from scipy.ndimage import gaussian_filter

        count = self.carriers.counts[plane]
        if all(self.carriers.everywhere[plane]):
            carrier_work: np.ndarray = np.ones((self.work_size[1], self.work_size[0]), dtype=np.float32)
        else:
            resized = self.carriers.masks[plane].resize(self.work_size, Image.Resampling.BILINEAR)
            carrier_work = np.asarray(resized, np.float32) / 255
        plane_band = carrier_work < 0.5  # only where the mark will not go can flat fill stay flat
        if plane_band.any():
            if self._band is None:
                self._band = fill_band(self.planes_work[0], self.cfg.band)
            plane_band &= self._band
        whitened, divisor = whiten_parts(self.planes_work[plane])
        host = readings(whitened, self.key, plane_band, self.cfg)
        # what the detector reads of the field alone (linearised: the host sets the divisor)
        field = self.field1 * carrier_work
        seen = readings((field - gaussian_filter(field, 2.0, truncate=3.0)) / divisor, self.key, plane_band, self.cfg)
        response = float(np.dot(seen, self.t) / np.dot(self.t, self.t))
        energy = float(np.einsum("ij,ij,ij->", self.tile1, self.tile1, count, dtype=np.float64))
        per_unit = energy / self.pixels / float(np.dot(self.u, self.u))
        interference = float(np.dot(host, host)) / max(response, 1e-12) ** 2 * per_unit
        return PlaneMeasure(count, host, response, per_unit, interference)

    def tile(self, m: PlaneMeasure, plane_budget: float) -> np.ndarray:
        """The tile for one plane, scaled so its field's mean square is ``plane_budget``."""
        u, t = self.u, self.t
        room = plane_budget / m.per_unit  # squared coefficients affordable
        coeffs = np.sqrt(room / np.dot(u, u)) * u
        if m.response > 0:
            v = self.inverse @ (m.host / m.response)  # coefficients that would cancel the host's reading
            uu, uv, vv = np.dot(u, u), np.dot(u, v), np.dot(v, v)
            tt, hh = np.dot(t, t), np.dot(m.host, m.host) / m.response**2
            best = -1.0
            for lam in np.linspace(0.0, 1.0, 11):  # how much host to cancel: maximise signal / residual host
                disc = (lam * uv) ** 2 - uu * (lam * lam * vv - room)
                if disc < 0:
                    continue
                a = (lam * uv + np.sqrt(disc)) / uu
                sinr = a * a * tt / ((1.0 - lam) ** 2 * hh + 1e-3 * room)
                if a > 0 and sinr > best:
                    best, coeffs = sinr, a * u - lam * v
        tile = self.tile_of(coeffs)
        energy = float(np.einsum("ij,ij,ij->", tile, tile, m.count, dtype=np.float64)) / self.pixels
        tile *= np.float32(np.sqrt(plane_budget / max(energy, 1e-12)))
        return tile


def _tiles(plan: _Plan, carriers: CarrierMap, share: float, budget: float, size: tuple[int, int]) -> list[np.ndarray]:
    """Each plane's tile: the budget split between luminance and chroma by the host interference
    each would face (a busy chroma plane, colourful texture, gets less)."""
    carrying = [float(count.sum()) > 0 for count in carriers.counts]
    if not carrying[1]:
        share = 0.0
    if not carrying[0]:  # all black or white: only a saturation-free chroma plane could carry it
        if share == 0:
            raise Unmarkable(f"nothing in this {size[0]}x{size[1]} image can carry the watermark "
                             "(every pixel is black, white or saturated)")
        share = 1.0
    luma_m = plan.measure(0) if carrying[0] else None
    chroma_m = plan.measure(1) if share > 0 else None
    if luma_m is not None and chroma_m is not None and share < 1:
        ratio = chroma_m.interference * CHROMA_COST / max(luma_m.interference, 1e-12)
        share *= float(np.clip(1.5 - ratio, 0.25, 1.0))
    side = plan.side
    tiles = [plan.tile(luma_m, budget * (1 - share)) if luma_m else np.zeros((side, side), dtype=np.float32)]
    if chroma_m is not None and share > 0:
        tiles.append(plan.tile(chroma_m, budget * share / CHROMA_COST))
        # the joint squared error of both fields (with the cross term) is what the budget limits
        both = np.minimum(carriers.counts[0], carriers.counts[1])
        c0, c1 = carriers.counts
        joint = (float(np.einsum("ij,ij,ij->", tiles[0], tiles[0], c0, dtype=np.float64))
                 + CHROMA_COST * float(np.einsum("ij,ij,ij->", tiles[1], tiles[1], c1, dtype=np.float64))
                 + 2 * CHROMA_CROSS * float(np.einsum("ij,ij,ij->", tiles[0], tiles[1], both, dtype=np.float64)))
        for tile in tiles:
            tile *= np.float32(np.sqrt(budget / max(joint / plan.pixels, 1e-12)))
    return tiles


def _apply(rgb: Image.Image, tiles: list[np.ndarray], carriers: CarrierMap, side: int,
           cfg: ImageWatermarkConfig) -> Image.Image:
    """Pass 2: add the fields strip by strip; rounding and clipping move the PSNR a little, so keep
    it at or above the floor (rarely needs a second pass)."""
    width, height = rgb.size
    floor_mse = 255.0**2 / 10 ** (cfg.min_psnr / 10)
    for _ in range(3):
        out = Image.new("RGB", (width, height))
        squared = 0.0
        for strip, (r0, r1) in enumerate(strips(height, side, cfg.strip_rows)):
            box = (0, r0, width, r1)
            lum = tile_rows(tiles[0], r0, r1, width)
            if not carriers.everywhere[0][strip]:
                lum *= np.asarray(carriers.masks[0].crop(box)) > 0
            change = np.empty((r1 - r0, width, 3), dtype=np.float32)
            if len(tiles) > 1:
                chr_ = tile_rows(tiles[1], r0, r1, width)
                if not carriers.everywhere[1][strip]:
                    chr_ *= np.asarray(carriers.masks[1].crop(box)) > 0
                np.multiply(chr_[..., None], CHROMA_DIRECTION, out=change)
                change += lum[..., None]
            else:
                change[...] = lum[..., None]
            src = np.asarray(rgb.crop(box))
            marked = np.rint(change, out=change).astype(np.int16)  # integer pixels: rint(src + f)
            marked += src
            np.clip(marked, 0, 255, out=marked)
            diff = (marked - src).ravel().astype(np.float32)
            squared += float(np.dot(diff, diff))
            out.paste(Image.fromarray(marked.astype(np.uint8), "RGB"), (0, r0))
        mse = squared / (width * height * 3)
        if mse <= floor_mse:
            return out
        for tile in tiles:
            tile *= np.float32(np.sqrt(floor_mse / mse) * 0.995)
    return out


def embed(image: Image.Image, key: bytes, payload: int, cfg: ImageWatermarkConfig = DEFAULT,
          target_psnr: float | None = None) -> Image.Image:
    """Return ``image`` (RGB/RGBA/L) carrying ``payload``; alpha is kept as is (an "L" image gets
    its luminance mark only)."""
    CODEC.check_payload(payload)
    width, height = image.size
    short = min(width, height)
    if short < cfg.min_embed_side:
        raise TooSmall(f"image {width}x{height} is too small to carry the watermark "
                       f"(shortest side must be at least {cfg.min_embed_side} px)")
    mode = image.mode
    alpha = image.getchannel("A") if mode in ("RGBA", "LA", "PA") else None
    rgb = image if mode == "RGB" else image.convert("RGB")
    small = short < cfg.small_side  # larger cells survive JPEG and downscaling better on small images
    side = round(short / 2) if small else round(short / 4)
    work = cfg.small_work if small else cfg.work  # where the detector's tile is cfg.tile wide
    share = 0.0 if mode in GREY_MODES else masking.chroma_share(short, cfg)
    carriers = CarrierMap.scan(rgb, side, cfg)
    plan = _Plan(rgb, key, payload, side, work, carriers, cfg)
    budget = 255.0**2 / 10 ** ((cfg.target_psnr if target_psnr is None else target_psnr) / 10)  # MSE of the mark
    out = _apply(rgb, _tiles(plan, carriers, share, budget, (width, height)), carriers, side, cfg)
    if mode == "L":
        return out.convert("L")
    if alpha is not None:
        out.putalpha(alpha)
        return out if mode == "RGBA" else out.convert(mode)
    return out
