"""helpers.viz.efficient: costs of separable convolutions, MobileNetV2 bottlenecks and compound scaling
(hand-computed values), the Keras counts they must agree with, the widgets, and lecture 4's numbers."""

from __future__ import annotations

import json

import numpy as np
import pytest

from helpers.viz import efficient
from tests import REPO

LECTURE = REPO / "course" / "week2" / "04_MobileNet_and_EfficientNet.ipynb"


def test_separable_cost_of_the_small_example_by_hand():
    # 6x6x3 input, five 3x3 filters, valid: 4x4x5 output.
    r = efficient.separable_cost(6, 3, 3, 5)
    assert r["out"] == 4
    assert r["normal"] == 3 * 3 * 3 * 4 * 4 * 5 == 2160
    assert r["depthwise"] == 3 * 3 * 4 * 4 * 3 == 432
    assert r["pointwise"] == 3 * 4 * 4 * 5 == 240
    assert r["separable"] == 672
    assert r["ratio"] == pytest.approx(1 / 5 + 1 / 9)
    assert (r["normal_weights"], r["depthwise_weights"], r["pointwise_weights"]) == (135, 27, 15)


@pytest.mark.parametrize("n,f,c,k,s", [(14, 3, 512, 512, 1), (9, 5, 7, 11, 2), (32, 1, 3, 4, 1)])
def test_separable_ratio_is_one_over_filters_plus_one_over_f_squared(n, f, c, k, s):
    for padding in ("valid", "same"):
        assert efficient.separable_cost(n, f, c, k, s, padding)["ratio"] == pytest.approx(1 / k + 1 / f ** 2)


def test_same_padding_and_bad_arguments():
    assert efficient.separable_cost(7, 3, 2, 2, stride=2, padding="same")["out"] == 4
    with pytest.raises(ValueError, match="padding"):
        efficient.separable_cost(6, 3, 3, 5, padding="full")
    with pytest.raises(ValueError, match="does not fit"):
        efficient.separable_cost(2, 3, 3, 5)
    with pytest.raises(ValueError):
        efficient.compound_factors(-1)
    with pytest.raises(ValueError, match="alpha"):
        efficient.compound_factors(1, alpha=0.5)


@pytest.mark.parametrize("f,c,k", [(3, 3, 5), (5, 16, 32)])
def test_keras_layers_have_the_counted_weights(f, c, k):
    r = efficient.separable_cost(8, f, c, k)
    assert efficient.keras_separable_weights(f, c, k) == {
        "Conv2D": r["normal_weights"], "DepthwiseConv2D": r["depthwise_weights"],
        "SeparableConv2D": r["depthwise_weights"] + r["pointwise_weights"]}


def test_bottleneck_cost_by_hand():
    rows = efficient.bottleneck_cost(56, 24, 24, expansion=6, f=3, stride=1)
    assert [r["weights"] for r in rows] == [24 * 144, 9 * 144, 144 * 24, 3456 + 1296 + 3456]
    assert rows[0]["multiplications"] == 56 * 56 * 24 * 144
    assert rows[-1]["multiplications"] == 56 * 56 * (24 * 144 + 9 * 144 + 144 * 24) == 25_740_288
    strided = efficient.bottleneck_cost(56, 24, 40, expansion=6, f=5, stride=2)
    assert strided[1]["output shape"] == (28, 28, 144) and strided[-1]["output shape"] == (28, 28, 40)
    assert len(efficient.bottleneck_cost(8, 32, 16, expansion=1)) == 3   # no expansion step


def test_compound_factors_and_rounding():
    f = efficient.compound_factors(2)
    assert f["depth"] == pytest.approx(1.44) and f["width"] == pytest.approx(1.21)
    assert f["resolution"] == pytest.approx(1.3225) and f["cost"] == pytest.approx((1.2 * 1.21 * 1.3225) ** 2)
    assert efficient.ALPHA * efficient.BETA ** 2 * efficient.GAMMA ** 2 == pytest.approx(1.92027)
    assert [efficient.round_channels(c) for c in (16, 26.4, 35, 88.0)] == [16, 24, 32, 88]


def test_lite_network_cost_matches_the_keras_lite0():
    from helpers.models.efficientnet_lite import EfficientNetLite0

    counts = efficient.keras_conv_counts(EfficientNetLite0(weights=None))
    cost = efficient.lite_network_cost()
    assert cost["weights"] == counts["weights"] == 4_609_992
    assert cost["multiplications"] == counts["multiplications"] == 385_187_552
    assert counts["all_parameters"] == 4_694_024


def test_scaled_lite_costs_more_than_the_formula_says():
    """Lecture 4 says the counted cost grows a little faster than (alpha beta^2 gamma^2)^phi."""
    base = efficient.lite_network_cost()["multiplications"]
    for phi in range(1, 5):
        fac = efficient.compound_factors(phi)
        res = int(round(224 * fac["resolution"] / 8)) * 8
        counted = efficient.lite_network_cost(fac["depth"], fac["width"], res)["multiplications"] / base
        assert fac["cost"] < counted < 1.3 * fac["cost"], (phi, counted, fac["cost"])


def test_widgets_redraw_when_a_slider_moves():
    w = efficient.SeparableCostExplorer()
    before = (w.image.value, w.info.value)
    w.n_c_out.value = 256
    assert w.image.value != before[0] and "0.115" in w.info.value
    b = efficient.BottleneckExplorer()
    before = b.image.value
    b.expansion.value = 2
    assert b.image.value != before and "48" in b.info.value
    c = efficient.CompoundScalingExplorer(phi=0)
    before = c.image.value
    c.phi.value = 2.0
    assert c.image.value != before and "296x296" in c.info.value
    c.mode.value = "depth only"
    assert "224x224" in c.info.value


def test_lecture_4_quotes_the_computed_numbers():
    text = "".join("".join(c["source"]) for c in json.loads(LECTURE.read_text())["cells"])
    small = efficient.separable_cost(6, 3, 3, 5)
    assert f"normal: {small['normal']:,}" not in text  # printed by the notebook, not typed in
    assert "\\alpha = 1.2,\\ \\beta = 1.1,\\ \\gamma = 1.15" in text
    assert "70.6%" in text and "71.7%" in text and "569" in text and "4,866" in text  # Howard et al. 2017
    assert np.isclose(1 / 9, 0.111, atol=1e-3) and "about $1/9$" in text
