"""The recorded "Why VGG?" run of the Neural_Style_Transfer notebook (section 10), read from files.

``scripts/measure_nst_backbones.py`` ran the notebook's style transfer four times -- on VGG16, on
EfficientNet-Lite0, and on EfficientNet-Lite0 with softmax-smoothed activations (temperature 1, and
each layer divided by its standard deviation) -- and wrote, next to this file,
``nst_backbones.json`` (settings, cost curves, final costs, time per step, entropies, saturations)
and one JPEG per run (``<key>.jpg`` for each of :data:`RUN_KEYS`). Reading them costs nothing, so
the notebook shows the comparison in fast mode and under the autograder too.
``notebook_full_run.json`` (``scripts/record_nst_full_run.py``) records the notebook's own
full-mode run, whose numbers its sections 8 and 9 quote.

- :func:`load_record` -- the JSON as a dict; :func:`result_image` -- one run's picture, (H, W, 3) in [0, 1];
- :func:`cost_table` -- the table the notebook prints (one line per run);
- :func:`summary_numbers` -- the numbers the notebook's text quotes, formatted as written there
  (tests/test_style_features.py checks the text contains each);
- :func:`comparison_figure` -- content, style and the four results side by side;
- :func:`mean_saturation` -- mean HSV saturation of an image (no network involved).
"""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path

import numpy as np

RESULTS_DIR = Path(__file__).resolve().parent
RECORD_PATH = RESULTS_DIR / "nst_backbones.json"
RUN_KEYS = ("vgg16", "efficientnet", "efficientnet_softmax", "efficientnet_softmax_scaled")


@lru_cache(maxsize=1)
def _record_text() -> str:
    return RECORD_PATH.read_text(encoding="utf-8")


def load_record() -> dict:
    """The recorded run: settings (``image_size``, ``steps``, ``judge``, ...) and ``runs[key]`` for
    each of :data:`RUN_KEYS` (``label``, ``alpha``, ``beta``, ``curve``, ``start``, ``final``,
    ``seconds_per_step``, ``style_layer_entropy``, ``image``). A fresh dict on every call."""
    return json.loads(_record_text())


def result_image(key: str) -> np.ndarray:
    """The final image of run ``key`` (one of :data:`RUN_KEYS`): (H, W, 3) float32 in [0, 1]."""
    if key not in RUN_KEYS:
        raise ValueError(f"result_image: key must be one of {RUN_KEYS}, got {key!r}")
    return _read_image(load_record()["runs"][key]["image"])


def _read_image(name: str) -> np.ndarray:
    from PIL import Image

    with Image.open(RESULTS_DIR / name) as image:
        return np.asarray(image.convert("RGB"), dtype=np.float32) / 255.0


def mean_saturation(image) -> float:
    """Mean HSV saturation of an RGB image in [0, 1], shape (H, W, 3) or (1, H, W, 3): 0 for greys,
    1 for pure colours. A measure of "how much of the mosaic's colour arrived" that no network computes."""
    from matplotlib.colors import rgb_to_hsv

    image = np.asarray(image, dtype=np.float64)
    if image.shape[-1] != 3 or image.ndim not in (3, 4):
        raise ValueError(f"mean_saturation: expected an RGB image (H, W, 3) or (1, H, W, 3), got {image.shape}")
    return float(rgb_to_hsv(np.clip(image.reshape(-1, 3), 0, 1))[:, 1].mean())


def _ratio(run: dict, name: str) -> float:
    return run["start"][name] / run["final"][name]


def cost_table(record: dict | None = None) -> str:
    """A plain-text table, one line per run: own style cost start -> end, the judge's (VGG16's)
    style and content costs of the result, EfficientNet-Lite0's style cost of it, the time per step."""
    record = record or load_record()
    lines = [f"{'network':36s} {'own J_style: start -> end':>27s} {'VGG16 J_style':>14s} "
             f"{'VGG16 J_content':>16s} {'EffNet J_style':>15s} {'s/step':>7s}"]
    for key in RUN_KEYS:
        run = record["runs"][key]
        own = f"{run['start']['J_style']:.3g} -> {run['final']['J_style']:.3g}"
        lines.append(f"{run['label']:36s} {own:>27s} {run['final']['judge_J_style']:14.3g} "
                     f"{run['final']['judge_J_content']:16.3g} {run['efficientnet_judge']['J_style']:15.3g} "
                     f"{run['seconds_per_step']:7.2f}")
    start = record["runs"]["vgg16"]["start"]
    lines.append(f"{'(the start: photo + noise)':36s} {'':>27s} {start['judge_J_style']:14.3g} "
                 f"{start['judge_J_content']:16.3g} {record['efficientnet_judge_start']['J_style']:15.3g}")
    return "\n".join(lines)


def _change(start: float, end: float) -> str:
    return f"fell /{start / end:.0f}" if end < start else f"rose x{end / start:.1f}"


def summary_numbers(record: dict | None = None) -> dict[str, str]:
    """The phrases of the notebook's section 10 that hold a number, as they are written there
    (costs to 3 significant digits, entropies and saturations to 2 decimals).
    tests/test_style_features.py checks that the notebook's text contains every one of them."""
    record = record or load_record()
    runs = record["runs"]
    vgg, eff, soft, scaled = (runs[key] for key in RUN_KEYS)
    saturation = record["saturation"]
    return {
        "setup": f"{record['image_size']} x {record['image_size']} pixels, the same start, {record['steps']} Adam steps",
        "scales": f"{vgg['start']['J_style']:.3g} for VGG16, {eff['start']['J_style']:.3g} for EfficientNet-Lite0",
        "vgg judge": f"from {vgg['start']['judge_J_style']:.3g} to {vgg['final']['judge_J_style']:.3g} "
                     f"(/{_ratio(vgg, 'judge_J_style'):.0f})",
        "vgg content": f"content cost {vgg['final']['judge_J_content']:.3g}, start {vgg['start']['judge_J_content']:.3g}",
        "eff own": f"its own style cost {_change(eff['start']['J_style'], eff['final']['J_style'])}",
        "eff judge": f"from {eff['start']['judge_J_style']:.3g} to {eff['final']['judge_J_style']:.3g} "
                     f"(/{_ratio(eff, 'judge_J_style'):.1f})",
        "eff content": f"content cost of {eff['final']['judge_J_content']:.3g}",
        "saturation": f"mean saturation {eff['saturation']:.2f} against VGG16's {vgg['saturation']:.2f}; "
                      f"mosaic {saturation['style']:.2f}, photo {saturation['content']:.2f}",
        "largest": f"up to {eff['style_layer_max'][1]:.0f} at `block2b_add`",
        "soft entropy": f"from {eff['style_layer_entropy'][1]:.2f} to {soft['style_layer_entropy'][1]:.2f}",
        "soft own": f"its own style cost {_change(soft['start']['J_style'], soft['final']['J_style'])}",
        "soft judge": f"VGG16's style cost {soft['final']['judge_J_style']:.3g}",
        "scaled entropy": f"at least {min(scaled['style_layer_entropy']):.2f}",
        "scaled own": f"its own style cost {_change(scaled['start']['J_style'], scaled['final']['J_style'])}",
        "scaled judge": f"VGG16's style cost {scaled['final']['judge_J_style']:.3g}",
        "entropies": f"{min(vgg['style_layer_entropy']):.2f} for VGG16 against "
                     f"{min(eff['style_layer_entropy']):.2f} for EfficientNet-Lite0",
        "speed": f"{vgg['seconds_per_step']:.2f} s per step against {eff['seconds_per_step']:.2f} s",
        "cross": f"rates the VGG16 picture {vgg['efficientnet_judge']['J_style']:.3g} and its own "
                 f"{eff['efficientnet_judge']['J_style']:.3g} (the start: {record['efficientnet_judge_start']['J_style']:.3g})",
    }


def comparison_figure(content, style, record: dict | None = None):
    """Content photo, style picture and the four recorded results in one row; returns the figure.

    content, style: (1, H, W, 3) or (H, W, 3) images in [0, 1] (the notebook's ``content_image`` and
    ``style_image``; any size).
    """
    import matplotlib.pyplot as plt

    record = record or load_record()
    panels = [(np.asarray(content).reshape(np.shape(content)[-3:]), "content"),
              (np.asarray(style).reshape(np.shape(style)[-3:]), "style")]
    for key in RUN_KEYS:
        run = record["runs"][key]
        panels.append((_read_image(run["image"]), f"{run['label']}\nVGG16 style cost {run['final']['judge_J_style']:.3g}"))
    fig, axes = plt.subplots(1, len(panels), figsize=(2.5 * len(panels), 2.9))
    for ax, (image, title) in zip(axes, panels):
        ax.imshow(np.clip(image, 0, 1))
        ax.set_title(title, fontsize=8)
        ax.axis("off")
    fig.tight_layout()
    return fig


__all__ = ["RECORD_PATH", "RESULTS_DIR", "RUN_KEYS", "comparison_figure", "cost_table", "load_record",
           "mean_saturation", "result_image", "summary_numbers"]
