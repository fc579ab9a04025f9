"""The image watermark's tuning constants, typed and documented (the handler config carries them).

The defaults are the measured operating point (docs/watermark.md, docs/benchmarks.md); changing
them changes robustness, visibility and the false-positive bound, so the benchmark is the judge.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, model_validator

from synthgov.watermarking.falsepositives import FalsePositiveBudget
from synthgov.watermarking.payload import PayloadCodec

CODEC = PayloadCodec()  # 64-bit payload + 32-bit MAC, K=7 rate-1/2 code: 204 coded bits


class PerceptualModel(BaseModel):
    """The perceptual model's constants (``masking``): amplitudes are RMS code values (0-255).

    Measured against SSIMULACRA 2.1 (docs/watermark.md): in sRGB code values the cost of a pattern
    hardly depends on the background level, and a pattern's cost falls with the local contrast at
    its own scale as 1 / (1 + (contrast / knee)²), so the amplitude grows as the square root."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    flat: float = Field(0.175, ge=0, description="Luminance amplitude on a flat area")
    knee: float = Field(5.0, gt=0, description="Local luminance contrast (RMS) at which the amplitude has grown by √2")
    ceiling: float = Field(4.0, gt=0, description="Largest luminance amplitude")
    grey_luma: float = Field(2.0, ge=1, description="Luminance amplitudes are multiplied by this where the picture "
                             "has no chroma plane to carry the mark (grey images; small cells that 4:2:0 loses)")
    chroma_flat: float = Field(1.2, ge=0, description="Green-red amplitude on a flat area (units of the chroma plane)")
    chroma_knee: float = Field(6.0, gt=0, description="Local green-red contrast at which it has grown by √2")
    chroma_ceiling: float = Field(8.0, gt=0, description="Largest green-red amplitude")
    erode_cells: float = Field(3.5, ge=0, description="Width of the minimum filter on the contrast maps, in cells "
                               "(wider than the contrast window, so an edge between flat areas does not spread)")
    highpass: float = Field(2.0, ge=0, description="The field loses what is coarser than this Gaussian (detector "
                            "pixels; the detector's own high-pass): slow blotches cost sight and read nothing")


class Layout(BaseModel):
    """One tile layout: the detector normalises the shortest side to ``work`` pixels, where a tile is
    ``cfg.tile`` wide, so ``work / tile`` tiles span the shortest side; the embedder may use it for
    pictures whose shortest side lies in [``min_side``, ``max_side``] (where two layouts may, it makes
    both and keeps one: ``embedding._preferred``)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    work: int = Field(gt=0)
    min_side: int = Field(ge=0)
    max_side: int = Field(gt=0)

    @model_validator(mode="after")
    def _range(self) -> Layout:
        if self.min_side > self.max_side:
            raise ValueError(f"a layout's min_side ({self.min_side}) must not exceed its max_side ({self.max_side})")
        return self


# JPEG works on 8 x 8 blocks of the picture's own pixels: cells of 8 px or more keep the mark in the
# blocks' lowest coefficients, which even q50 keeps, while 4-px cells read ~10 dB worse after it. But
# larger cells also carry more of the picture's own texture as noise (natural pictures have most of
# their energy in coarse detail) and fewer copies of each cell to cancel it over, which can cost a
# luminance mark on a grey or busy picture more than JPEG does. So where two layouts fit, the embedder
# makes the mark in both and keeps the better (``embedding._preferred``): a quarter of the shortest
# side from 640 px, half of it below 1,024 px, the whole of it below 640 px.
DEFAULT_LAYOUTS = (Layout(work=512, min_side=640, max_side=1 << 30), Layout(work=256, min_side=0, max_side=1023),
                   Layout(work=128, min_side=0, max_side=639))


class ImageWatermarkConfig(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    strength: float = Field(1.0, gt=0, le=4, description="Multiplies the perceptual model's amplitudes: 1 is the"
                            " "
                            "quality-first default; docs/benchmarks.md charts recovery against SSIMULACRA2 by strength")
    jnd: PerceptualModel = PerceptualModel()

    grid: int = Field(32, ge=16, le=64, description="Cells per tile side (the codes are grid² cells)")
    tile: int = Field(128, description="Tile side in the detector's working resolution, pixels")
    layouts: tuple[Layout, ...] = Field(DEFAULT_LAYOUTS, min_length=1, description="The tile layouts, largest "
                                        "working resolution first (the detector tries them all, in this order)")
    min_embed_side: int = Field(256, description="Smallest shortest side that is marked")
    min_detect_side: int = Field(96, description="Smallest shortest side that is read")
    check_quality: int = Field(50, ge=1, le=100, description="The embedder reads its own mark back from a JPEG "
                               "copy of this quality to calibrate its gain and say how strong it is (the record's "
                               "watermark_strength)")
    check_crop: float = Field(0.7, ge=0, le=1, description="In layouts of two tiles a side or fewer the read-back "
                              "also reads a crop keeping this share of the area, scaled to 80 % and saved at JPEG "
                              "q75, and takes the lower SNR (0: JPEG copy only)")
    target_snr: float = Field(5.0, description="Code-symbol SNR (dB) on that copy the calibration aims at (plus "
                              "20 log10 strength); the payload reads reliably from about 3 dB")
    gain_range: tuple[float, float] = Field((0.4, 1.4), description="Least and most the calibration may scale the "
                                            "perceptual model's amplitudes")
    recalibrate: float = Field(0.05, ge=0, description="The mark is made again only when the calibrated gain "
                               "differs from 1 by more than this")
    quality_floor: float = Field(80.5, ge=0, le=100, description="A calibration boost (gain above 1) is eased "
                                 "where it would take SSIMULACRA2 of the marked picture against the original under "
                                 "this (0: never measured)")
    quality_guard_pixels: int = Field(2_500_000, ge=0, description="Largest picture (pixels) whose boost is "
                                      "measured against the floor (SSIMULACRA2 costs about 0.35 s a megapixel)")
    robust_snr: float = Field(4.5, description="Code-symbol SNR (dB) on that copy from which a mark is expected "
                              "robust")
    limited_snr: float = Field(-4.0, description="… and below which it is unreliable (between the two: limited)")
    min_psnr: float = Field(34.0, description="Whatever the model allows, the mark never costs more than this, dB")
    pilot_share: float = Field(0.3, gt=0, lt=1, description="Share of the pattern energy spent on the pilot")
    band: int = Field(3, description="Pixels of margin zeroed around constant fill in the detector")
    strip_rows: int = Field(64, description="Rows processed at a time at full resolution (bounded memory)")
    geometries: int = Field(4, description="(scale, rotation) candidates decoded per layout")
    lattice_candidates: int = Field(3, description="Tile-lattice candidates from the autocorrelation")
    scale_range: tuple[float, float] = Field((0.7, 2.0), description="Relative scales searched")
    angle_range: float = Field(45.0, description="Degrees either way (the square lattice repeats every 90)")
    scan_step: float = Field(0.02, description="Relative scale step of the small layouts' last-resort scan")
    scan_angle: float = Field(8.0, ge=0, le=45, description="Degrees either way of the small layouts' last-resort "
                              "rotation scan (whole degrees, at scale 1 and at the scale scan's best)")
    climbs: tuple[int, int] = Field((2, 1), description="Refinement rounds at the coarse and the fine step")
    shifts: int = Field(3, description="Best pilot shifts decoded per geometry")
    orientations: int = Field(8, description="Quarter turns and mirror images of the folded tile tried")
    list_size: int = Field(16, description="Candidate words per decoding (list Viterbi), each checked by the MAC")
    list_z: float = Field(5.0, description="Pilot z-score from which the whole list is decoded")
    z_min: float = Field(3.0, description="Pilot z-score below which a shift is not decoded")

    @model_validator(mode="after")
    def _ranges(self) -> ImageWatermarkConfig:
        low, high = self.gain_range
        if not 0 < low <= 1 <= high:
            raise ValueError(f"gain_range must be (low, high) with 0 < low <= 1 <= high, not {self.gain_range}")
        if any(layout.work % self.tile for layout in self.layouts):
            raise ValueError("every layout's work must be a whole number of tiles")
        if self.limited_snr > self.robust_snr:
            raise ValueError("limited_snr must not exceed robust_snr")
        return self

    def layouts_for(self, short: int) -> list[Layout]:
        """The layouts the embedder may use for a picture with this shortest side (at least one)."""
        fits = [layout for layout in self.layouts if layout.min_side <= short <= layout.max_side]
        return fits or [min(self.layouts, key=lambda layout: abs(layout.min_side - short))]

    def tiles(self, layout: Layout) -> int:
        """Tiles across the shortest side in this layout."""
        return layout.work // self.tile

    def scans(self, layout: Layout) -> bool:
        """Whether the detector scans this layout's scales and small rotations by the pilot as a last
        resort (and the read-back reads a crop too): with two tiles a side or fewer, a cropped or
        turned picture shows too few for the autocorrelation."""
        return self.tiles(layout) <= 2

    @property
    def max_decodes(self) -> int:
        """Decodings per image: every layout's geometries (the canonical one and the lattice's), plus
        the scale and the rotation scan of each layout that scans."""
        return (len(self.layouts) * self.geometries + 2 * sum(map(self.scans, self.layouts))) * self.shifts

    @property
    def budget(self) -> FalsePositiveBudget:
        return FalsePositiveBudget(self.max_decodes, self.list_size, CODEC.mac_bits)


DEFAULT = ImageWatermarkConfig()
