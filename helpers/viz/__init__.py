"""Pictures and widgets of the lecture notebooks, one module per concern.

- :mod:`helpers.viz.render`      -- matplotlib figures as PNG bytes, HTML tables and number grids,
  the slider/row/image building blocks of every widget;
- :mod:`helpers.viz.photos`      -- scikit-image photos, drawn test pictures, edge kernels, uploads;
- :mod:`helpers.viz.training`    -- training curves (:func:`plot_history`) and the plain-vs-residual figure;
- :mod:`helpers.viz.activations` -- activations, filters, Grad-CAM and the ``ActivationVisualiser``
  widget (Keras, imported lazily; weeks 1 and 4);
- :mod:`helpers.viz.week1`       -- week 1's geometry, parameter counts and five widgets;
- :mod:`helpers.viz.week1_more`  -- receptive fields, multi-channel steps, im2col, gradients (lectures 5-6);
- :mod:`helpers.viz.architectures` -- LeNet-5, AlexNet, VGG-16, ResNet-50, GoogLeNet explorers (week 2);
- :mod:`helpers.viz.efficient`   -- separable convolutions, MobileNetV2 bottleneck, compound scaling (week 2);
- :mod:`helpers.viz.augment`     -- augmentation playground, freezing vs data size, multi-crop (week 2);
- :mod:`helpers.viz.week3`       -- localisation, sliding windows, IoU/NMS, anchors, transposed convolutions;
- :mod:`helpers.viz.week4`       -- verification risk, eigenfaces, triplets, what units see, style, 1D/3D.

Lectures of weeks 2-4 import their module directly (``from helpers.viz import week3``).

Two layers, kept apart on purpose: pure functions (parameters in, arrays / HTML / PNG bytes out)
carry the maths and are unit-tested; widget classes are thin ``ipywidgets.VBox`` wiring whose
controls are attributes, so a test sets ``.value`` and reads the displayed picture. Slow work runs
only when a slider is released (``continuous_update=False``).

The names lecture notebooks use are re-exported here (``from helpers import viz; viz.ConvExplorer()``).
"""

from helpers.viz.activations import (  # noqa: F401
    ActivationVisualiser,
    activation_mosaic,
    activation_mosaic_figure,
    compute_activations,
    filters_figure,
    first_conv_filters,
    grad_cam,
    last_conv_layer,
    last_spatial_layer,
    overlay_heatmap,
    spatial_layer_names,
)
from helpers.viz.photos import EDGE_KERNELS, PHOTOS, edge_response, image_from_bytes, load_photo, synthetic_image  # noqa: F401
from helpers.viz.render import figure_to_png, grid_html, new_figure, show_as_jpeg, table_html  # noqa: F401
from helpers.viz.training import plot_history, plot_plain_vs_residual  # noqa: F401
from helpers.viz.week1 import (  # noqa: F401
    ConvExplorer,
    ConvGeometry,
    EdgeExplorer,
    FlipExplorer,
    ParameterCounter,
    PoolingPlayground,
    compare_conv_dense,
    conv_layer_params,
    demo_grid,
    demo_kernel,
    dense_layer_params,
    describe_geometry,
    lenet_like_table,
    window_positions,
    window_step,
)

__all__ = [
    "ActivationVisualiser", "activation_mosaic", "activation_mosaic_figure", "compute_activations",
    "filters_figure", "first_conv_filters", "grad_cam", "last_conv_layer", "last_spatial_layer",
    "overlay_heatmap", "spatial_layer_names",
    "EDGE_KERNELS", "PHOTOS", "edge_response", "image_from_bytes", "load_photo", "synthetic_image",
    "figure_to_png", "grid_html", "new_figure", "table_html",
    "plot_history", "plot_plain_vs_residual",
    "ConvExplorer", "ConvGeometry", "EdgeExplorer", "FlipExplorer", "ParameterCounter", "PoolingPlayground",
    "compare_conv_dense", "conv_layer_params", "demo_grid", "demo_kernel", "dense_layer_params",
    "describe_geometry", "lenet_like_table", "window_positions", "window_step",
]
