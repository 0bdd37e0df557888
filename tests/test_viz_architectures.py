"""helpers.viz.architectures (week 2, lectures 1-3): counts against hand-computed values, the widgets
react to their controls, and every number the three lectures' text states is the computed one."""

from __future__ import annotations

import json

import numpy as np
import pytest

from helpers.viz import architectures as arch
from tests import REPO

WEEK2 = REPO / "course" / "week2"
LECTURE_1 = WEEK2 / "01_Classic_Networks_LeNet_AlexNet_VGG.ipynb"
LECTURE_2 = WEEK2 / "02_Residual_Networks.ipynb"
LECTURE_3 = WEEK2 / "03_One_by_One_Convolutions_and_Inception.ipynb"


def markdown(path) -> str:
    """The markdown text of a lecture, every run of white space made one space (the text wraps anywhere)."""
    cells = json.loads(path.read_text())["cells"]
    return " ".join(" ".join("".join(c["source"]) for c in cells if c["cell_type"] == "markdown").split())


def shares(rows):
    t = arch.totals(rows)
    fc = sum(r["parameters"] for r in rows if r["kind"].startswith("FC")) / t["parameters"]
    conv = sum(r["multiply-adds"] for r in rows if r["kind"].startswith("conv")) / t["multiply-adds"]
    return fc, conv


# ------------------------------------------------------------------ pure functions, by hand


def test_conv_multiplications_by_hand():
    assert arch.conv_multiplications(28, 28, 32, 5, 192) == 28 * 28 * 32 * 25 * 192 == 120_422_400
    assert arch.conv_multiplications(1, 1, 1, 1, 1) == 1
    with pytest.raises(ValueError):
        arch.conv_multiplications(28, 28, 0, 5, 192)


def test_bottleneck_cost_of_the_classic_example():
    cost = arch.bottleneck_cost()  # 28x28x192 -> 32 filters 5x5, bottleneck 16
    assert cost["direct"] == 120_422_400
    assert cost["reduce"] == 28 * 28 * 16 * 192 == 2_408_448
    assert cost["expand"] == 28 * 28 * 32 * 25 * 16 == 10_035_200
    assert cost["with_bottleneck"] == 12_443_648
    assert cost["ratio"] == pytest.approx(120_422_400 / 12_443_648)
    assert cost["direct_params"] == (25 * 192 + 1) * 32 == 153_632
    assert cost["bottleneck_params"] == (192 + 1) * 16 + (25 * 16 + 1) * 32 == 15_920
    only_direct = arch.bottleneck_cost(bottleneck=None)
    assert only_direct["with_bottleneck"] is None and only_direct["direct"] == 120_422_400
    with pytest.raises(ValueError):
        arch.bottleneck_cost(bottleneck=0)


def test_conv1x1_is_a_matrix_product_per_pixel():
    volume = np.array([[[1.0, 2.0], [3.0, 4.0]]])  # (1, 2, 2)
    weights = np.array([[1.0, 0.0, 1.0], [0.0, 1.0, -1.0]])  # (2, 3)
    out = arch.conv1x1(volume, weights, bias=[0.0, 0.0, 10.0])
    np.testing.assert_allclose(out, [[[1, 2, 9], [3, 4, 9]]])
    with pytest.raises(ValueError, match="C_in"):
        arch.conv1x1(volume, np.ones((3, 2)))


def test_zero_weights_make_a_residual_stack_the_identity_and_a_plain_stack_zero():
    image = np.random.default_rng(0).random((12, 12))
    out = arch.block_stack_outputs(image, blocks=5, scale=0.0, seed=1)
    np.testing.assert_array_equal(out["plain"], 0)
    np.testing.assert_allclose(out["residual"], image)
    assert arch.relative_change(out["residual"], image) == 0
    assert arch.relative_change(out["plain"], image) == 1
    assert out["kernels"].shape == (5, 2, 3, 3, 4, 4)
    small = arch.block_stack_outputs(image, blocks=5, scale=0.2, seed=1)
    assert 0 < small["plain"].max() < 1e-3 < arch.relative_change(small["residual"], image) < 0.5
    with pytest.raises(ValueError, match="2-D"):
        arch.block_stack_outputs(np.zeros((4, 4, 3)), 2, 0.1)
    with pytest.raises(ValueError, match="scale"):
        arch.block_stack_outputs(image, 2, -1.0)


def test_layer_table_of_lenet5_by_hand():
    rows = arch.layer_rows(arch.lenet5())
    assert [r["parameters"] for r in rows] == [(25 + 1) * 6, 0, (25 * 6 + 1) * 16, 0, 0, 401 * 120, 121 * 84, 85 * 10]
    assert [r["multiply-adds"] for r in rows] == [28 * 28 * 6 * 25, 0, 10 * 10 * 16 * 150, 0, 0, 400 * 120, 120 * 84, 84 * 10]
    assert [r["output shape"] for r in rows][:4] == [(28, 28, 6), (14, 14, 6), (10, 10, 16), (5, 5, 16)]
    assert arch.totals(rows) == {"parameters": 61_706, "multiply-adds": 416_520, "weight layers": 5}


def test_multiply_adds_of_grouped_and_depthwise_convolutions():
    from helpers.backend import keras

    x = keras.Input((5, 5, 4))
    grouped = keras.layers.Conv2D(4, 3, groups=2)
    depthwise = keras.layers.DepthwiseConv2D(3)
    keras.Model(x, [grouped(x), depthwise(x)])
    assert arch.layer_multiply_adds(grouped) == 3 * 3 * 4 * (9 * 4 // 2)
    assert arch.layer_multiply_adds(depthwise) == 3 * 3 * 4 * 9


def test_counting_initialisers_give_zeros_inside_and_random_numbers_after():
    from helpers.backend import keras

    with arch.counting_initialisers():
        inside = keras.layers.Dense(3)
        inside.build((None, 4))
    after = keras.layers.Dense(3)
    after.build((None, 4))
    assert not np.asarray(inside.kernel).any()
    assert np.asarray(after.kernel).any()


def test_the_networks_have_their_known_sizes():
    expected = {  # parameters as published / as keras.applications reports them
        "LeNet-5": (61_706, 5), "AlexNet": (62_378_344, 8), "VGG-16": (138_357_544, 16),
        "ResNet-50": (25_636_712, 54),
    }
    for name, (params, weight_layers) in expected.items():
        _, rows = arch.network_rows(name)
        t = arch.totals(rows)
        assert (t["parameters"], t["weight layers"]) == (params, weight_layers), name
    _, vgg = arch.network_rows("VGG-16")
    assert arch.totals(vgg)["multiply-adds"] == sum(
        h * h * c * 9 * c_in for h, c, c_in in
        [(224, 64, 3), (224, 64, 64), (112, 128, 64), (112, 128, 128), (56, 256, 128), (56, 256, 256),
         (56, 256, 256), (28, 512, 256), (28, 512, 512), (28, 512, 512), (14, 512, 512), (14, 512, 512),
         (14, 512, 512)]) + 25088 * 4096 + 4096 * 4096 + 4096 * 1000


def test_googlenet_has_nine_modules_and_two_side_branches():
    shape, rows = arch.network_rows("GoogLeNet")
    assert shape == (224, 224, 3)
    concat = [r for r in rows if r["layer"].endswith("_concat")]
    assert [r["layer"][:2] for r in concat] == list(arch.GOOGLENET_MODULES)
    assert concat[-1]["output shape"] == (7, 7, 1024)
    side = [r for r in rows if r["layer"].startswith("side")]
    assert {r["layer"][:5] for r in side} == {"side1", "side2"}
    assert [r["output shape"] for r in side if r["layer"].endswith("avgpool_5x5_s3")] == [(4, 4, 512), (4, 4, 528)]
    fc = [r["parameters"] for r in side if r["layer"].endswith("fc1024")]
    assert fc == [(4 * 4 * 128 + 1) * 1024] * 2


def test_group_after_moves_a_branch_behind_its_anchor():
    rows = [{"layer": n} for n in ("a", "side_x", "b", "side_y", "c")]
    assert [r["layer"] for r in arch.group_after(rows, "side", "a")] == ["a", "side_x", "side_y", "b", "c"]
    assert [r["layer"] for r in arch.group_after(rows, "side", "c")] == ["a", "b", "c", "side_x", "side_y"]
    with pytest.raises(ValueError, match="no layer"):
        arch.group_after(rows, "side", "z")
    _, googlenet = arch.network_rows("GoogLeNet")
    names = [r["layer"] for r in googlenet]
    assert names[names.index("4a_concat") + 1] == "side1_avgpool_5x5_s3"
    assert names[names.index("4d_concat") + 1] == "side2_avgpool_5x5_s3"


def test_residual_block_uses_a_projection_only_when_the_shape_changes():
    same = arch.residual_block((8, 8, 16), 16, 1, name="same")
    new = arch.residual_block((8, 8, 16), 32, 2, name="new")
    assert not any(layer.name.endswith("_Ws") for layer in same.layers)
    ws = new.get_layer("new_Ws")
    assert ws.count_params() == 16 * 32 and tuple(new.outputs[0].shape[1:]) == (4, 4, 32)
    with pytest.raises(ValueError):
        arch.residual_block((8, 8, 16), 0)


def test_bad_arguments_are_refused_with_a_clear_message():
    with pytest.raises(ValueError, match="unknown network"):
        arch.build_network("LeNet-6")
    with pytest.raises(ValueError, match="unknown network"):
        arch.ArchitectureExplorer("LeNet-6")
    with pytest.raises(ValueError, match="6 numbers"):
        from helpers.backend import keras

        arch.inception_module(keras.Input((8, 8, 4)), (1, 2, 3), "x")
    _, rows = arch.network_rows("LeNet-5")
    with pytest.raises(ValueError, match="highlight"):
        arch.layers_figure(rows, highlight=len(rows))


def test_size_and_channels_of_vgg16_halve_and_double():
    _, rows = arch.network_rows("VGG-16")
    pools = [(h, c) for name, h, c in arch.channels_and_size(rows) if name.endswith("pool")]
    assert pools == [(112, 64), (56, 128), (28, 256), (14, 512), (7, 512)]
    html = arch.rows_window_html(rows, 5, radius=2)
    assert html.count("<tr>") == 6 and "block2_pool" in html and "#ffcdd2" in html


# ------------------------------------------------------------------ widgets react


def test_architecture_explorer_follows_its_slider_and_network():
    explorer = arch.ArchitectureExplorer("LeNet-5", layer=0)
    picture, table = explorer.image.value, explorer.table.value
    explorer.layer.value = 5
    assert explorer.image.value != picture and explorer.table.value != table
    assert "C5_fc120" in explorer.info.value
    explorer.network.value = "AlexNet"
    assert explorer.layer.max == 13 and "AlexNet" in explorer.info.value


def test_residual_explorer_follows_its_sliders():
    explorer = arch.ResidualExplorer(size=32, blocks=3, scale=0.2)
    picture = explorer.image.value
    explorer.scale.value = 0.0
    assert explorer.image.value != picture
    np.testing.assert_allclose(explorer.outputs["residual"], explorer.photo)
    picture = explorer.image.value
    explorer.blocks.value = 6
    assert explorer.image.value != picture


def test_bottleneck_explorer_follows_its_sliders():
    explorer = arch.BottleneckExplorer()
    assert explorer.cost["with_bottleneck"] == 12_443_648 and "12,443,648" in explorer.info.value
    picture = explorer.image.value
    explorer.bottleneck.value = 32
    assert explorer.image.value != picture and explorer.cost["reduce"] == 28 * 28 * 32 * 192
    explorer.f.value = 3
    assert explorer.cost["direct"] == 28 * 28 * 32 * 9 * 192


# ------------------------------------------------------------------ the numbers in the lectures' text


def test_numbers_in_lecture_1_are_computed():
    text = markdown(LECTURE_1)
    lenet, alexnet, vgg = (arch.network_rows(n)[1] for n in ("LeNet-5", "AlexNet", "VGG-16"))
    t_lenet, t_alex, t_vgg = arch.totals(lenet), arch.totals(alexnet), arch.totals(vgg)
    assert f"With {t_lenet['parameters']:,} parameters" in text
    fc, conv = shares(lenet)
    assert f"connected layers** ({fc:.0%} for LeNet-5)" in text and f"convolutions** ({conv:.0%} of the" in text
    assert f"about {t_alex['parameters'] / 1e6:.1f} million parameters" in text
    fc6 = next(r for r in alexnet if r["layer"] == "fc6")
    assert f"alone holds {fc6['parameters'] / t_alex['parameters']:.1%} of them" in text
    assert f"{t_alex['multiply-adds'] / 1e9:.1f} billion multiply-adds" in text
    assert f"about {t_vgg['parameters'] / 1e6:.0f} million parameters" in text
    assert f"about {t_vgg['multiply-adds'] / 1e9:.1f} billion multiply-adds" in text
    fc, conv = shares(vgg)
    assert f"{fc:.0%} of the parameters are in the three FC layers" in text
    assert f"while {conv:.0%} of the multiply-adds are in the 13 convolutions" in text
    second_convs = {r["multiply-adds"] for r in vgg if r["layer"].endswith("_conv2")}
    assert len(second_convs) == 2 and f"{max(second_convs) / 1e9:.2f} billion multiply-adds" in text
    params_ratio = t_vgg["parameters"] / t_lenet["parameters"]
    mults_ratio = t_vgg["multiply-adds"] / t_lenet["multiply-adds"]
    assert f"about {round(params_ratio, -3):,.0f} times larger and {round(mults_ratio, -3):,.0f} times more" in text
    layers = ", ".join(str(arch.totals(r)["weight layers"]) for r in (lenet, alexnet))
    assert f"{layers} and {t_vgg['weight layers']} weight layers" in text
    assert "1,000 times more than LeNet-5" in text and round(t_alex["parameters"] / t_lenet["parameters"], -3) == 1000


def test_numbers_in_lecture_2_are_computed():
    from helpers.viz.photos import load_photo

    text = markdown(LECTURE_2)
    photo = load_photo("camera", 64)
    zero = arch.block_stack_outputs(photo, blocks=10, scale=0.0, seed=0)
    assert f"unchanged ({arch.relative_change(zero['residual'], photo):.1%} change)" in text
    assert f"black image ({arch.relative_change(zero['plain'], photo):.1%} change" in text
    _, rows = arch.network_rows("ResNet-50")
    blocks = {}
    for r in rows:
        if "_block" in r["layer"]:
            stage, block = r["layer"].split("_")[:2]
            blocks.setdefault(stage, set()).add(block)
    counts = [len(blocks[s]) for s in sorted(blocks)]
    stages = f"({counts[0]}, {counts[1]}, {counts[2]} and {counts[3]} blocks)"
    assert f"stacks {sum(counts)} *bottleneck* blocks in {len(counts)} stages {stages}" in text
    projections = [r for r in rows if r["layer"].endswith("_0_conv")]
    assert len(projections) == len(counts) and "one at the start of each stage" in text
    assert arch.totals(rows)["weight layers"] == 1 + 3 * sum(counts) + 1 + len(projections)
    vgg = arch.totals(arch.network_rows("VGG-16")[1])
    assert arch.totals(rows)["parameters"] < vgg["parameters"] and round(50 / vgg["weight layers"]) == 3
    assert "for 3 times more weight layers" in text


def test_numbers_in_lecture_3_are_computed():
    text = markdown(LECTURE_3)
    cost = arch.bottleneck_cost()
    assert f"$= {cost['reduce']:,}$".replace(",", "{,}") in text
    assert f"$= {cost['expand']:,}$".replace(",", "{,}") in text
    assert (f"{cost['with_bottleneck'] / 1e6:.1f} million instead of {cost['direct'] / 1e6:.1f} million, about 10 times "
            f"fewer ({cost['ratio']:.1f} times)") in text
    assert f"{cost['bottleneck_params']:,} instead of {cost['direct_params']:,}" in text
    widest = max(b for b in range(1, 193) if arch.bottleneck_cost(bottleneck=b)["with_bottleneck"] < cost["direct"])
    assert f"up to a width of {widest} channels" in text
    assert f"$28\\times28\\times{64 + 128 + 32 + 192}$" in text
    assert f"({cost['direct'] / 1e6:.1f} million $\\to$ {cost['with_bottleneck'] / 1e6:.1f} million" in text
    _, rows = arch.network_rows("GoogLeNet")
    side = arch.totals([r for r in rows if r["layer"].startswith("side")])
    main = arch.totals([r for r in rows if not r["layer"].startswith("side")])
    assert 0.8 < side["parameters"] / main["parameters"] < 1 and "nearly double the parameters" in text
    assert side["multiply-adds"] / (side["multiply-adds"] + main["multiply-adds"]) < 0.01 and "less than 1%" in text
    assert f"about {main['parameters'] / 1e6:.1f} million parameters" in text
    vgg = arch.totals(arch.network_rows("VGG-16")[1])["parameters"]
    assert f"VGG-16 has {vgg / main['parameters']:.0f} times as many" in text
