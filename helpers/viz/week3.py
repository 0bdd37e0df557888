"""Week 3 lectures: detection and segmentation, as pure functions and a few widgets.

Boxes are corners ``(x1, y1, x2, y2)`` in pixel-edge coordinates (x across, y down), as in
:mod:`helpers.data.street`, unless a docstring says otherwise. Pure functions (target vectors and
their loss, YOLO cell assignment, IoU, non-max suppression, k-means anchors with the 1 - IoU
distance, transposed convolutions and their overlap counts, region proposals, the sliding-window
classifier turned into convolutions) carry the maths and are what ``tests/test_viz_week3.py``
checks; the widget classes are thin ``ipywidgets.VBox`` wiring whose controls are attributes.
Keras is imported lazily (only the functions that build models need it).
"""

from __future__ import annotations

import html
import time
import weakref

import ipywidgets as widgets
import numpy as np

from helpers.viz.render import figure_image, figure_to_png, new_figure, row, slider, table_html

#: Classes of the localisation and YOLO examples, with their street-scene class ids.
OBJECT_CLASSES = ("pedestrian", "car", "traffic sign")
STREET_IDS = (4, 10, 12)
_COLOURS = ("#e53935", "#1e88e5", "#fdd835")


def _check_box(box, name="box"):
    b = np.asarray(box, dtype=float)
    if b.shape != (4,) or not np.all(np.isfinite(b)):
        raise ValueError(f"{name} must be 4 finite numbers (x1, y1, x2, y2), got {box!r}")
    if b[2] < b[0] or b[3] < b[1]:
        raise ValueError(f"{name} must have x2 >= x1 and y2 >= y1, got {tuple(b)}")
    return b


def _positive_int(name, value, low=1):
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < low:
        raise ValueError(f"{name} must be an integer >= {low}, got {value!r}")
    return int(value)


def _fraction(name, value):
    if isinstance(value, bool) or not isinstance(value, (int, float, np.floating, np.integer)) \
            or not 0 <= value <= 1:
        raise ValueError(f"{name} must be a number in [0, 1], got {value!r}")
    return float(value)


# ------------------------------------------------------------------------------------------
# object localisation
# ------------------------------------------------------------------------------------------

def localisation_target(box, class_index, image_hw, n_classes=3) -> np.ndarray:
    """The target vector y = (pc, bx, by, bh, bw, c1 .. cn) of one image, shape (5 + n_classes,).

    box: (x1, y1, x2, y2) in pixels, or None when the image shows no object; class_index: 0-based
    class of the object (ignored when box is None); image_hw: (H, W). bx, by: the box centre as a
    fraction of the width / height (0 = left / top edge, 1 = right / bottom); bh, bw: its height
    and width as fractions of the image's. Without an object pc = 0 and every other entry is
    "don't care", stored as NaN.
    """
    n_classes = _positive_int("n_classes", n_classes)
    y = np.full(5 + n_classes, np.nan)
    if box is None:
        y[0] = 0.0
        return y
    b = _check_box(box)
    h, w = (float(v) for v in image_hw)
    if h <= 0 or w <= 0:
        raise ValueError(f"image_hw must be positive, got {image_hw!r}")
    if not 0 <= class_index < n_classes:
        raise ValueError(f"class_index must be in [0, {n_classes - 1}], got {class_index!r}")
    y[:5] = (1.0, (b[0] + b[2]) / 2 / w, (b[1] + b[3]) / 2 / h, (b[3] - b[1]) / h, (b[2] - b[0]) / w)
    y[5:] = 0.0
    y[5 + int(class_index)] = 1.0
    return y


def target_to_box(y, image_hw) -> tuple:
    """Inverse of :func:`localisation_target` for the box: (x1, y1, x2, y2) in pixels."""
    h, w = (float(v) for v in image_hw)
    _, bx, by, bh, bw = (float(v) for v in np.asarray(y)[:5])
    return (w * (bx - bw / 2), h * (by - bh / 2), w * (bx + bw / 2), h * (by + bh / 2))


def localisation_loss(y, y_hat) -> tuple[float, np.ndarray]:
    """Squared-error loss of the lecture: sum of (y_hat_i - y_i)^2 over all entries if pc = 1,
    only (y_hat_1 - y_1)^2 if pc = 0 (the other entries are "don't care").

    y, y_hat: (5 + n,) arrays. Returns (loss, terms) with terms (5 + n,) the squared errors that
    count (NaN for the ones ignored).
    """
    y, y_hat = np.asarray(y, float), np.asarray(y_hat, float)
    if y.shape != y_hat.shape or y.ndim != 1 or y.size < 6:
        raise ValueError(f"y and y_hat must be vectors of the same length >= 6, got {y.shape} and {y_hat.shape}")
    if y[0] not in (0.0, 1.0):
        raise ValueError(f"y[0] (pc) must be 0 or 1, got {y[0]}")
    terms = np.full(y.shape, np.nan)
    if y[0] == 1.0:
        terms[:] = (y_hat - y) ** 2
    else:
        terms[0] = (y_hat[0] - y[0]) ** 2
    return float(np.nansum(terms)), terms


def largest_object(boxes, classes, class_ids=STREET_IDS):
    """Index into ``boxes`` of the largest box whose class is in ``class_ids`` (None if none),
    and that class's position in ``class_ids``."""
    best, best_area = None, 0.0
    for i, (b, c) in enumerate(zip(np.asarray(boxes).reshape(-1, 4), classes)):
        area = (b[2] - b[0]) * (b[3] - b[1])
        if int(c) in class_ids and area > best_area:
            best, best_area = i, area
    if best is None:
        return None, None
    return best, list(class_ids).index(int(classes[best]))


def _street_frames(n, seed, height, width):
    from helpers.data.street import make_street_scenes

    return make_street_scenes(n, seed, height, width)


def localisation_examples(seed=3, frames=(8, 13, 11), height=144, width=192):
    """Single-object images for the localisation explorer. For each chosen street frame, the
    half-size crop centred on its largest pedestrian / car / traffic sign, enlarged 2x (so that one
    object dominates), then one crop that shows none of them (from the first frame whose top-left
    quarter has none). Returns a list of (image (H, W, 3) uint8, box (x1, y1, x2, y2) in the
    image's pixels or None, class index into OBJECT_CLASSES or None)."""
    s = _street_frames(max(frames) + 1, seed, height, width)
    ch, cw = height // 2, width // 2
    out = []
    for f in frames:
        i, c = largest_object(s.boxes[f], s.classes[f])
        if i is None:
            raise ValueError(f"frame {f} of seed {seed} has no pedestrian, car or traffic sign")
        b = s.boxes[f][i]
        top = int(np.clip(round((b[1] + b[3]) / 2 - ch / 2), 0, height - ch))
        left = int(np.clip(round((b[0] + b[2]) / 2 - cw / 2), 0, width - cw))
        crop = s.images[f][top:top + ch, left:left + cw]
        box = tuple(float(v) for v in 2 * (np.clip(b - [left, top, left, top], 0, [cw, ch, cw, ch])))
        out.append((np.repeat(np.repeat(crop, 2, axis=0), 2, axis=1), box, c))
    for img, mask in zip(s.images, s.masks):
        if not np.isin(mask[:ch, :cw], STREET_IDS).any():
            out.append((np.repeat(np.repeat(img[:ch, :cw], 2, axis=0), 2, axis=1), None, None))
            break
    return out


def _draw_box(ax, box, colour, style="-", width=2.0, label=None, label_at=None):
    """A box outline; ``label`` above its top-left corner, or with its top-left corner at ``label_at``."""
    from matplotlib.patches import Rectangle

    x1, y1, x2, y2 = box
    ax.add_patch(Rectangle((x1, y1), x2 - x1, y2 - y1, fill=False, ec=colour, ls=style, lw=width))
    if label:
        x, y, va = (x1, y1 - 2, "bottom") if label_at is None else (label_at[0], label_at[1], "top")
        ax.text(x, y, label, color="black", fontsize=8, va=va, bbox=dict(fc=colour, ec="none", alpha=0.8, pad=1))


def label_positions(boxes, widths, height: float, image_shape, occupied=()) -> list[tuple[float, float]]:
    """Top-left corners (x, y) for one label per box such that no two labels overlap where avoidable.

    boxes: (n, 4) corners (x1, y1, x2, y2) in pixels; widths: (n,) label widths and ``height`` the
    label height, in the same pixels; image_shape: (H, W); occupied: rectangles (x1, y1, x2, y2) of
    labels already drawn, to avoid as well. Each label tries, in order: just above its box, just
    inside its top edge, just below its box, then further down in steps of ``height``; the first
    place that stays in the image and clears every label placed before it wins (else the first
    place). Returns a list of n (x, y) pairs.
    """
    boxes = np.asarray(boxes, float).reshape(-1, 4)
    widths = np.broadcast_to(np.asarray(widths, float), (len(boxes),))
    if height <= 0:
        raise ValueError(f"label_positions: height must be positive, got {height}")
    h_img, w_img = image_shape[:2]
    placed: list[tuple[float, float, float, float]] = [tuple(map(float, r)) for r in occupied]
    out = []
    for (x1, y1, _x2, y2), w in zip(boxes, widths):
        x = float(min(max(x1, 0.0), max(w_img - w, 0.0)))
        tries = [y1 - height - 1, y1 + 1, y2 + 1] + [y2 + 1 + k * height for k in range(1, 4)]
        choice = None
        for y in tries:
            inside = 0 <= y and y + height <= h_img
            clear = all(x + w <= a or b <= x or y + height <= c or d <= y for a, c, b, d in placed)
            if inside and clear:
                choice = y
                break
        y = float(choice if choice is not None else min(max(tries[0], 0.0), h_img - height))
        placed.append((x, y, x + w, y + height))
        out.append((x, y))
    return out


def _label_sizes(ax, labels, fontsize: float) -> tuple[list[float], float]:
    """(widths, height) of text labels in the data units (image pixels) of ``ax``, whose limits are set:
    about 0.6 em per character and 1.3 em of height at ``fontsize`` points, plus the label's padding."""
    ax.apply_aspect()
    pixels_per_point = abs(np.diff(ax.get_xlim())[0]) / (ax.get_position().width * ax.figure.get_figwidth() * 72)
    return [len(str(t)) * 0.6 * fontsize * pixels_per_point + 2 for t in labels], 1.3 * fontsize * pixels_per_point + 2


#: label rectangles already drawn by draw_boxes, per matplotlib axis (so later calls avoid them)
_LABELS_ON = weakref.WeakKeyDictionary()


def draw_boxes(ax, boxes, labels=None, color="yellow", order="yx", lw=1.5, fontsize=7) -> None:
    """Outline boxes on an axis that shows an image, with optional labels that do not overlap.

    boxes: (n, 4) in pixels of the image shown, (y1, x1, y2, x2) when ``order="yx"`` (TensorFlow's
    convention, what yolo_eval returns) or (x1, y1, x2, y2) when ``order="xy"``; labels: n strings
    or None. The image size is read from the axis limits (call it after ``imshow``). Labels are
    placed with :func:`label_positions`, avoiding the labels of earlier calls on the same axis; the
    text is black or white, whichever reads better on ``color``.
    """
    from matplotlib.colors import to_rgb
    from matplotlib.patches import Rectangle

    if order not in ("yx", "xy"):
        raise ValueError(f'draw_boxes: order must be "yx" or "xy", got {order!r}')
    boxes = np.asarray(boxes, dtype=float).reshape(-1, 4)
    if order == "yx":
        boxes = boxes[:, [1, 0, 3, 2]]
    if labels is not None and len(labels) != len(boxes):
        raise ValueError(f"draw_boxes: {len(labels)} labels for {len(boxes)} boxes")
    for x1, y1, x2, y2 in boxes:
        ax.add_patch(Rectangle((x1, y1), x2 - x1, y2 - y1, fill=False, color=color, lw=lw))
    if labels is None or not len(boxes):
        return
    width, height = abs(np.diff(ax.get_xlim())[0]), abs(np.diff(ax.get_ylim())[0])
    widths, tall = _label_sizes(ax, labels, fontsize)
    occupied = _LABELS_ON.setdefault(ax, [])
    r, g, b = to_rgb(color)
    text_colour = "black" if 0.3 * r + 0.6 * g + 0.1 * b > 0.5 else "white"
    for text, w, (x, y) in zip(labels, widths, label_positions(boxes, widths, tall, (height, width), occupied)):
        ax.text(x, y, text, color=text_colour, fontsize=fontsize, va="top",
                bbox=dict(facecolor=color, edgecolor="none", pad=1))
        occupied.append((x, y, x + w, y + tall))


def _vector_rows(y, y_hat, terms, n_classes):
    names = ["pc", "bx", "by", "bh", "bw"] + [f"c{i + 1} {OBJECT_CLASSES[i]}" for i in range(n_classes)]
    rows = []
    for name, a, b, t in zip(names, y, y_hat, terms):
        rows.append({"entry": name, "y (target)": "?" if np.isnan(a) else f"{a:.3f}",
                     "ŷ (prediction)": f"{b:.3f}", "(ŷ − y)²": "ignored" if np.isnan(t) else f"{t:.4f}"})
    return rows


class LocalisationExplorer(widgets.VBox):
    """One image, its target vector y and a prediction ŷ you steer with sliders; the loss of the
    lecture is computed term by term. Green: the true box; orange dashed: the predicted box."""

    def __init__(self, seed=3):
        self.examples = localisation_examples(seed)
        self.scene = slider("image", 0, 0, len(self.examples) - 1)
        self.pc_hat = widgets.FloatSlider(value=0.9, min=0, max=1, step=0.05, description="predicted pc",
                                          style={"description_width": "100px"})
        self.shift = widgets.FloatSlider(value=0.05, min=-0.3, max=0.3, step=0.01, description="shift bx",
                                         style={"description_width": "100px"})
        self.scale = widgets.FloatSlider(value=1.2, min=0.5, max=2.0, step=0.05, description="scale bh, bw",
                                         style={"description_width": "100px"})
        self.class_prob = widgets.FloatSlider(value=0.8, min=0, max=1, step=0.05, description="p(true class)",
                                              style={"description_width": "100px"})
        self.image = figure_image()
        self.table = widgets.HTML()
        for c in (self.scene, self.pc_hat, self.shift, self.scale, self.class_prob):
            c.observe(self._update, names="value")
        super().__init__([row([widgets.VBox([self.scene, self.pc_hat]), widgets.VBox([self.shift, self.scale]),
                               self.class_prob]), row([self.image, self.table])])
        self._update()

    def vectors(self):
        """(y, y_hat, loss, terms) for the current settings."""
        img, box, cls = self.examples[self.scene.value]
        hw = img.shape[:2]
        y = localisation_target(box, cls, hw, len(OBJECT_CLASSES))
        n = len(OBJECT_CLASSES)
        if box is None:
            ref = np.array([1.0, 0.5, 0.5, 0.4, 0.3] + [0.0] * n)
            cls = 0
        else:
            ref = y
        y_hat = np.empty_like(y)
        y_hat[0] = self.pc_hat.value
        y_hat[1] = ref[1] + self.shift.value
        y_hat[2] = ref[2]
        y_hat[3:5] = ref[3:5] * self.scale.value
        y_hat[5:] = (1 - self.class_prob.value) / (n - 1)
        y_hat[5 + cls] = self.class_prob.value
        loss, terms = localisation_loss(y, y_hat)
        return y, y_hat, loss, terms

    def _update(self, _=None):
        img, box, cls = self.examples[self.scene.value]
        y, y_hat, loss, terms = self.vectors()
        fig = new_figure(3.6, 2.9, dpi=80)
        ax = fig.add_subplot(1, 1, 1)
        ax.imshow(img)
        if box is not None:
            _draw_box(ax, box, "#00c853", label=f"y: {OBJECT_CLASSES[cls]}")
        _draw_box(ax, target_to_box(y_hat, img.shape[:2]), "#ff9100", "--", 1.5)
        ax.set_title("pc = 1: one object" if box is not None else "pc = 0: no object", fontsize=10)
        ax.set_xticks([])
        ax.set_yticks([])
        self.image.value = figure_to_png(fig)
        how = ("pc = 1: every entry counts" if y[0] == 1 else
               "pc = 0: only (ŷ₁ − 0)² counts; the box and classes are &lsquo;don't care&rsquo;")
        self.table.value = (table_html(_vector_rows(y, y_hat, terms, len(OBJECT_CLASSES)))
                            + f"<div style='margin-top:4px'>{how}<br><b>loss = {loss:.4f}</b></div>")


# ------------------------------------------------------------------------------------------
# landmarks
# ------------------------------------------------------------------------------------------

#: Hand-placed landmarks on scikit-image's astronaut photo (512 x 512), (x, y) in pixels; left and
#: right as seen in the photo.
ASTRONAUT_LANDMARKS = {
    "left eye outer": (196.0, 102.0), "left eye inner": (210.0, 103.0),
    "right eye inner": (236.0, 103.0), "right eye outer": (253.0, 102.0),
    "nose tip": (227.0, 128.0),
    "mouth left": (206.0, 139.0), "mouth right": (242.0, 137.0), "chin": (226.0, 189.0),
}


def landmark_vector(points, image_hw) -> np.ndarray:
    """Target of a landmark detector: (face?, l1x, l1y, ..., lnx, lny), shape (1 + 2n,).

    points: (n, 2) landmark positions (x, y) in pixels; image_hw: (H, W). Coordinates become
    fractions of the width / height, the first entry is 1 (a face is there).
    """
    p = np.asarray(points, dtype=float)
    if p.ndim != 2 or p.shape[1] != 2 or len(p) == 0:
        raise ValueError(f"points must have shape (n, 2), got {p.shape}")
    h, w = (float(v) for v in image_hw)
    return np.concatenate([[1.0], (p / [w, h]).ravel()])


def mirror_landmarks(points: dict, width) -> dict:
    """Landmarks of the horizontally mirrored image: x -> width - x, and the names that say
    'left' and 'right' swap (the left eye of the mirrored face is where the right eye was), so
    that every output unit keeps meaning the same landmark."""
    out = {}
    for name, (x, y) in points.items():
        new = name.replace("left", "\0").replace("right", "left").replace("\0", "right")
        out[new] = (float(width) - x, y)
    return out


# ------------------------------------------------------------------------------------------
# sliding windows and their convolutional implementation
# ------------------------------------------------------------------------------------------

def window_count(height, width, window, stride) -> int:
    """How many window positions fit in an image: (floor((H - f)/s) + 1) * (floor((W - f)/s) + 1)."""
    height, width = _positive_int("height", height), _positive_int("width", width)
    window, stride = _positive_int("window", window), _positive_int("stride", stride)
    if window > min(height, width):
        return 0
    return ((height - window) // stride + 1) * ((width - window) // stride + 1)


def window_classifier(window=14, n_classes=4, seed=0):
    """The small classifier of the lecture, random weights from ``seed``:
    (window, window, 3) -> conv 5x5, 16, ReLU -> max pool 2 -> flatten -> dense 400, ReLU ->
    dense 400, ReLU -> dense n_classes, softmax. window must be even and >= 6."""
    from helpers.backend import keras

    window = _positive_int("window", window, 6)
    if window % 2:
        raise ValueError(f"window must be even (the 2x2 pooling), got {window}")
    keras.utils.set_random_seed(int(seed))
    layers = keras.layers
    return keras.Sequential([
        keras.Input((window, window, 3)),
        layers.Conv2D(16, 5, activation="relu", name="conv"),
        layers.MaxPooling2D(2, name="pool"),
        layers.Flatten(name="flatten"),
        layers.Dense(400, activation="relu", name="fc1"),
        layers.Dense(400, activation="relu", name="fc2"),
        layers.Dense(n_classes, activation="softmax", name="fc3"),
    ], name="window_classifier")


def convolutionalise(model):
    """The same network with its dense layers turned into convolutions, for inputs of any size.

    model: a :func:`window_classifier`. fc1 (flatten of an (h, w, c) map -> 400) becomes an h x w
    convolution with 400 filters whose kernel is fc1's weight matrix reshaped to (h, w, c, 400)
    (flatten reads rows, then columns, then channels, and so does the reshape); fc2 and fc3 become
    1x1 convolutions. The weights are copied, so on a window-sized input both give the same
    numbers, and on a larger image the output is one prediction per window (stride 2 = the pool).
    """
    from helpers.backend import keras

    layers = keras.layers
    conv, fc1, fc2, fc3 = (model.get_layer(n) for n in ("conv", "fc1", "fc2", "fc3"))
    h, w, c = model.get_layer("pool").output.shape[1:]
    net = keras.Sequential([
        keras.Input((None, None, 3)),
        layers.Conv2D(16, 5, activation="relu", name="conv"),
        layers.MaxPooling2D(2, name="pool"),
        layers.Conv2D(fc1.units, (h, w), activation="relu", name="fc1_as_conv"),
        layers.Conv2D(fc2.units, 1, activation="relu", name="fc2_as_conv"),
        layers.Conv2D(fc3.units, 1, activation="softmax", name="fc3_as_conv"),
    ], name="fully_convolutional")
    net.get_layer("conv").set_weights(conv.get_weights())
    for dense, (kh, kw, kc) in ((fc1, (h, w, c)), (fc2, (1, 1, fc1.units)), (fc3, (1, 1, fc2.units))):
        kernel, bias = dense.get_weights()
        net.get_layer(f"{dense.name}_as_conv").set_weights([kernel.reshape(kh, kw, kc, dense.units), bias])
    return net


def crops(image, window, stride) -> np.ndarray:
    """Every window x window crop of image (H, W, C), row by row: (rows * cols, window, window, C)."""
    image = np.asarray(image)
    h, w = image.shape[:2]
    if window_count(h, w, window, stride) == 0:
        raise ValueError(f"a {window}x{window} window does not fit in a {h}x{w} image")
    v = np.lib.stride_tricks.sliding_window_view(image, (window, window), axis=(0, 1))[::stride, ::stride]
    rows, cols = v.shape[:2]
    return np.ascontiguousarray(v.transpose(0, 1, 3, 4, 2).reshape(rows * cols, window, window, image.shape[2]))


def compare_sliding_windows(model, image, repeats=3) -> dict:
    """Run ``model`` (a :func:`window_classifier`) on every crop of ``image`` (H, W, 3) with stride
    2, and its convolutional version once on the whole image; time both (best of ``repeats``).

    Returns dict: windows (count), grid (rows, cols), crops_output (rows, cols, n), conv_output
    (rows, cols, n), max_difference, crops_seconds, conv_seconds, speedup.
    """
    from helpers.backend import tf

    window = model.input_shape[1]
    batch = crops(image, window, 2).astype(np.float32)
    net = convolutionalise(model)
    whole = np.asarray(image, np.float32)[None]
    per_window = tf.function(lambda x: model(x, training=False))
    at_once = tf.function(lambda x: net(x, training=False))
    per_window(batch)
    at_once(whole)  # trace both first: only the computation is timed

    def best(fn, x):
        times = []
        for _ in range(repeats):
            t = time.perf_counter()
            out = fn(x).numpy()
            times.append(time.perf_counter() - t)
        return out, min(times)

    by_crops, t_crops = best(per_window, batch)
    by_conv, t_conv = best(at_once, whole)
    rows, cols = by_conv.shape[1:3]
    by_crops = by_crops.reshape(rows, cols, -1)
    return {"windows": len(batch), "grid": (rows, cols), "crops_output": by_crops, "conv_output": by_conv[0],
            "max_difference": float(np.abs(by_crops - by_conv[0]).max()), "crops_seconds": t_crops,
            "conv_seconds": t_conv, "speedup": t_crops / t_conv}


def sliding_window_multiplies(height, width, window=14, stride=2, n_classes=4) -> dict:
    """Multiplications of the :func:`window_classifier` (biases not counted) when every window is
    classified separately vs once by the convolutional version on the whole image."""
    def conv_out(n, f, s=1):
        return (n - f) // s + 1

    def cost(h, w):
        h1, w1 = conv_out(h, 5), conv_out(w, 5)
        total = h1 * w1 * 16 * 5 * 5 * 3
        h2, w2 = h1 // 2, w1 // 2
        ph, pw = conv_out(window, 5) // 2, conv_out(window, 5) // 2
        h3, w3 = conv_out(h2, ph), conv_out(w2, pw)
        total += h3 * w3 * 400 * ph * pw * 16 + h3 * w3 * (400 * 400 + 400 * n_classes)
        return total

    n = window_count(height, width, window, stride)
    per_window = cost(window, window)
    return {"windows": n, "per_window": per_window, "separately": n * per_window, "at_once": cost(height, width),
            "ratio": n * per_window / cost(height, width)}


# ------------------------------------------------------------------------------------------
# YOLO grid
# ------------------------------------------------------------------------------------------

def yolo_assign(box, image_hw, grid) -> dict:
    """Which cell of a grid x grid YOLO output owns ``box``, and the box in that cell's units.

    The cell holding the box centre owns it. bx, by: the centre's position inside that cell,
    in [0, 1) (0 = the cell's left / top edge); bh, bw: the box height and width in cell units
    (may exceed 1: a box can be larger than its cell). Returns dict row, col, bx, by, bh, bw.
    """
    b = _check_box(box)
    grid = _positive_int("grid", grid)
    h, w = (float(v) for v in image_hw)
    ch, cw = h / grid, w / grid
    cx, cy = (b[0] + b[2]) / 2, (b[1] + b[3]) / 2
    col, row_ = min(int(cx // cw), grid - 1), min(int(cy // ch), grid - 1)
    return {"row": row_, "col": col, "bx": cx / cw - col, "by": cy / ch - row_,
            "bh": (b[3] - b[1]) / ch, "bw": (b[2] - b[0]) / cw}


def yolo_target(boxes, class_indices, image_hw, grid, n_classes=3):
    """The YOLO training target (grid, grid, 5 + n_classes) with one box per cell, and the
    indices of the boxes that found their cell already taken (what anchor boxes fix).

    boxes: (k, 4); class_indices: (k,) 0-based. Entries of empty cells are 0 (pc = 0); boxes are
    placed in the given order, so the first one wins a cell.
    """
    n_classes = _positive_int("n_classes", n_classes)
    y = np.zeros((grid, grid, 5 + n_classes))
    lost = []
    for i, (b, c) in enumerate(zip(np.asarray(boxes, float).reshape(-1, 4), class_indices)):
        a = yolo_assign(b, image_hw, grid)
        cell = y[a["row"], a["col"]]
        if cell[0] == 1:
            lost.append(i)
            continue
        cell[:5] = (1.0, a["bx"], a["by"], a["bh"], a["bw"])
        cell[5 + int(c)] = 1.0
    return y, lost


def street_objects(scenes, index, min_size=4.0):
    """Boxes (k, 4) and 0-based class indices (k,) of the pedestrians, cars and traffic signs of
    frame ``index`` of a StreetScenes, at least ``min_size`` pixels high, largest first."""
    boxes, classes = scenes.boxes[index], scenes.classes[index]
    keep = np.isin(classes, STREET_IDS) & (boxes[:, 3] - boxes[:, 1] >= min_size)
    boxes, classes = boxes[keep], classes[keep]
    order = np.argsort(-(boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1]), kind="stable")
    return boxes[order], np.array([STREET_IDS.index(int(c)) for c in classes[order]], dtype=int)


class YoloGridExplorer(widgets.VBox):
    """A street frame under a grid x grid YOLO grid: each object's centre (dot) picks the cell that
    owns it (shaded); the table lists bx, by (inside the cell) and bh, bw (in cells). Objects whose
    cell is already taken are listed: one box per cell is not enough for crowded scenes."""

    def __init__(self, seed=3, n=4, height=144, width=192, grid=4, frame=1):
        self.scenes = _street_frames(n, seed, height, width)
        self.grid = slider("grid S", grid, 1, 12)
        self.scene = slider("frame", frame, 0, n - 1)
        self.image = figure_image()
        self.table = widgets.HTML()
        self.grid.observe(self._update, names="value")
        self.scene.observe(self._update, names="value")
        super().__init__([row([self.grid, self.scene]), row([self.image, self.table])])
        self._update()

    def _update(self, _=None):
        from matplotlib.patches import Rectangle

        img = self.scenes.images[self.scene.value]
        hw = img.shape[:2]
        s = self.grid.value
        boxes, cls = street_objects(self.scenes, self.scene.value)
        y, lost = yolo_target(boxes, cls, hw, s)
        fig = new_figure(4.2, 3.3, dpi=80)
        ax = fig.add_subplot(1, 1, 1)
        ax.imshow(img)
        ch, cw = hw[0] / s, hw[1] / s
        rows = []
        for i, (b, c) in enumerate(zip(boxes, cls)):
            a = yolo_assign(b, hw, s)
            colour = _COLOURS[c]
            ax.add_patch(Rectangle((a["col"] * cw, a["row"] * ch), cw, ch, fc=colour, alpha=0.25, ec="none"))
            _draw_box(ax, b, colour, "--" if i in lost else "-", 1.2)
            ax.plot([(b[0] + b[2]) / 2], [(b[1] + b[3]) / 2], "o", ms=4, mfc=colour, mec="black", mew=0.6)
            rows.append({"#": i, "class": OBJECT_CLASSES[c], "cell (row, col)": f"({a['row']}, {a['col']})",
                         "bx": f"{a['bx']:.2f}", "by": f"{a['by']:.2f}", "bh": f"{a['bh']:.2f}",
                         "bw": f"{a['bw']:.2f}", "kept": "no: cell taken" if i in lost else "yes"})
        for k in range(1, s):
            ax.axvline(k * cw, color="white", lw=0.8)
            ax.axhline(k * ch, color="white", lw=0.8)
        ax.set_xticks([])
        ax.set_yticks([])
        ax.set_title(f"{s}x{s} grid: output {s}x{s}x{5 + len(OBJECT_CLASSES)}", fontsize=10)
        self.image.value = figure_to_png(fig)
        self.table.value = (f"<div><b>{len(boxes)}</b> objects, <b>{len(lost)}</b> lost to a taken cell</div>"
                            + table_html(rows[:10]) + ("<div>(first 10 shown)</div>" if len(rows) > 10 else ""))


# ------------------------------------------------------------------------------------------
# IoU and non-max suppression
# ------------------------------------------------------------------------------------------

def iou(box1, box2) -> float:
    """Intersection over union of two corner boxes (x1, y1, x2, y2); 0 when they do not overlap."""
    a, b = _check_box(box1, "box1"), _check_box(box2, "box2")
    iw = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    ih = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = iw * ih
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return float(inter / union) if union > 0 else 0.0


def non_max_suppression(boxes, scores, score_threshold=0.5, iou_threshold=0.5) -> dict:
    """Greedy non-max suppression, with the reason for every decision.

    boxes: (k, 4) corners; scores: (k,). Boxes scoring below score_threshold are dropped first;
    then, repeatedly, the best remaining box is kept and every remaining box whose IoU with it
    exceeds iou_threshold is suppressed. Returns dict keep (indices, best first), suppressed
    ({index: (index of the kept box that removed it, their IoU)}) and low (indices under the
    score threshold).
    """
    boxes = np.asarray(boxes, float).reshape(-1, 4)
    scores = np.asarray(scores, float).reshape(-1)
    if len(boxes) != len(scores):
        raise ValueError(f"boxes ({len(boxes)}) and scores ({len(scores)}) must have the same length")
    score_threshold, iou_threshold = _fraction("score_threshold", score_threshold), _fraction("iou_threshold", iou_threshold)
    low = [int(i) for i in np.flatnonzero(scores < score_threshold)]
    rest = [int(i) for i in np.argsort(-scores, kind="stable") if scores[i] >= score_threshold]
    keep, suppressed = [], {}
    while rest:
        best = rest.pop(0)
        keep.append(best)
        remaining = []
        for i in rest:
            v = iou(boxes[best], boxes[i])
            if v > iou_threshold:
                suppressed[i] = (best, v)
            else:
                remaining.append(i)
        rest = remaining
    return {"keep": keep, "suppressed": suppressed, "low": low}


def noisy_detections(boxes, seed=0, per_object=4, jitter=0.15):
    """Candidate detections around true boxes, as a detector's raw output looks before NMS: for
    each box (k, 4), ``per_object`` copies shifted and rescaled by up to ``jitter`` of its size, with
    scores falling from about 0.9. Returns (boxes (k * per_object, 4), scores, object index)."""
    rng = np.random.default_rng(seed)
    out, scores, owner = [], [], []
    for k, b in enumerate(np.asarray(boxes, float).reshape(-1, 4)):
        w, h = b[2] - b[0], b[3] - b[1]
        top = rng.uniform(0.75, 0.95)
        for j in range(per_object):
            d = rng.uniform(-jitter, jitter, 4) * [w, h, w, h] * (j > 0)
            out.append(b + d)
            scores.append(top * (1 - 0.18 * j) if j else top)
            owner.append(k)
    return np.array(out), np.array(scores), np.array(owner)


class NMSPlayground(widgets.VBox):
    """Candidate boxes around the cars of a street frame plus one box you move (orange): set the
    score and IoU thresholds and watch non-max suppression keep (solid green), suppress (dashed red,
    the IoU with the box that won) or drop below the score threshold (grey dotted)."""

    def __init__(self, seed=3, frame=1, height=144, width=192):
        s = _street_frames(frame + 1, seed, height, width)
        self.photo = s.images[frame]
        boxes, cls = street_objects(s, frame, min_size=10)
        cars = boxes[cls == 1][:3]
        self.candidates, self.scores, _ = noisy_detections(cars, seed=seed)
        self.target = cars[0]
        self.box_x = slider("move box x", 15, -60, 60)
        self.box_y = slider("move box y", 0, -40, 40)
        self.score_threshold = widgets.FloatSlider(value=0.5, min=0.0, max=0.95, step=0.05,
                                                   description="score thresh.", style={"description_width": "100px"})
        self.iou_threshold = widgets.FloatSlider(value=0.5, min=0.05, max=0.95, step=0.05,
                                                 description="IoU thresh.", style={"description_width": "100px"})
        self.image = figure_image()
        self.info = widgets.HTML()
        for c in (self.box_x, self.box_y, self.score_threshold, self.iou_threshold):
            c.observe(self._update, names="value")
        super().__init__([row([widgets.VBox([self.box_x, self.box_y]),
                               widgets.VBox([self.score_threshold, self.iou_threshold])]),
                          row([self.image, self.info])])
        self._update()

    def all_boxes(self):
        """(boxes, scores): the candidates and, last, the movable box (score 0.8) at its position."""
        moved = self.target + [self.box_x.value, self.box_y.value] * 2
        return np.vstack([self.candidates, moved]), np.append(self.scores, 0.8)

    def result(self) -> dict:
        boxes, scores = self.all_boxes()
        return non_max_suppression(boxes, scores, self.score_threshold.value, self.iou_threshold.value)

    def _update(self, _=None):
        boxes, scores = self.all_boxes()
        r = self.result()
        mine = len(boxes) - 1
        fig = new_figure(4.2, 3.3, dpi=80)
        ax = fig.add_subplot(1, 1, 1)
        ax.imshow(self.photo)
        ax.set_xlim(0, self.photo.shape[1])
        ax.set_ylim(self.photo.shape[0], 0)
        kept = [i for i in range(len(boxes)) if i in r["keep"]]
        widths, tall = _label_sizes(ax, [f"{scores[i]:.2f}" for i in kept], fontsize=8)
        places = dict(zip(kept, label_positions(boxes[kept], widths, tall, self.photo.shape)))
        for i, b in enumerate(boxes):
            if i in r["keep"]:
                _draw_box(ax, b, "#ff9100" if i == mine else "#00c853", "-", 2.0, f"{scores[i]:.2f}", places[i])
            elif i in r["suppressed"]:
                _draw_box(ax, b, "#ff9100" if i == mine else "#e53935", "--", 1.0)
            else:
                _draw_box(ax, b, "#9e9e9e", ":", 1.0)
        ax.set_xticks([])
        ax.set_yticks([])
        ax.set_title(f"{len(r['keep'])} kept of {len(boxes)} candidates", fontsize=10)
        self.image.value = figure_to_png(fig)
        v = iou(boxes[mine], self.target)
        if mine in r["keep"]:
            fate = "kept"
        elif mine in r["suppressed"]:
            j, w = r["suppressed"][mine]
            fate = f"suppressed by box {j} (score {scores[j]:.2f}, IoU {w:.2f})"
        else:
            fate = "dropped (score below the threshold)"
        self.info.value = (
            f"<div style='max-width:330px'>Orange box (score 0.80): IoU with the car's true box = "
            f"<b>{v:.2f}</b>; {fate}.<br>Kept: {len(r['keep'])}, suppressed: {len(r['suppressed'])}, "
            f"below the score threshold: {len(r['low'])}.<br>Try: IoU threshold 0.1 (neighbours "
            f"suppress each other) and 0.9 (duplicates survive).</div>")


# ------------------------------------------------------------------------------------------
# anchor boxes and k-means with the 1 - IoU distance
# ------------------------------------------------------------------------------------------

def wh_iou(wh, anchors) -> np.ndarray:
    """IoU of boxes and anchors given by (width, height) only, as if they shared their centre.

    wh: (n, 2); anchors: (k, 2). Returns (n, k): min(w) * min(h) / (area + area - min(w) * min(h)).
    """
    from helpers.models.street_detector import shape_iou

    return shape_iou(np.asarray(wh, float).reshape(-1, 2), np.asarray(anchors, float).reshape(-1, 2))


def kmeans_anchors(wh, k, seed=0, iterations=100):
    """k anchor boxes for the box shapes wh (n, 2) by k-means with the distance 1 - IoU (YOLOv2,
    Redmon & Farhadi 2017): each box joins the anchor it overlaps most, each anchor moves to the
    mean shape of its boxes, until nothing changes. Starts from k distinct boxes drawn with ``seed``.
    (:func:`helpers.models.street_detector.kmeans_anchors` with ``center="mean"``.)

    Returns (anchors (k, 2) sorted by area, labels (n,) indices into them, mean IoU of every box
    with its anchor).
    """
    from helpers.models.street_detector import kmeans_anchors as fit

    return fit(np.asarray(wh, float).reshape(-1, 2), _positive_int("k", k), seed, iterations, center="mean", distinct_starts=True)


def street_box_shapes(n=80, seed=11, height=96, width=128, min_size=3.0):
    """(width, height) of every object box (pedestrians, poles, trees, cars, signs, traffic lights)
    of n generated street frames, at least ``min_size`` pixels each way; shape (m, 2)."""
    s = _street_frames(n, seed, height, width)
    b = np.concatenate(s.boxes)
    wh = np.stack([b[:, 2] - b[:, 0], b[:, 3] - b[:, 1]], axis=1)
    return wh[(wh >= min_size).all(axis=1)]


class AnchorExplorer(widgets.VBox):
    """k-means (distance 1 - IoU) on the shapes of the street-scene boxes: move k and watch the
    clusters, the anchors (drawn as boxes from the origin) and the mean IoU of a box with its anchor."""

    def __init__(self, wh, k=5, k_max=9, seed=0):
        self.wh = np.asarray(wh, float)
        self.runs = {j: kmeans_anchors(self.wh, j, seed) for j in range(1, k_max + 1)}
        self.k = slider("anchors k", k, 1, k_max)
        self.image = figure_image()
        self.info = widgets.HTML()
        self.k.observe(self._update, names="value")
        super().__init__([self.k, self.image, self.info])
        self._update()

    def _update(self, _=None):
        from matplotlib.patches import Rectangle

        anchors, labels, mean = self.runs[self.k.value]
        fig = new_figure(8.4, 3.2, dpi=80)
        ax, ax2 = fig.subplots(1, 2, gridspec_kw={"width_ratios": [1.4, 1]})
        cmap = __import__("matplotlib").colormaps["tab10"]
        ax.scatter(self.wh[:, 0], self.wh[:, 1], c=[cmap(i % 10) for i in labels], s=6, alpha=0.5)
        for j, (w, h) in enumerate(anchors):
            ax.add_patch(Rectangle((0, 0), w, h, fill=False, ec=cmap(j % 10), lw=2))
        ax.set_xlabel("box width (pixels)")
        ax.set_ylabel("box height (pixels)")
        ax.set_xlim(0, np.percentile(self.wh[:, 0], 99) * 1.05)
        ax.set_ylim(0, np.percentile(self.wh[:, 1], 99) * 1.05)
        ax.set_title(f"k = {self.k.value}: {len(self.wh)} boxes, anchors drawn from (0, 0)", fontsize=9)
        ks = sorted(self.runs)
        ax2.plot(ks, [self.runs[j][2] for j in ks], "o-", color="#455a64")
        ax2.plot([self.k.value], [mean], "o", ms=10, color="#ff9100")
        ax2.set_xlabel("number of anchors k")
        ax2.set_ylabel("mean IoU with own anchor")
        ax2.set_ylim(0, 1)
        ax2.grid(alpha=0.3)
        self.image.value = figure_to_png(fig)
        shapes = ", ".join(f"{w:.0f}&times;{h:.0f}" for w, h in anchors)
        self.info.value = f"anchors (w&times;h): {shapes}; mean IoU <b>{mean:.3f}</b>"


# ------------------------------------------------------------------------------------------
# region proposals
# ------------------------------------------------------------------------------------------

def segment_boxes(labels, min_pixels=20) -> np.ndarray:
    """Bounding boxes (k, 4) of the segments of a label map (H, W) with at least min_pixels pixels."""
    labels = np.asarray(labels)
    out = []
    for lab in np.unique(labels):
        ys, xs = np.nonzero(labels == lab)
        if len(ys) >= min_pixels:
            out.append((xs.min(), ys.min(), xs.max() + 1, ys.max() + 1))
    return np.array(out, dtype=float).reshape(-1, 4)


def _group_regions(image, labels) -> list:
    """Hierarchical grouping of selective search on a label map: repeatedly merge the two
    neighbouring regions that are most alike (colour, small size, and how well they fill their
    joint box; Uijlings et al. 2013) until one is left. Returns the box of every region met."""
    labels = np.unique(labels, return_inverse=True)[1].reshape(labels.shape)
    n, area = int(labels.max()) + 1, float(labels.size)
    h, w = labels.shape
    ys, xs = np.mgrid[:h, :w]
    flat = labels.ravel()
    size = np.bincount(flat, minlength=n).astype(float)
    colour = np.stack([np.bincount(flat, image.reshape(-1, image.shape[-1])[:, c], n)
                       for c in range(image.shape[-1])], axis=1) / size[:, None]
    box = np.stack([np.full(n, w), np.full(n, h), np.zeros(n), np.zeros(n)], axis=1).astype(float)
    np.minimum.at(box[:, 0], flat, xs.ravel())
    np.minimum.at(box[:, 1], flat, ys.ravel())
    np.maximum.at(box[:, 2], flat, xs.ravel() + 1)
    np.maximum.at(box[:, 3], flat, ys.ravel() + 1)
    regions = {i: (size[i], colour[i], box[i]) for i in range(n)}
    pairs = np.concatenate([np.stack([labels[:, :-1].ravel(), labels[:, 1:].ravel()], 1),
                            np.stack([labels[:-1].ravel(), labels[1:].ravel()], 1)])
    pairs = np.unique(np.sort(pairs[pairs[:, 0] != pairs[:, 1]], axis=1), axis=0)
    neighbours = {i: set() for i in range(n)}
    for i, j in pairs:
        neighbours[int(i)].add(int(j))
        neighbours[int(j)].add(int(i))

    def similarity(i, j):
        (si, ci, bi), (sj, cj, bj) = regions[i], regions[j]
        joint = (max(bi[2], bj[2]) - min(bi[0], bj[0])) * (max(bi[3], bj[3]) - min(bi[1], bj[1]))
        return (1 - np.linalg.norm(ci - cj) / np.sqrt(3)) + (1 - (si + sj) / area) + (1 - (joint - si - sj) / area)

    import heapq

    heap = [(-similarity(int(i), int(j)), int(i), int(j)) for i, j in pairs]
    heapq.heapify(heap)
    boxes = [r[2] for r in regions.values()]
    new = n
    while heap:
        _, i, j = heapq.heappop(heap)
        if i not in regions or j not in regions:
            continue  # a pair of a region merged away since
        (si, ci, bi), (sj, cj, bj) = regions.pop(i), regions.pop(j)
        merged_box = np.array([min(bi[0], bj[0]), min(bi[1], bj[1]), max(bi[2], bj[2]), max(bi[3], bj[3])])
        regions[new] = (si + sj, (ci * si + cj * sj) / (si + sj), merged_box)
        boxes.append(merged_box)
        around = (neighbours.pop(i) | neighbours.pop(j)) - {i, j}
        neighbours[new] = around
        for k in around:
            neighbours[k] -= {i, j}
            neighbours[k].add(new)
            heapq.heappush(heap, (-similarity(k, new), k, new))
        new += 1
    return boxes


def region_proposals(image, scales=(10, 30, 100), min_pixels=5) -> np.ndarray:
    """Class-agnostic region proposals in the spirit of selective search (Uijlings et al. 2013):
    scikit-image's Felzenszwalb-Huttenlocher segmentation at a few scales, then the hierarchical
    grouping of neighbouring segments (:func:`_group_regions`); the boxes of every segment and
    every merged region, duplicates removed. image: (H, W, 3) floats in [0, 1]. Returns (k, 4)."""
    from skimage.segmentation import felzenszwalb

    image = np.asarray(image, float)
    if image.ndim != 3:
        raise ValueError(f"image must be (H, W, 3), got {image.shape}")
    boxes = [np.array(_group_regions(image, felzenszwalb(image, scale=s, sigma=0.8, min_size=min_pixels)))
             for s in scales]
    return np.unique(np.concatenate(boxes), axis=0)


def recall(true_boxes, proposals, threshold=0.5) -> float:
    """Fraction of true boxes (k, 4) that some proposal overlaps with IoU >= threshold."""
    true_boxes = np.asarray(true_boxes, float).reshape(-1, 4)
    if len(true_boxes) == 0:
        return 1.0
    hit = [any(iou(t, p) >= threshold for p in proposals) for t in true_boxes]
    return float(np.mean(hit))


# ------------------------------------------------------------------------------------------
# transposed convolutions
# ------------------------------------------------------------------------------------------

def transposed_output_size(n, f, stride=1, pad=0) -> int:
    """Output size of a transposed convolution: (n - 1) * s + f - 2p."""
    n, f = _positive_int("n", n), _positive_int("f", f)
    stride, pad = _positive_int("stride", stride), _positive_int("pad", pad, 0)
    out = (n - 1) * stride + f - 2 * pad
    if out < 1:
        raise ValueError(f"padding {pad} crops everything: (n-1)*s + f - 2p = {out}")
    return out


def transposed_conv2d(x, kernel, stride=1, pad=0) -> np.ndarray:
    """Transposed convolution of one channel: every input value stamps ``value * kernel`` onto the
    output at (i * stride, j * stride); overlapping stamps add up; then ``pad`` rows and columns
    are cropped from every side. x: (n_h, n_w); kernel: (f, f). Returns
    ((n_h - 1) s + f - 2p, (n_w - 1) s + f - 2p)."""
    x, kernel = np.asarray(x, float), np.asarray(kernel, float)
    if x.ndim != 2 or kernel.ndim != 2 or kernel.shape[0] != kernel.shape[1]:
        raise ValueError(f"x must be 2-D and kernel square 2-D, got {x.shape} and {kernel.shape}")
    f = kernel.shape[0]
    transposed_output_size(min(x.shape), f, stride, pad)
    full = np.zeros(((x.shape[0] - 1) * stride + f, (x.shape[1] - 1) * stride + f))
    for i in range(x.shape[0]):
        for j in range(x.shape[1]):
            full[i * stride:i * stride + f, j * stride:j * stride + f] += x[i, j] * kernel
    return full[pad:full.shape[0] - pad, pad:full.shape[1] - pad]


def overlap_counts(n, f, stride=1, pad=0) -> np.ndarray:
    """How many kernel stamps land on each output pixel of a transposed convolution of an n x n
    input: the transposed convolution of ones by ones. Uneven counts = the checkerboard pattern."""
    return transposed_conv2d(np.ones((n, n)), np.ones((f, f)), stride, pad).astype(int)


class TransposedConvExplorer(widgets.VBox):
    """Input size, kernel size, stride and padding of a transposed convolution: the output grid
    with the number of kernel stamps that overlap on every pixel (uneven numbers = checkerboard)."""

    def __init__(self, n=3, f=3, stride=2, pad=0):
        self.n = slider("input n", n, 1, 6)
        self.f = slider("kernel f", f, 1, 6)
        self.stride = slider("stride s", stride, 1, 4)
        self.pad = slider("padding p", pad, 0, 3)
        self.image = figure_image()
        self.info = widgets.HTML()
        for c in (self.n, self.f, self.stride, self.pad):
            c.observe(self._update, names="value")
        super().__init__([row([widgets.VBox([self.n, self.f]), widgets.VBox([self.stride, self.pad])]),
                          self.info, self.image])
        self._update()

    def _update(self, _=None):
        n, f, s, p = self.n.value, self.f.value, self.stride.value, self.pad.value
        full = (n - 1) * s + f
        if full - 2 * p < 1:
            self.info.value = (f"<b style='color:#b71c1c'>(n&minus;1)s + f &minus; 2p = {full - 2 * p}: "
                               f"the padding crops everything.</b>")
            return
        counts = overlap_counts(n, f, s, p)
        fig = new_figure(8.0, 3.4, dpi=80)
        ax0, ax1 = fig.subplots(1, 2, gridspec_kw={"width_ratios": [max(n, 2), max(counts.shape[0], 2)]})
        ax0.imshow(np.arange(n * n).reshape(n, n) % 2, cmap="Pastel1", vmin=0, vmax=8)
        for i in range(n):
            for j in range(n):
                ax0.text(j, i, f"x{i}{j}", ha="center", va="center", fontsize=8)
        ax0.set_title(f"input {n}x{n}", fontsize=10)
        ax1.imshow(counts, cmap="viridis", vmin=0, vmax=max(counts.max(), 1))
        if counts.shape[0] <= 16:
            for (i, j), v in np.ndenumerate(counts):
                ax1.text(j, i, str(v), ha="center", va="center", fontsize=8,
                         color="white" if v < counts.max() * 0.6 else "black")
        ax1.set_title(f"output {counts.shape[0]}x{counts.shape[1]}: stamps per pixel", fontsize=10)
        for ax in (ax0, ax1):
            ax.set_xticks([])
            ax.set_yticks([])
        self.image.value = figure_to_png(fig)
        even = "evenly (no checkerboard)" if counts.min() == counts.max() or f % s == 0 else \
            "<b>unevenly: a checkerboard</b> (f is not a multiple of s)"
        self.info.value = (f"n<sub>out</sub> = (n &minus; 1)s + f &minus; 2p = ({n} &minus; 1)&middot;{s} + {f}"
                           f" &minus; 2&middot;{p} = <b>{counts.shape[0]}</b>; stamps overlap {even}: "
                           f"{counts.min()} to {counts.max()} per pixel")


# ------------------------------------------------------------------------------------------
# semantic segmentation and U-Net
# ------------------------------------------------------------------------------------------

class SegmentationViewer(widgets.VBox):
    """A street frame, its per-pixel class map and the overlay, with the share of each class."""

    def __init__(self, seed=7, n=4, height=144, width=192):
        from helpers.data.street import CLASS_COLOURS, CLASS_NAMES

        self.scenes = _street_frames(n, seed, height, width)
        self.colours, self.names = CLASS_COLOURS, CLASS_NAMES
        self.scene = slider("frame", 0, 0, n - 1)
        self.opacity = widgets.FloatSlider(value=0.6, min=0, max=1, step=0.1, description="opacity",
                                           style={"description_width": "100px"})
        self.image = figure_image()
        self.info = widgets.HTML()
        self.scene.observe(self._update, names="value")
        self.opacity.observe(self._update, names="value")
        super().__init__([row([self.scene, self.opacity]), self.image, self.info])
        self._update()

    def _update(self, _=None):
        from helpers.data.street import overlay_masks

        i = self.scene.value
        img, mask = self.scenes.images[i], self.scenes.masks[i]
        fig = new_figure(9.0, 2.4, dpi=80)
        axes = fig.subplots(1, 3)
        axes[0].imshow(img)
        axes[0].set_title("frame", fontsize=10)
        axes[1].imshow(self.colours[mask])
        axes[1].set_title("label of every pixel", fontsize=10)
        axes[2].imshow(overlay_masks(img[None], mask[None], self.opacity.value)[0])
        axes[2].set_title("overlay", fontsize=10)
        for ax in axes:
            ax.set_xticks([])
            ax.set_yticks([])
        self.image.value = figure_to_png(fig)
        ids, counts = np.unique(mask, return_counts=True)
        order = np.argsort(-counts)
        chips = "".join(
            f"<span style='display:inline-block;margin:2px 8px 2px 0'><span style='display:inline-block;"
            f"width:11px;height:11px;background:rgb{tuple(int(v) for v in self.colours[ids[k]])}'></span> "
            f"{html.escape(self.names[ids[k]])} {100 * counts[k] / mask.size:.1f}%</span>" for k in order)
        self.info.value = f"<div style='max-width:720px'>{chips}</div>"


def tiny_encoder_decoder(skips: bool, height=48, width=64, filters=16, seed=0):
    """A two-level encoder-decoder for (height, width, 3) images in [0, 1] -> (height, width, 3).

    Encoder: conv 3x3 + ReLU, max pool 2, twice, then a 3x3 bottleneck conv at 1/4 size. Decoder:
    transposed conv 2x2 stride 2 + conv 3x3, twice, then a 1x1 conv with a sigmoid. With
    ``skips`` (U-Net) each decoder level also gets the encoder's feature map of the same size,
    concatenated before its conv; without, it only has what came through the bottleneck.
    """
    from helpers.backend import keras

    height, width = _positive_int("height", height), _positive_int("width", width)
    if height % 4 or width % 4:
        raise ValueError(f"height and width must be multiples of 4, got {height}x{width}")
    keras.utils.set_random_seed(int(seed))
    L = keras.layers
    x_in = keras.Input((height, width, 3))
    e1 = L.Conv2D(filters, 3, padding="same", activation="relu")(x_in)
    e2 = L.Conv2D(2 * filters, 3, padding="same", activation="relu")(L.MaxPooling2D(2)(e1))
    b = L.Conv2D(2 * filters, 3, padding="same", activation="relu")(L.MaxPooling2D(2)(e2))
    d2 = L.Conv2DTranspose(2 * filters, 2, strides=2)(b)
    if skips:
        d2 = L.Concatenate()([d2, e2])
    d2 = L.Conv2D(2 * filters, 3, padding="same", activation="relu")(d2)
    d1 = L.Conv2DTranspose(filters, 2, strides=2)(d2)
    if skips:
        d1 = L.Concatenate()([d1, e1])
    d1 = L.Conv2D(filters, 3, padding="same", activation="relu")(d1)
    out = L.Conv2D(3, 1, activation="sigmoid")(d1)
    return keras.Model(x_in, out, name="unet_like" if skips else "no_skips")


class ReconstructionViewer(widgets.VBox):
    """Held-out frames and what two encoder-decoders trained to reproduce them give back: without
    skip connections (only the bottleneck) and with them (U-Net)."""

    def __init__(self, images, outputs: dict):
        self.images = np.asarray(images)
        self.outputs = {k: np.asarray(v) for k, v in outputs.items()}
        self.scene = slider("frame", 0, 0, len(self.images) - 1)
        self.image = figure_image()
        self.info = widgets.HTML()
        self.scene.observe(self._update, names="value")
        super().__init__([self.scene, self.image, self.info])
        self._update()

    def _update(self, _=None):
        i = self.scene.value
        panels = [("input", self.images[i])] + [(k, v[i]) for k, v in self.outputs.items()]
        fig = new_figure(3.0 * len(panels), 2.4, dpi=80)
        axes = fig.subplots(1, len(panels))
        for ax, (name, im) in zip(axes, panels):
            ax.imshow(np.clip(im, 0, 1), interpolation="nearest")
            ax.set_title(name, fontsize=10)
            ax.set_xticks([])
            ax.set_yticks([])
        self.image.value = figure_to_png(fig)
        errs = ", ".join(f"{k}: {np.mean((v[i] - self.images[i]) ** 2):.4f}" for k, v in self.outputs.items())
        self.info.value = f"mean squared error on this frame: {errs}"


__all__ = [
    "ASTRONAUT_LANDMARKS", "OBJECT_CLASSES", "STREET_IDS", "AnchorExplorer", "LocalisationExplorer", "NMSPlayground",
    "ReconstructionViewer", "SegmentationViewer", "all_windows", "classify_regions", "TransposedConvExplorer",
    "YoloGridExplorer", "compare_sliding_windows", "convolutionalise", "crops", "draw_boxes", "iou",
    "kmeans_anchors", "label_positions", "landmark_vector", "largest_object", "localisation_examples",
    "localisation_loss", "localisation_target", "mirror_landmarks", "noisy_detections", "non_max_suppression",
    "overlap_counts", "recall", "region_proposals", "segment_boxes", "sliding_window_multiplies", "street_box_shapes",
    "street_objects", "target_to_box", "tiny_encoder_decoder", "transposed_conv2d", "transposed_output_size",
    "wh_iou", "window_classifier", "window_count", "yolo_assign", "yolo_target",
]


def classify_regions(model, image, boxes, repeats=2) -> tuple[np.ndarray, float]:
    """Crop every box (k, 4) of image (H, W, 3) in [0, 1], resize the crops to the model's square
    input and classify them in one batch, as R-CNN does with its proposals (and sliding windows with
    their windows). Returns (probabilities (k, n_classes), best time in seconds over ``repeats``
    runs, the first one traced and not counted)."""
    from helpers.backend import tf

    boxes = np.asarray(boxes, np.float32).reshape(-1, 4)
    h, w = np.asarray(image).shape[:2]
    size = model.input_shape[1]
    norm = np.stack([boxes[:, 1] / h, boxes[:, 0] / w, boxes[:, 3] / h, boxes[:, 2] / w], axis=1)
    run = tf.function(lambda img, b: model(tf.image.crop_and_resize(img, b, tf.zeros(len(norm), tf.int32),
                                                                   (size, size)), training=False))
    img = tf.constant(np.asarray(image, np.float32)[None])
    out = run(img, norm).numpy()
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        run(img, norm).numpy()
        times.append(time.perf_counter() - t)
    return out, min(times)


def all_windows(height, width, sizes=(16, 32, 64), stride=4) -> np.ndarray:
    """Corner boxes (k, 4) of every square window of each size at the given stride."""
    out = []
    for f in sizes:
        for y in range(0, height - f + 1, stride):
            for x in range(0, width - f + 1, stride):
                out.append((x, y, x + f, y + f))
    return np.array(out, dtype=float).reshape(-1, 4)
