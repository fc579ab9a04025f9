"""The image watermark's part of docs/benchmarks.md, and its two charts (drawn with Pillow)."""

from __future__ import annotations

from pathlib import Path

COLOURS = [(120, 0, 0), (220, 70, 60), (90, 90, 90), (60, 120, 200), (40, 150, 90)]


def _settings(r: dict) -> str:
    """The run's environment settings where they were not the defaults."""
    st = r.get("settings")
    if not st:
        return ""
    parts = []
    if st["variants"] != 8:
        parts.append(f"SYNTHGOV_BENCH_WM_VARIANTS={st['variants']}")
    if st["strengths"] != [0.5, 0.75, 1.0, 1.5, 2.0]:
        parts.append("SYNTHGOV_BENCH_WM_STRENGTHS=" + ",".join(f"{v:g}" for v in st["strengths"]))
    if st["fp_attempts"] != 20000:
        parts.append(f"SYNTHGOV_BENCH_FP_ATTEMPTS={st['fp_attempts']}")
    return f" with `{' '.join(parts)}`" if parts else ""


def _speed_when(r: dict) -> str:
    note = r.get("speed_note", "after a change to the embedder")
    return f" (the speed section again at {r['speed_when']}, {note})" if r.get("speed_when") else ""


def _font(size: int = 14):
    from PIL import ImageFont

    from synthgov.modalities.image.visible import FONT_PATH

    return ImageFont.truetype(str(FONT_PATH), size)


def robustness_chart(r: dict, path: Path) -> None:
    """Grouped bars: exact-recovery rate per attack, synthgov's two rows and the peers."""
    from PIL import Image, ImageDraw

    full = r["full"]
    series = [(f"synthgov, {full['natural']['images']} natural photographs", full["natural"]["attacks"]),
              (f"synthgov, {full['flat']['images']} flat images", full["flat"]["attacks"])]
    series += [(f"{m} (subset of {len(r['corpus'])})", v["attacks"]) for m, v in r["methods"].items()
               if not m.startswith("synthgov")]
    attacks = list(series[0][1])
    width, height, left, top, bottom = 1240, 560, 70, 60, 150
    im = Image.new("RGB", (width, height), "white")
    d = ImageDraw.Draw(im)
    font = _font()
    d.text((left, 15), "Exact payload recovery per attack (share of images), default strength", fill="black",
           font=font)
    plot_h = height - top - bottom
    for frac in (0, 0.25, 0.5, 0.75, 1.0):
        y = top + plot_h * (1 - frac)
        d.line((left, y, width - 60, y), fill=(225, 225, 225))
        d.text((20, y - 8), f"{frac:.0%}", fill="black", font=font)
    group = (width - 60 - left) / len(attacks)
    bar = group * 0.8 / len(series)
    for i, attack in enumerate(attacks):
        x0 = left + i * group + group * 0.1
        for j, (_, table) in enumerate(series):
            rate = table[attack]["rate"] if attack in table else 0.0
            x = x0 + j * bar
            d.rectangle((x, top + plot_h * (1 - rate), x + bar - 1, top + plot_h), fill=COLOURS[j % len(COLOURS)])
        centre = left + i * group + group / 2
        d.text((centre - d.textlength(attack, font=font) / 2, top + plot_h + 8 + (i % 2) * 20), attack,
               fill="black", font=font)
    for j, (label, _) in enumerate(series):
        x, y = left + (j % 2) * 580, height - 80 + (j // 2) * 24
        d.rectangle((x, y, x + 14, y + 14), fill=COLOURS[j % len(COLOURS)])
        d.text((x + 20, y - 2), label, fill="black", font=font)
    im.save(path, optimize=True)


def tradeoff_chart(r: dict, path: Path) -> None:
    """Recovery (all attacks, all trials) against median SSIMULACRA2, one point per strength; the
    peers at their only setting."""
    from PIL import Image, ImageDraw

    width, height, left, right, top, bottom = 900, 560, 80, 40, 60, 110
    im = Image.new("RGB", (width, height), "white")
    d = ImageDraw.Draw(im)
    font = _font()
    d.text((left, 15), "Recovery over every attack vs. invisibility (median SSIMULACRA2 of marked vs original)",
           fill="black", font=font)
    x_lo, x_hi = 50.0, 100.0
    plot_w, plot_h = width - left - right, height - top - bottom

    def xy(s2: float, rate: float) -> tuple[float, float]:
        return left + plot_w * (min(max(s2, x_lo), x_hi) - x_lo) / (x_hi - x_lo), top + plot_h * (1 - rate)

    for frac in (0, 0.25, 0.5, 0.75, 1.0):
        y = top + plot_h * (1 - frac)
        d.line((left, y, width - right, y), fill=(225, 225, 225))
        d.text((20, y - 8), f"{frac:.0%}", fill="black", font=font)
    for s2 in range(50, 101, 10):
        x = xy(s2, 0)[0]
        d.line((x, top, x, top + plot_h), fill=(235, 235, 235))
        d.text((x - 8, top + plot_h + 8), str(s2), fill="black", font=font)
    for s2, label in ((70, "high quality"), (90, "visually lossless")):
        d.text((xy(s2, 0)[0] + 4, top + plot_h - 20), label, fill=(140, 140, 140), font=font)
    legend = []
    for j, kind in enumerate(("natural", "flat")):
        points = sorted(((float(s), v) for s, v in r["sweep"][kind].items() if v["recovery"] is not None))
        colour = COLOURS[j]
        coords = [xy(v["ssimulacra2_median"], v["recovery"]) for _, v in points]
        if len(coords) > 1:
            d.line(coords, fill=colour, width=3)
        for (strength, _), (x, y) in zip(points, coords, strict=True):
            d.ellipse((x - 5, y - 5, x + 5, y + 5), fill=colour)
            d.text((x + 7, y - 18), f"{strength:g}", fill=colour, font=font)
        legend.append((f"synthgov, {kind} images (label: strength)", colour))
    for j, (name, m) in enumerate((n, m) for n, m in r["methods"].items() if not n.startswith("synthgov")):
        trials = sum(int(a["exact"].split("/")[1]) for a in m["attacks"].values())
        exact = sum(int(a["exact"].split("/")[0]) for a in m["attacks"].values())
        if m.get("ssimulacra2_median") is None or not trials:
            continue
        colour = COLOURS[2 + j % 3]
        x, y = xy(m["ssimulacra2_median"], exact / trials)
        d.rectangle((x - 5, y - 5, x + 5, y + 5), fill=colour)
        legend.append((f"{name} (subset)", colour))
    for j, (label, colour) in enumerate(legend):
        x, y = left + (j % 2) * 420, height - 60 + (j // 2) * 22
        d.rectangle((x, y, x + 14, y + 14), fill=colour)
        d.text((x + 20, y - 2), label, fill="black", font=font)
    im.save(path, optimize=True)


def _overall(attacks: dict) -> str:
    trials = sum(int(a["exact"].split("/")[1]) for a in attacks.values())
    exact = sum(int(a["exact"].split("/")[0]) for a in attacks.values())
    return f"{exact}/{trials} ({exact / trials:.1%})" if trials else "—"


def _quality(m: dict) -> str:
    b = f"; butteraugli median {m['butteraugli_median']}, max {m['butteraugli_max']}" \
        if m.get("butteraugli_median") is not None else ""
    return (f"SSIMULACRA2 median {m['ssimulacra2_median']}, min {m['ssimulacra2_min']}{b}; "
            f"PSNR mean {m['psnr_mean']} dB, min {m['psnr_min']} dB")


SIZE_CLASSES = ((0, 400), (400, 640), (640, 1024), (1024, 1 << 30))


def _by_size(nat: dict) -> str:
    """Rows of recovery by the photographs' shortest side, from the per-image losses of the run."""
    trials = {a: int(v["exact"].split("/")[1]) // nat["images"] for a, v in nat["attacks"].items()}
    rows = []
    for low, high in SIZE_CLASSES:
        part = [i for i in nat["per_image"] if low <= min(int(x) for x in i["image"].rsplit(" ", 1)[1].split("x")) < high]
        if not part:
            continue
        lost = {a: sum(1 for i in part for t in i["lost"] if t.split("#")[0] == a) for a in trials}
        rates = {a: 1 - lost[a] / (trials[a] * len(part)) for a in trials}
        worst = min(rates, key=lambda a: rates[a])
        overall = 1 - sum(lost.values()) / (sum(trials.values()) * len(part))
        s2 = sorted(i["ssimulacra2"] for i in part)
        label = f"< {high}" if low == 0 else f"≥ {low}" if high == 1 << 30 else f"{low}–{high - 1}"
        held = sum(1 for a in trials if rates[a] >= 0.99)
        weakest = f"{worst} {rates[worst]:.1%}" if rates[worst] < 1 else "—"
        rows.append(f"| {label} px | {len(part)} | {s2[len(s2) // 2]} (min {s2[0]}) | {overall:.1%} | "
                    f"{weakest} | {held} of {len(trials)} |")
    return "\n".join(rows)


def section(r: dict, root: Path) -> str:
    images = root / "docs" / "images"
    robustness_chart(r, images / "watermark-robustness.png")
    tradeoff_chart(r, images / "watermark-tradeoff.png")
    nat, flat = r["full"]["natural"], r["full"]["flat"]
    attack_rows = "\n".join(
        f"| {a} | {v['exact']} ({v['rate']:.1%}) | {flat['attacks'][a]['exact']} ({flat['attacks'][a]['rate']:.0%}) "
        f"| {v['decode_ms_median']} ms |" for a, v in nat["attacks"].items())
    shorts = sorted(min(int(x) for x in size.split("x")) for size in nat["sizes"])
    worst = sorted(nat["per_image"], key=lambda i: i["ssimulacra2"])[:5]
    worst_rows = "\n".join(f"| {i['image']} | {i['ssimulacra2']} | {i['butteraugli'] or '—'} | {i['psnr']} | "
                           f"{i['mark']['margin']} ({i['mark']['expected']}) | {len(i['lost'])} |" for i in worst)
    flat_rows = "\n".join(f"| {i['image'].removeprefix('flat: ')} | {i['ssimulacra2']} | {i['butteraugli'] or '—'} | "
                          f"{i['psnr']} | {i['mark']['margin']} ({i['mark']['expected']}) | "
                          f"{', '.join(sorted({t.split('#')[0] for t in i['lost']})) or 'nothing'} |"
                          for i in flat["per_image"])
    sweep_rows = "\n".join(
        f"| {s} | {v['ssimulacra2_median']} (min {v['ssimulacra2_min']}) | {v['recovery']:.1%} | "
        f"{v['worst_attack']} {v['worst_rate']:.0%} | {f['ssimulacra2_median']} | {f['recovery']:.1%} |"
        for (s, v), f in zip(r["sweep"]["natural"].items(), r["sweep"]["flat"].values(), strict=True))
    methods = list(r["methods"])
    head = "| Attack | " + " | ".join(methods) + " |\n|---|" + "---|" * len(methods)
    rows = []
    for attack in next(iter(r["methods"].values()))["attacks"]:
        cells = []
        for m in methods:
            a = r["methods"][m]["attacks"].get(attack)
            acc = f", bits {a['bit_accuracy']}" if a and a["bit_accuracy"] is not None else ""
            cells.append(f"{a['exact']} ({a['rate']:.0%}{acc})" if a else "—")
        rows.append(f"| {attack} | " + " | ".join(cells) + " |")
    quality_row = " | ".join(f"{r['methods'][m]['ssimulacra2_median']} / {r['methods'][m]['ssimulacra2_min']}"
                             for m in methods)
    butter_row = " | ".join(str(r["methods"][m]["butteraugli_median"]) for m in methods)
    psnr_row = " | ".join(f"{r['methods'][m]['psnr_mean']}" for m in methods)
    embed_row = " | ".join(f"{r['methods'][m]['embed_ms_median']} ms" for m in methods)
    lost = ", ".join(nat["failures"]) if nat["failures"] else "none"
    fp, sp = r["false_positives"], r["speed"]
    skipped = "".join(f"\n* skipped: {s}" for s in r["skipped"])
    how = f" {r['how']}" if r.get("how") else ""
    sweep_when = (f" (This table and its chart are from the run of {r['sweep_when']}, before the layouts and "
                  "read-back of session 10; the default strength's row above is this run's.)"
                  if r.get("sweep_when") else "")
    peers_when = (f" synthgov's column is from this run; the peers' columns are from the run of {r['peers_when']} "
                  "(not rerun: their code, the images and the attacks' seeds have not changed since)."
                  if r.get("peers_when") else "")
    return f"""## Image watermark

Command: `make bench` (or `python -m bench watermark`){_settings(r)}. Run {r['when']} on {r['machine']}{_speed_when(r)}.{how} Quality is
measured on every marked image against its original: **SSIMULACRA 2.1** (synthgov's port,
`synthgov.watermarking.quality`; 90 ≈ visually lossless, 70 high quality; JPEG q90 of the test
photographs scores 81–82), **butteraugli** (libjxl's `butteraugli_main`, images up to 2.1 MP; under 1
invisible, about 3 for JPEG q75) and PSNR.

### Visibility and robustness at the default strength

{nat['images']} natural photographs: every photograph in `tests/fixtures/photos` and `bench/photos` at its
own size plus random crops rescaled to 256–4096 px on the shortest side in aspect ratios from 1:2 to
2:1 (shortest sides {shorts[0]}–{shorts[-1]} px, median {shorts[len(shorts) // 2]}). {flat['images']} flat images, their
own row: UI screenshots (light and dark), line art, logos, a colour wheel, a scanned page, a smooth
gradient sky and a night sky (`bench/flat`, `bench/watermark.py`).

* natural photographs: {_quality(nat)}; embed median {nat['embed_ms_median']} ms (with its read-back check);
* flat images: {_quality(flat)}.

Every attack is applied to the marked image and decoded as is; the two cropping attacks at four random
offsets each (each offset one trial). A cell counts only the exact, MAC-checked payload.

| Attack | natural photographs | flat images | median decode |
|---|---|---|---|
{attack_rows}
| **all attacks** | **{_overall(nat['attacks'])}** | **{_overall(flat['attacks'])}** | |

![Exact recovery per attack](images/watermark-robustness.png)

The same trials by the photograph's shortest side (the size that decides how many pixels the mark
has to average JPEG's noise over; attacks at 99 % or more of their trials counted in the last column):

| shortest side | photographs | SSIMULACRA2 median | recovery, all attacks | weakest attack | attacks at ≥ 99 % |
|---|---|---|---|---|---|
{_by_size(nat)}

Natural photographs lost: {lost}.

The five least transparent natural photographs (SSIMULACRA2, butteraugli, PSNR; the mark's own
read-back margin, the code-symbol SNR in dB on the embedder's JPEG q50 copy, and what the record calls it;
attacks lost of 25):

| image | SSIMULACRA2 | butteraugli | PSNR | margin | lost |
|---|---|---|---|---|---|
{worst_rows}

Flat images, one by one (what the record says of each mark, and what was lost):

| image | SSIMULACRA2 | butteraugli | PSNR | margin (record) | lost after |
|---|---|---|---|---|---|
{flat_rows}

### The strength setting: recovery against visibility

`[modalities.image.watermark] strength` multiplies the perceptual model's amplitudes and raises the
calibration's target by 20 log10(strength) dB (docs/watermark.md). The same attacks
on {r['sweep']['natural']['1.0']['images']} natural photographs (every fourth of the corpus, up to 2048 px) and the flat images,
for each strength:{sweep_when}

| strength | natural: SSIMULACRA2 median (min) | natural: recovery, all attacks | natural: weakest attack | flat: SSIMULACRA2 median | flat: recovery |
|---|---|---|---|---|---|
{sweep_rows}

![Recovery against SSIMULACRA2 per strength](images/watermark-tradeoff.png)

### Side by side with invisible-watermark

The same attacks on a subset the peers can process in reasonable time: {', '.join(r['corpus'])}.
Each cell: exact payload recovery (rate, mean bit accuracy where the method exposes raw bits).
synthgov only ever returns a MAC-checked payload, so it has no bit accuracy to show; RivaGAN carries 32
bits, the others 64.{peers_when}{skipped}

{head}
{chr(10).join(rows)}
| SSIMULACRA2 median / min | {quality_row} |
| butteraugli median | {butter_row} |
| PSNR mean, dB | {psnr_row} |
| embed (median) | {embed_row} |

### False positives

{fp['false_positives']} in {fp['decode_attempts']:,} decode attempts ({fp['mac_checks']:,} candidate words checked
against the MAC) on {fp['images']:,} unmarked photographs, flat images, crops and rescales (every candidate
geometry and shift decoded with the whole list, no early rejection).
Bound: {fp['bound_per_attempt']} per attempt; {fp['bound_per_image']} per image.

### Speed and memory (one thread)

A 1024×1024 photograph: embed {sp['embed_1024_ms']} ms, best of 7 {sp.get('embed_1024_best_ms', '—')} ms (the
calibrated mark labeling makes: the perceptual model's mark, its JPEG q50 read-back and, where the gain
moved, the mark made again; the model's mark alone {sp.get('embed_model_1024_ms', '—')} ms; with SciPy's filters, as an
install without the `fast` extra (OpenCV) has, {sp.get('embed_1024_scipy_ms', '—')} ms in the same run, the same mark); detect {sp['detect_1024_ms']} ms, or {sp['detect_1024_rotated_ms']} ms when a rotation forces the
geometric search; answering "no mark" on an unmarked copy takes {sp['detect_1024_unmarked_ms']} ms. A 7680×4320
photograph: embed {sp['embed_8k_ms']} ms with a numpy peak of {sp['embed_8k_numpy_peak_mib']} MiB (the image itself is
{sp['image_8k_rgb_mib']} MiB as RGB: the embedder works in strips); detect {sp['detect_8k_ms']} ms. See
docs/watermark.md for the same-run comparison with the previous embedder (absolute times on this shared
machine vary by a factor of three between runs)."""
