"""The image watermark's tuning constants, typed and documented (the handler config carries them).

The defaults are the measured operating point (docs/watermark.md, docs/benchmarks.md); changing
them changes robustness, visibility and the false-positive bound, so the benchmark is the judge.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, model_validator

from synthgov.watermarking.falsepositives import FalsePositiveBudget
from synthgov.watermarking.payload import PayloadCodec

CODEC = PayloadCodec()  # 64-bit payload + 32-bit MAC, K=7 rate-1/2 code: 204 coded bits
LAYOUTS = 2  # tile layouts the detector tries (shortest side / 4 at `work`, / 2 at `small_work`)


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


class ImageWatermarkConfig(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    strength: float = Field(1.0, gt=0, le=4, description="Multiplies the perceptual model's amplitudes: 1 is the"
                            " "
                            "quality-first default; docs/benchmarks.md charts recovery against SSIMULACRA2 by strength")
    jnd: PerceptualModel = PerceptualModel()

    grid: int = Field(32, ge=16, le=64, description="Cells per tile side (the codes are grid² cells)")
    tile: int = Field(128, description="Tile side in the detector's working resolution, pixels")
    work: int = Field(512, description="The detector normalises the shortest side to this (tile = side / 4)")
    small_work: int = Field(256, description="… and to this (tile = side / 2, the layout of small images)")
    small_side: int = Field(640, description="Images with a shorter shortest side get tiles of half of it")
    min_embed_side: int = Field(256, description="Smallest shortest side that is marked")
    min_detect_side: int = Field(96, description="Smallest shortest side that is read")
    check_quality: int = Field(50, ge=1, le=100, description="The embedder reads its own mark back from a JPEG "
                               "copy of this quality to calibrate its gain and say how strong it is (the record's "
                               "watermark_strength)")
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
    pilot_share: float = Field(0.2, gt=0, lt=1, description="Share of the pattern energy spent on the pilot")
    band: int = Field(3, description="Pixels of margin zeroed around constant fill in the detector")
    strip_rows: int = Field(64, description="Rows processed at a time at full resolution (bounded memory)")
    geometries: int = Field(4, description="(scale, rotation) candidates decoded per layout")
    lattice_candidates: int = Field(3, description="Tile-lattice candidates from the autocorrelation")
    scale_range: tuple[float, float] = Field((0.7, 2.0), description="Relative scales searched")
    angle_range: float = Field(45.0, description="Degrees either way (the square lattice repeats every 90)")
    scan_step: float = Field(0.02, description="Relative scale step of the small layout's last-resort scan")
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
        if self.limited_snr > self.robust_snr:
            raise ValueError("limited_snr must not exceed robust_snr")
        return self

    @property
    def max_decodes(self) -> int:
        """Decodings per image: every layout's geometries, plus the small layout's scale scan."""
        return (LAYOUTS * self.geometries + 1) * self.shifts

    @property
    def budget(self) -> FalsePositiveBudget:
        return FalsePositiveBudget(self.max_decodes, self.list_size, CODEC.mac_bits)


DEFAULT = ImageWatermarkConfig()
