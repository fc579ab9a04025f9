"""Embedding: improved spread spectrum (Malvar and Florencio 2003) shaped by a perceptual model.

The perceptual model (``masking``) sets the mark's amplitude at every place; the embedder runs the
detector's front end on the host and spends part of each plane's energy cancelling the host's
projection onto the pilot and code space, so that the detector sees the mark and little of the
picture. Memory: full-resolution work is done in strips of ``cfg.strip_rows`` rows, so beyond the
input and the output image the embedder holds two bytes per pixel (the planes' 8-bit gains), the
compressed JPEG copy of its read-back (decoded at a reduced DCT scale) and small arrays; the planning
happens at the detector's working resolution.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
from PIL import Image

from synthgov.modalities.image.watermark import masking
from synthgov.modalities.image.watermark.config import CODEC, DEFAULT, ImageWatermarkConfig, Layout
from synthgov.modalities.image.watermark.frontend import (
    CHROMA_COST,
    CHROMA_CROSS,
    CHROMA_DIRECTION,
    HIGHPASS_SIGMA,
    chroma,
    fill_band,
    fold,
    luma,
    whiten_parts,
    work_rgb,
)
from synthgov.modalities.image.watermark.patterns import (
    basis,
    matched,
    reading_model,
    shaped_cells,
    smooth_tile,
)
from synthgov.watermarking.scheme import Expected, MarkStrength, TooSmall, Unmarkable

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


def periodic_bilinear(tile: np.ndarray, rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
    """The periodic ``tile`` sampled bilinearly at every (row, column) of two coordinate vectors (in
    tile pixels): bilinear interpolation is separable, so two one-dimensional passes give what a 2-D
    ``map_coordinates(order=1, mode="grid-wrap")`` would, at a fraction of its cost."""
    def weights(coords: np.ndarray, side: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        base = np.floor(coords)
        frac = (coords - base).astype(np.float32)
        first = base.astype(np.int64) % side
        return first, (first + 1) % side, frac

    r0, r1, fr = weights(rows, tile.shape[0])
    c0, c1, fc = weights(cols, tile.shape[1])
    by_rows = tile[r0] * (1 - fr)[:, None] + tile[r1] * fr[:, None]
    out: np.ndarray = by_rows[:, c0] * (1 - fc) + by_rows[:, c1] * fc
    return out.astype(np.float32)


@dataclass
class GainMap:
    """Pass 1: each plane's amplitude map from the perceptual model.

    ``work[p]`` is the map at the detector's working resolution divided by its RMS ``rms[p]``
    (code values), so a unit-RMS field times it costs ``rms[p]²`` MSE; ``full[p]`` is the same
    gain at full resolution in 8 bits (``full_scale[p]`` per step), one byte per pixel and plane,
    which the strips of pass 2 read (bounded memory)."""

    work: list[np.ndarray]
    rms: list[float]
    full: list[Image.Image | None]
    full_scale: list[float]

    @classmethod
    def build(cls, rgb: Image.Image, rgb_work: np.ndarray, cfg: ImageWatermarkConfig,
              chroma_weight: float) -> GainMap:
        work_size = (rgb_work.shape[1], rgb_work.shape[0])
        h, w = (rgb_work.shape[0] // 2) * 2, (rgb_work.shape[1] // 2) * 2  # 2x2 means of the working copy
        rgb_mask = 0.25 * (rgb_work[0:h:2, 0:w:2] + rgb_work[1:h:2, 0:w:2] + rgb_work[0:h:2, 1:w:2]
                           + rgb_work[1:h:2, 1:w:2])
        amps = masking.amplitudes(rgb_mask, cfg, chroma_weight)
        work: list[np.ndarray] = []
        rms: list[float] = []
        full: list[Image.Image | None] = []
        full_scale: list[float] = []
        for amp in (amps.luma, amps.chroma):
            level = float(np.sqrt(np.mean(amp.astype(np.float64) ** 2)))
            if level <= 1e-6:
                work.append(np.zeros((work_size[1], work_size[0]), dtype=np.float32))
                rms.append(0.0)
                full.append(None)
                full_scale.append(0.0)
                continue
            gain = Image.fromarray((amp / level).astype(np.float32), "F")
            work.append(np.asarray(gain.resize(work_size, Image.Resampling.BILINEAR), dtype=np.float32))
            top = float(amp.max()) / level
            steps = Image.fromarray(np.rint(np.asarray(gain) * (255.0 / top)).astype(np.uint8), "L")
            full.append(steps.resize(rgb.size, Image.Resampling.BILINEAR))
            full_scale.append(top / 255.0)
            rms.append(level)
        return cls(work, rms, full, full_scale)

    def strip(self, plane: int, r0: int, r1: int) -> np.ndarray:
        """The plane's gain at full resolution for rows ``r0``-``r1``."""
        image = self.full[plane]
        assert image is not None
        rows = np.asarray(image.crop((0, r0, image.size[0], r1)), dtype=np.float32)
        rows *= np.float32(self.full_scale[plane])
        return rows

    def carrying(self, plane: int) -> bool:
        return self.rms[plane] > 0.0


@dataclass(frozen=True)
class PlaneMeasure:
    """What the detector reads of the host in one plane, and of a unit field there."""

    host: np.ndarray  # the host's pilot and code readings
    response: float  # the reading of the unit field, per unit of target
    per_unit: float  # mean square of the unit field over the image, per squared coefficient
    interference: float  # host energy in units of the whole-budget mark
    coeffs: np.ndarray  # the code coefficients whose reading in this plane is proportional to the target


class _Plan:
    """The detector's view of the host at working resolution and the coefficients to embed."""

    def __init__(self, size: tuple[int, int], rgb_work: np.ndarray, key: bytes, payload: int, side: int,
                 gains: GainMap, cfg: ImageWatermarkConfig) -> None:
        width, height = size
        self.cfg, self.key, self.side, self.gains = cfg, key, side, gains
        self.work_size = (rgb_work.shape[1], rgb_work.shape[0])
        self.planes_work = (luma(rgb_work), chroma(rgb_work))
        self._band: np.ndarray | None = None  # the detector's fill band, computed on demand
        rows = ((np.arange(self.work_size[1], dtype=np.float32) + 0.5) * (height / self.work_size[1]) - 0.5) % side
        cols = ((np.arange(self.work_size[0], dtype=np.float32) + 0.5) * (width / self.work_size[0]) - 0.5) % side
        self.basis = basis(key, cfg.grid)[: 1 + CODEC.coded_bits].reshape(1 + CODEC.coded_bits, -1) / cfg.grid
        symbols = CODEC.symbols(key, payload)
        code_gain = np.sqrt((1 - cfg.pilot_share) / CODEC.coded_bits)
        self.t = np.concatenate([[np.sqrt(cfg.pilot_share)], code_gain * symbols])
        self.inverse = reading_model(key, cfg).inverse  # coefficients from target readings
        self.u = self.inverse @ self.t  # coefficients whose detector reading is proportional to t
        self.rows, self.cols = rows, cols

    def tile_of(self, coeffs: np.ndarray) -> np.ndarray:
        cells = shaped_cells((self.basis.T @ coeffs).reshape(self.cfg.grid, self.cfg.grid), self.cfg)
        return np.array(smooth_tile(cells, self.side), dtype=np.float32)

    def measure(self, plane: int) -> PlaneMeasure:
        from synthgov.watermarking.filters import gaussian

        gain = self.gains.work[plane]
        plane_band = gain < 0.05  # only where the mark (almost) does not go can flat fill stay flat
        if plane_band.any():
            if self._band is None:
                self._band = fill_band(self.planes_work[0], self.cfg.band)
            plane_band &= self._band
        whitened, divisor = whiten_parts(self.planes_work[plane])
        host = readings(whitened, self.key, plane_band, self.cfg)
        # what the detector reads of the field alone (linearised: the host sets the divisor)
        u = self.u
        tile = self.tile_of(u)
        field = periodic_bilinear(tile, self.rows, self.cols) * gain
        seen = readings((field - gaussian(field, HIGHPASS_SIGMA)) / divisor, self.key, plane_band, self.cfg)
        response = float(np.dot(seen, self.t) / np.dot(self.t, self.t))
        per_unit = float(np.mean(tile.astype(np.float64) ** 2)) / float(np.dot(u, u))
        interference = float(np.dot(host, host)) / max(response, 1e-12) ** 2 * per_unit
        return PlaneMeasure(host, response, per_unit, interference, u)

    def tile(self, m: PlaneMeasure, level: float) -> np.ndarray:
        """The tile for one plane at RMS ``level``: the code direction, minus as much of the host's
        reading as maximises signal over residual host (improved spread spectrum), from the plane's
        pre-compensated coefficients."""
        u, t = m.coeffs, self.t
        room = level**2 / m.per_unit  # squared coefficients affordable
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
        tile *= np.float32(level / np.sqrt(max(float(np.mean(tile.astype(np.float64) ** 2)), 1e-12)))
        return tile


def _tiles(plan: _Plan, gains: GainMap, size: tuple[int, int], cfg: ImageWatermarkConfig) -> list[np.ndarray]:
    """Each plane's unit-RMS tile, scaled by the plane's RMS amplitude (the PSNR floor applies later)."""
    if not gains.carrying(0) and not gains.carrying(1):
        raise Unmarkable(f"nothing in this {size[0]}x{size[1]} image can carry the watermark "
                         "(every pixel is black, white or saturated)")
    return [plan.tile(plan.measure(p), gains.rms[p]) if gains.carrying(p)
            else np.zeros((plan.side, plan.side), dtype=np.float32) for p in (0, 1)]


def _scaled(tiles: list[np.ndarray], gains: GainMap, gain: float,
            cfg: ImageWatermarkConfig) -> tuple[list[np.ndarray], float]:
    """The tiles times ``gain``, or less if the mark would cost more than the PSNR floor (the
    perceptual model rarely lets it), and the gain used."""
    # the joint squared error of both fields (with the cross term: the offsets point partly against each other)
    mse = gains.rms[0] ** 2 + CHROMA_COST * gains.rms[1] ** 2
    mse += 2 * CHROMA_CROSS * float(np.mean(tiles[0] * tiles[1])) * float(np.mean(gains.work[0] * gains.work[1]))
    floor_mse = 255.0**2 / 10 ** (cfg.min_psnr / 10)
    gain = min(gain, float(np.sqrt(floor_mse / mse))) if mse > 0 else gain
    return [tile * np.float32(gain) for tile in tiles], gain


def _apply(rgb: Image.Image, tiles: list[np.ndarray], gains: GainMap, side: int,
           cfg: ImageWatermarkConfig) -> tuple[Image.Image, float]:
    """Pass 2: add the fields strip by strip, each plane's tile times its gain there; the marked
    image and its PSNR."""
    from synthgov.watermarking.filters import add_offsets

    width, height = rgb.size
    out = Image.new("RGB", (width, height))
    squared = 0.0
    red, green = np.float32(CHROMA_DIRECTION[0]), np.float32(CHROMA_DIRECTION[1])  # blue gets no chroma offset
    for r0, r1 in strips(height, side, cfg.strip_rows):
        lum = tile_rows(tiles[0], r0, r1, width)
        if gains.carrying(0):
            lum *= gains.strip(0, r0, r1)
        if gains.carrying(1):
            chr_ = tile_rows(tiles[1], r0, r1, width) * gains.strip(1, r0, r1)
            offsets = (lum + red * chr_, lum + green * chr_, lum)
        else:
            offsets = (lum, lum, lum)
        marked, change = add_offsets(np.asarray(rgb.crop((0, r0, width, r1))), offsets)  # integer pixels: rint(src + f)
        squared += change
        out.paste(Image.fromarray(marked, "RGB"), (0, r0))
    mse = squared / (width * height * 3)
    return out, (round(10 * float(np.log10(255.0**2 / mse)), 2) if mse > 0 else 99.0)


def embed(image: Image.Image, key: bytes, payload: int, cfg: ImageWatermarkConfig = DEFAULT) -> Image.Image:
    """Return ``image`` (RGB/RGBA/L) carrying ``payload``; alpha is kept as is (an "L" image gets
    its luminance mark only). The same mark as :func:`embed_reported`'s (calibrated)."""
    return embed_reported(image, key, payload, cfg)[0]


def read_back(marked: Image.Image, key: bytes, payload: int, layout: Layout, cfg: ImageWatermarkConfig) -> float:
    """The code symbols' signal-to-noise ratio (dB) the detector gets, at the layout and geometry
    the mark was made for, from a JPEG copy of the marked image at ``cfg.check_quality`` (4:2:0,
    what sharing does to a picture): the honest measure of the mark's strength. The embedder knows
    the symbols, so it measures their SNR directly (mean squared over variance of the readings
    times the symbols, summed over the planes: what maximal-ratio combining gets); the code reads
    the payload reliably from about 3 dB.

    In a layout of two tiles a side or fewer, a crop changes which cells are seen how often and
    takes away part of the host cancellation, which costs such a mark far more than JPEG alone; so
    there the reading is the lower of that copy's and a re-shared crop's (:func:`crop_read_back`)."""
    import io

    buf = io.BytesIO()
    marked.convert("RGB").save(buf, "JPEG", quality=cfg.check_quality)
    copy = Image.open(io.BytesIO(buf.getvalue()))
    scale = layout.work / min(marked.size)
    # decoded at a reduced DCT scale no smaller than the working copy: the front end looks at
    # nothing finer, and an 8K picture's read-back then needs no second full-size image in memory
    copy.draft("RGB", (max(1, round(marked.size[0] * scale)), max(1, round(marked.size[1] * scale))))
    snr = symbol_snr(copy, key, payload, layout.work, cfg)
    if cfg.check_crop > 0 and cfg.scans(layout):
        snr = min(snr, crop_read_back(marked, key, payload, layout.work, cfg))
    return snr


def crop_read_back(marked: Image.Image, key: bytes, payload: int, work: int, cfg: ImageWatermarkConfig) -> float:
    """The symbols' SNR after what re-sharing a cropped picture does: the centre keeping
    ``cfg.check_crop`` of the area, scaled to 80 % and saved as JPEG q75, read where it was (scaled
    back and laid on a flat canvas the detector's fill band ignores)."""
    import io

    width, height = marked.size
    side = float(np.sqrt(cfg.check_crop))
    cw, ch = max(1, int(width * side)), max(1, int(height * side))
    ox, oy = (width - cw) // 2, (height - ch) // 2
    part = marked.convert("RGB").crop((ox, oy, ox + cw, oy + ch))
    part = part.resize((max(1, int(cw * 0.8)), max(1, int(ch * 0.8))), Image.Resampling.BILINEAR)
    buf = io.BytesIO()
    part.save(buf, "JPEG", quality=75)
    back = Image.open(io.BytesIO(buf.getvalue())).convert("RGB").resize((cw, ch), Image.Resampling.BICUBIC)
    canvas = Image.new("RGB", (width, height), (128, 128, 128))
    canvas.paste(back, (ox, oy))
    return symbol_snr(canvas, key, payload, work, cfg)


def symbol_snr(image: Image.Image, key: bytes, payload: int, work: int, cfg: ImageWatermarkConfig) -> float:
    """The code symbols' SNR (dB) in ``image`` at the canonical geometry of layout ``work``, read as
    the detector reads them (equalised)."""
    from synthgov.modalities.image.watermark.frontend import read_planes

    model = reading_model(key, cfg)
    symbols = CODEC.symbols(key, payload)
    total = 0.0
    for plane, weight in zip(*read_planes(image, work, cfg), strict=True):
        folded = fold(plane, 1.0, 0.0, cfg.tile)
        agreement = model.equalise(folded - folded.mean(), fold(weight, 1.0, 0.0, cfg.tile))[1:] * symbols
        mean = float(agreement.mean())
        total += max(mean, 0.0) ** 2 / max(float(agreement.var()), 1e-12)
    return round(10 * float(np.log10(max(total, 1e-3))), 2)


def calibration(snr_db: float, cfg: ImageWatermarkConfig) -> float:
    """The gain that brings a mark read back at ``snr_db`` to the target (``cfg.target_snr`` plus
    the strength in decibels of amplitude): the readings grow in proportion to the mark's
    amplitude, so the SNR by its square; a mark with room to spare is made fainter and a weak one
    stronger, within ``cfg.gain_range``."""
    low, high = cfg.gain_range
    target = cfg.target_snr + 20 * np.log10(cfg.strength)
    return float(np.clip(10 ** ((target - snr_db) / 20), low, high))


def _eased(original: Image.Image, model: Image.Image, boosted: Image.Image, gain: float,
           cfg: ImageWatermarkConfig) -> float | None:
    """The gain a boosted mark must come down to so that it stays above ``cfg.quality_floor``
    (SSIMULACRA2 against the original), or None if it is above already: the perceptual model
    keeps a mark at its own amplitudes invisible, but the calibration's boost of a weak mark (small
    or dark pictures) can make it show. Interpolated between the model's mark and the boosted one
    (the score falls smoothly with the gain); not below the model's own amplitudes."""
    from synthgov.watermarking.quality import ssimulacra2

    floor = cfg.quality_floor
    strong = ssimulacra2(original, boosted)
    if strong >= floor:
        return None
    plain = ssimulacra2(original, model)
    if plain <= floor:
        return 1.0
    return 1.0 + (gain - 1.0) * (plain - floor) / (plain - strong)


@dataclass
class _Made:
    """A mark made in one layout at the perceptual model's amplitudes (before calibration)."""

    layout: Layout
    side: int
    gains: GainMap
    tiles: list[np.ndarray]
    used: float
    out: Image.Image
    psnr: float
    snr: float | None = None  # its JPEG read-back, once measured
    clean: float | None = None  # its reading as made (no attack), measured where two layouts compete


def _preferred(a: _Made, b: _Made, cfg: ImageWatermarkConfig) -> _Made:
    """Of two marks made in different layouts, the one to keep: a mark must first of all read as it
    was made (a whole-side tile holds fewer copies of each cell, and on a busy small picture it can
    read worse untouched even where it reads better after JPEG); of the marks that read robustly
    untouched, the one whose read-back (JPEG copy, and crop where checked) is stronger; if neither
    does, the one that reads better untouched."""
    a_ok, b_ok = (a.clean or 0.0) >= cfg.robust_snr, (b.clean or 0.0) >= cfg.robust_snr
    if a_ok != b_ok:
        return a if a_ok else b
    if a_ok:
        return a if (a.snr or 0.0) >= (b.snr or 0.0) else b
    return a if (a.clean or 0.0) >= (b.clean or 0.0) else b


def _make(rgb: Image.Image, key: bytes, payload: int, layout: Layout, grey: bool, cfg: ImageWatermarkConfig) -> _Made:
    width, height = rgb.size
    short = min(width, height)
    tiles_across = cfg.tiles(layout)
    side = round(short / tiles_across)
    rgb_work = work_rgb(rgb, layout.work)  # where the detector's tile is cfg.tile wide
    gains = GainMap.build(rgb, rgb_work, cfg, 0.0 if grey else masking.chroma_weight(short, tiles_across, cfg))
    plan = _Plan((width, height), rgb_work, key, payload, side, gains, cfg)
    tiles = _tiles(plan, gains, (width, height), cfg)
    first, used = _scaled(tiles, gains, 1.0, cfg)
    out, psnr = _apply(rgb, first, gains, side, cfg)
    return _Made(layout, side, gains, tiles, used, out, psnr)


def embed_reported(image: Image.Image, key: bytes, payload: int, cfg: ImageWatermarkConfig = DEFAULT, *,
                   check: bool = True) -> tuple[Image.Image, MarkStrength]:
    """:func:`embed`, and how strong the mark came out (what the generation record keeps).

    The mark is made at the perceptual model's amplitudes in the layout for the picture's size (where
    two layouts may serve, in both, keeping one: :func:`_preferred`), read back from a JPEG copy
    (:func:`read_back`), and made again at the calibrated gain (:func:`calibration`) when that
    differs by more than ``cfg.recalibrate``; a boost is eased where it would take the picture under
    ``cfg.quality_floor`` (:func:`_eased`). A remade mark is read back again for the report, and a
    fainter one that lost more than its amplitude said takes one secant step back. With
    ``check=False`` the mark is made once at the model's amplitudes in the first layout for its size
    and the report's margin is 0 (a placeholder; the benchmark uses it to time the model's mark
    alone)."""
    CODEC.check_payload(payload)
    width, height = image.size
    short = min(width, height)
    if short < cfg.min_embed_side:
        raise TooSmall(f"image {width}x{height} is too small to carry the watermark "
                       f"(shortest side must be at least {cfg.min_embed_side} px)")
    mode = image.mode
    alpha = image.getchannel("A") if mode in ("RGBA", "LA", "PA") else None
    rgb = image if mode == "RGB" else image.convert("RGB")
    layouts = cfg.layouts_for(short) if check else cfg.layouts_for(short)[:1]
    made: _Made | None = None
    for layout in layouts:
        candidate = _make(rgb, key, payload, layout, mode in GREY_MODES, cfg)
        if check:
            candidate.snr = read_back(candidate.out, key, payload, layout, cfg)
            if len(layouts) > 1:
                candidate.clean = symbol_snr(candidate.out, key, payload, layout.work, cfg)
        made = candidate if made is None else _preferred(made, candidate, cfg)
        del candidate  # a picture's worth of memory each: at most two are held
    assert made is not None
    out, psnr, gains, side = made.out, made.psnr, made.gains, made.side
    if check:
        snr = made.snr or 0.0
        gain = calibration(snr, cfg)
        if abs(gain - 1.0) > cfg.recalibrate:
            model, first_psnr = out, psnr
            scaled, now = _scaled(made.tiles, gains, gain, cfg)
            out, psnr = _apply(rgb, scaled, gains, side, cfg)
            if gain > 1.0 and cfg.quality_floor > 0 and width * height <= cfg.quality_guard_pixels:
                eased = _eased(rgb, model, out, gain, cfg)
                if eased == 1.0:  # even the model's own mark is at the floor: it is the mark
                    out, psnr = model, first_psnr
                elif eased is not None:
                    out, psnr = _apply(rgb, _scaled(made.tiles, gains, eased, cfg)[0], gains, side, cfg)
            del scaled
            # the mark made is read back again: JPEG's dead zone erases faint coefficients, so a
            # stronger mark gains more than its amplitude says (3-6 dB, measured) and a fainter one
            # on a busy grey picture loses more (up to 4 dB): the record says what was made
            snr = read_back(out, key, payload, made.layout, cfg)
            applied = now / made.used
            target = cfg.target_snr + 20 * np.log10(cfg.strength)
            first = made.snr or 0.0
            if applied < 1.0 and snr < target - 0.5 and first > snr:
                # it lost more than its amplitude said: one step back towards the model's own mark,
                # along the line through the two readings (the secant: the dead zone makes the
                # reading fall faster than the amplitude, so the amplitude's own rule would overshoot)
                step = 20 * float(np.log10(applied))  # dB of amplitude, negative
                back = step + (target - snr) * step / (snr - first)
                again = min(1.0, 10 ** (min(0.0, max(step, back)) / 20))
                if again >= 1.0 - cfg.recalibrate:
                    out, psnr, snr = model, first_psnr, first
                else:
                    out, psnr = _apply(rgb, _scaled(made.tiles, gains, again, cfg)[0], gains, side, cfg)
                    snr = read_back(out, key, payload, made.layout, cfg)
            del model
        expected = (Expected.ROBUST if snr >= cfg.robust_snr
                    else Expected.LIMITED if snr >= cfg.limited_snr else Expected.UNRELIABLE)
        checked = f"JPEG q{cfg.check_quality} copy"
        if cfg.check_crop > 0 and cfg.scans(made.layout):
            checked += f" and a {round(cfg.check_crop * 100)} % crop at 80 %, JPEG q75"
        report = MarkStrength(cfg.strength, checked, snr, psnr, expected)
    else:
        report = MarkStrength(cfg.strength, "none", 0.0, psnr, Expected.LIMITED)
    del made
    if mode == "L":
        return out.convert("L"), report
    if alpha is not None:
        out.putalpha(alpha)
        return (out if mode == "RGBA" else out.convert(mode)), report
    return out, report
