"""helpers.viz: the maths behind the lecture widgets, and the widgets driven without a browser."""

from __future__ import annotations

import datetime
import io

import numpy as np
import pytest

from helpers import conv, viz
from helpers.viz import activations


def loops_correlate(x, k, pad=0, stride=1):
    x = np.pad(np.asarray(x, float), pad)
    f_h, f_w = k.shape
    n_h = (x.shape[0] - f_h) // stride + 1
    n_w = (x.shape[1] - f_w) // stride + 1
    out = np.zeros((n_h, n_w))
    for i in range(n_h):
        for j in range(n_w):
            out[i, j] = np.sum(x[i * stride:i * stride + f_h, j * stride:j * stride + f_w] * k)
    return out


# ------------------------------------------------------------------ geometry and numpy maths


@pytest.mark.parametrize("n,f,p,s,expected", [
    (6, 3, 0, 1, 4), (6, 3, 1, 1, 6), (7, 3, 0, 2, 3), (6, 3, 0, 2, 2), (227, 11, 0, 4, 55),
    (5, 5, 0, 1, 1), (4, 6, 1, 1, 1),
])
def test_conv_output_size(n, f, p, s, expected):
    assert conv.output_size(n, f, p, s) == expected


@pytest.mark.parametrize("args", [(4, 7, 1, 1), (3, 1, -1, 1), (3, 1, 0, 0), (3.5, 1, 0, 1)])
def test_conv_output_size_rejects_bad_arguments(args):
    with pytest.raises(ValueError):
        conv.output_size(*args)


def test_describe_geometry_explains_odd_cases():
    assert not viz.describe_geometry(4, 7, 1, 1).valid
    leftover = viz.describe_geometry(6, 3, 0, 2)
    assert leftover.valid and leftover.out == 2 and leftover.leftover == 1
    assert any("never covered" in note for note in leftover.notes)
    same = viz.describe_geometry(7, 5, 2, 1)
    assert same.out == 7 and any("Same" in note for note in same.notes)
    assert any("even kernel" in note for note in viz.describe_geometry(8, 4, 0, 1).notes)


@pytest.mark.parametrize("pad,stride", [(0, 1), (1, 1), (2, 3), (0, 2)])
def test_correlate_and_convolve_match_loops(pad, stride):
    rng = np.random.default_rng(pad * 10 + stride)
    x, k = rng.normal(size=(9, 11)), rng.normal(size=(3, 3))
    np.testing.assert_allclose(conv.correlate2d(x, k, pad, stride), loops_correlate(x, k, pad, stride))
    np.testing.assert_allclose(conv.convolve2d(x, k, pad, stride),
                               loops_correlate(x, k[::-1, ::-1], pad, stride))


def test_convolution_is_associative_and_correlation_is_not():
    rng = np.random.default_rng(3)
    x, k1, k2 = rng.normal(size=(7, 7)), rng.normal(size=(3, 3)), rng.normal(size=(2, 2))
    np.testing.assert_allclose(conv.full_convolve2d(conv.full_convolve2d(x, k1), k2),
                               conv.full_convolve2d(x, conv.full_convolve2d(k1, k2)))
    assert not np.allclose(conv.full_correlate2d(conv.full_correlate2d(x, k1), k2),
                           conv.full_correlate2d(x, conv.full_correlate2d(k1, k2)))


def test_pool2d_matches_loops_and_rejects_unknown_mode():
    x = np.random.default_rng(0).normal(size=(8, 9))
    windows = np.lib.stride_tricks.sliding_window_view(x, (3, 3))[::2, ::2]
    np.testing.assert_allclose(conv.pool2d(x, 3, 2, "max"), windows.max(axis=(2, 3)))
    np.testing.assert_allclose(conv.pool2d(x, 3, 2, "average"), windows.mean(axis=(2, 3)))
    assert conv.pool2d(x, 2).shape == (4, 4)
    with pytest.raises(ValueError, match="mode"):
        conv.pool2d(x, 2, 2, "min")


def test_vertical_edge_sign_tells_light_to_dark_from_dark_to_light():
    light_to_dark = np.array([[10, 10, 10, 0, 0, 0]] * 6)
    out = viz.edge_response(light_to_dark, viz.EDGE_KERNELS["vertical"])
    assert out.shape == (4, 4) and out.max() == 30 and out.min() == 0
    assert viz.edge_response(light_to_dark[:, ::-1], viz.EDGE_KERNELS["vertical"]).min() == -30
    flat = np.full((5, 5), 7.0)
    for name in ("vertical", "horizontal", "Sobel vertical", "Scharr horizontal"):
        assert np.allclose(viz.edge_response(flat, viz.EDGE_KERNELS[name]), 0), name


def test_window_step_shows_the_multiply_and_sum():
    x, k = viz.demo_grid(5, 0), viz.demo_kernel(3, 1)
    st = viz.window_step(x, k, pad=1, stride=2, step=4)
    assert (st["out_row"], st["out_col"]) == (1, 1) and (st["row"], st["col"]) == (2, 2)
    assert st["value"] == st["output"][1, 1] == np.sum(np.pad(x, 1)[2:5, 2:5] * k)
    assert st["expression"].endswith(f"<b>{st['value']}</b>")
    with pytest.raises(ValueError):
        viz.window_step(x, k, 1, 2, 9)


def test_parameter_counts():
    assert viz.conv_layer_params(3, 3, 10) == 280
    assert viz.dense_layer_params(400, 120) == 48120
    r = viz.compare_conv_dense(32, 3, 5, 6)
    assert r["output_shape"] == (28, 28, 6) and r["conv_params"] == 456
    assert r["dense_params"] == (32 * 32 * 3 + 1) * 28 * 28 * 6
    assert r["conv_inputs_per_output"] == 75
    rows = viz.lenet_like_table((32, 32, 3))
    assert [row["output shape"] for row in rows[:5]] == [(32, 32, 3), (28, 28, 6), (14, 14, 6),
                                                         (10, 10, 16), (5, 5, 16)]
    assert sum(row["parameters"] for row in rows) == 62006


def test_load_photo_sizes_and_range():
    gray = viz.load_photo("coffee", size=100)
    colour = viz.load_photo("coffee", size=100, gray=False)
    assert gray.shape == (67, 100) and colour.shape == (67, 100, 3)
    assert 0 <= gray.min() and gray.max() <= 1
    with pytest.raises(ValueError, match="unknown photo"):
        viz.load_photo("nope")


def test_activation_mosaic_layout():
    act = np.random.default_rng(0).random((4, 5, 7))
    m = viz.activation_mosaic(act, cols=3, gap=1)
    assert m.shape == (3 * 5 - 1, 3 * 6 - 1)
    assert np.isnan(m[4, :]).all()  # gap row
    np.testing.assert_allclose(m[:4, :5], (act[..., 0] - act[..., 0].min()) / np.ptp(act[..., 0]))


# ------------------------------------------------------------------ widgets, driven by .value


def test_conv_explorer_updates_formula_steps_and_explains_invalid_input():
    e = viz.ConvExplorer(n=5, f=3, pad=0, stride=1)
    assert "<b>3</b>" in e.formula.value and e.step.max == 8
    grids = e.grids.value
    e.step.value = 4
    assert e.grids.value != grids and "output[1,1]" in e.grids.value
    e.stride.value = 2
    assert e.step.max == 3 and "<b>2</b>" in e.formula.value
    e.same.click()
    assert e.stride.value == 1 and e.pad.value == 1 and "<b>5</b>" in e.formula.value
    e.n.value, e.pad.value, e.f.value = 3, 0, 6
    assert "no window fits" in e.formula.value and e.step.disabled
    assert "Not possible" in e.notes.value


def test_edge_explorer_presets_custom_kernel_and_photo():
    e = viz.EdgeExplorer(photo="light square on dark", kernel="vertical", size=48)
    first = e.image.value
    assert first[:8] == b"\x89PNG\r\n\x1a\n"
    np.testing.assert_array_equal(e.kernel, viz.EDGE_KERNELS["vertical"])
    e.kernel_name.value = "Sobel horizontal"
    np.testing.assert_array_equal(e.kernel, viz.EDGE_KERNELS["Sobel horizontal"])
    assert e.image.value != first
    before = e.image.value
    e.cells[4].value = 1.0
    assert e.kernel_name.value == "custom" and e.kernel[1, 1] == 1.0 and e.image.value != before
    before = e.image.value
    e.flip_sign.value = True
    assert e.image.value != before
    before = e.image.value
    e.photo.value = "coins"
    assert e.image.value != before and "kernel sum = -1" in e.info.value


def test_pooling_playground_sizes_and_invalid_window():
    p = viz.PoolingPlayground(photo="light square on dark", f=2, stride=2, size=32)
    img, out = p.result()
    assert out.shape == (16, 16) and "<b>16</b>" in p.info.value
    before = p.image.value
    p.f.value, p.stride.value = 4, 4
    assert p.result()[1].shape == (8, 8) and p.image.value != before
    p.operation.value = "average pool"
    np.testing.assert_allclose(p.result()[1], conv.pool2d(img, 4, 4, "average"))
    p.f.value, p.pad.value = 16, 0
    p.stride.value = 16
    p.f.value = 16
    assert p.result()[1].shape == (2, 2)
    p.size = 8  # a new photo of 8 pixels cannot hold a 16-wide window
    p.photo.value = "dark/light halves"
    assert "larger than the padded photo" in p.info.value


def test_flip_explorer_and_parameter_counter_react():
    f = viz.FlipExplorer(dots=1)
    before = f.image.value
    f.dots.value = 3
    assert f.image.value != before and f.dot_image().sum() == 3
    c = viz.ParameterCounter(n=32, n_c_prev=3, f=5, n_c=6)
    assert "456" in c.table.value and "14,455,392" in c.table.value
    c.n_c.value = 12
    assert "912" in c.table.value
    c.n.value, c.f.value, c.pad.value = 4, 11, 0
    assert "does not fit" in c.table.value


# ------------------------------------------------------------------ activations and Grad-CAM


@pytest.fixture(scope="module")
def tiny_model():
    from helpers.backend import keras

    keras.utils.set_random_seed(0)
    return keras.Sequential([
        keras.Input((16, 16, 3)),
        keras.layers.Conv2D(4, 3, padding="same", activation="relu", name="c1"),
        keras.layers.MaxPooling2D(2, name="p1"),
        keras.layers.Conv2D(6, 3, padding="same", activation="relu", name="c2"),
        keras.layers.GlobalAveragePooling2D(name="gap"),
        keras.layers.Dense(3, activation="softmax", name="out"),
    ])


def test_grad_cam_points_at_the_evidence():
    """A one-channel model whose class 0 score grows with brightness: Grad-CAM of class 0 lights up
    the bright half only, and class 1 (which brightness speaks against) gets an empty map."""
    from helpers.backend import keras

    model = keras.Sequential([
        keras.Input((8, 8, 1)),
        keras.layers.Conv2D(1, 1, activation="relu", name="feature"),
        keras.layers.GlobalAveragePooling2D(),
        keras.layers.Dense(2, activation="softmax"),
    ])
    model.get_layer("feature").set_weights([np.ones((1, 1, 1, 1)), np.zeros(1)])
    model.layers[-1].set_weights([np.array([[4.0, -4.0]]), np.zeros(2)])
    x = np.zeros((1, 8, 8, 1), "float32")
    x[0, :, :4] = 1.0
    cam0 = viz.grad_cam(model, x, 0)[0]
    assert cam0.shape == (8, 8)
    assert cam0[:, :3].min() > 0.9 and cam0[:, 5:].max() < 0.1
    assert np.allclose(viz.grad_cam(model, x, 1)[0], 0)


def test_activation_visualiser_caches_and_slices(tiny_model, monkeypatch):
    calls = []
    real = viz.compute_activations

    def counting(*args, **kwargs):
        calls.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(activations, "compute_activations", counting)
    images = (np.random.default_rng(1).random((3, 16, 16, 3)) * 255).astype(np.uint8)
    v = viz.ActivationVisualiser(tiny_model, images, labels=[0, 1, 2], class_names=["a", "b", "c"])
    assert v.layer_names == ["c1", "p1", "c2"]
    assert len(calls) == 1 and v.channel.max == 3
    assert "label: <b>a</b>" in v.prediction.value
    mosaic, zoom, overview = v.mosaic.value, v.zoom.value, v.overview.value
    v.channel.value = 2
    assert v.zoom.value != zoom and v.mosaic.value == mosaic and len(calls) == 1
    v.layer.value = "c2"
    assert v.channel.max == 5 and v.mosaic.value != mosaic and len(calls) == 1
    assert v.entry()["acts"]["p1"].shape == (8, 8, 4)
    v.target.value = 2 if int(np.argmax(v.entry()["probs"])) != 2 else 1
    assert v.overview.value != overview
    v.index.value = 2
    assert len(calls) == 2 and v.channel.max == 5
    v.index.value = 0
    assert len(calls) == 2  # cached: moving back costs no forward pass


def test_activation_visualiser_upload_and_bad_input(tiny_model):
    from PIL import Image

    images = (np.random.default_rng(2).random((2, 16, 16, 3)) * 255).astype(np.uint8)
    v = viz.ActivationVisualiser(tiny_model, images, labels=[0, 1])
    buf = io.BytesIO()
    Image.fromarray((viz.load_photo("chelsea", 60, gray=False) * 255).astype(np.uint8)).save(buf, "PNG")
    v.upload.value = ({"name": "me.png", "type": "image/png", "size": len(buf.getvalue()),
                       "content": memoryview(buf.getvalue()),
                       "last_modified": datetime.datetime.now()},)
    assert len(v.images) == 3 and v.index.value == 2 and v.images[2].shape == (16, 16, 3)
    assert "your upload" in v.prediction.value
    with pytest.raises(ValueError, match="images must be"):
        viz.ActivationVisualiser(tiny_model, images[0])


def test_show_as_jpeg_shows_a_small_jpeg_and_closes_the_figure():
    """A figure of a noisy scene shown as JPEG: JPEG bytes, several times smaller than the same
    figure's PNG, the figure closed afterwards; a quality outside 1..95 is refused with a message."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from helpers.viz.render import figure_to_png, show_as_jpeg

    def noisy_figure():
        fig, ax = plt.subplots(figsize=(6, 4))
        ax.imshow(np.random.default_rng(0).integers(0, 256, (256, 384, 3), dtype=np.uint8))
        return fig

    png = figure_to_png(noisy_figure())
    fig = noisy_figure()
    jpeg = show_as_jpeg(fig)
    assert jpeg[:2] == b"\xff\xd8" and len(jpeg) * 3 < len(png)
    assert not plt.fignum_exists(fig.number)
    with pytest.raises(ValueError, match="quality"):
        show_as_jpeg(noisy_figure(), quality=0)
    plt.close("all")
