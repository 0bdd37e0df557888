"""Architectures and pretrained or trained weights shipped with the course (no download at run time).

- :mod:`helpers.models.npz_weights`       -- weights as ``.npz`` keyed by layer name, SHA-256 checked.
- :mod:`helpers.models.efficientnet_lite` -- EfficientNet-Lite0 in Keras with converted ImageNet weights.
- :mod:`helpers.models.backbones`         -- the ImageNet backbone of the transfer-learning notebook, its
  tiny stand-in for hidden tests, and the notebook's ungraded pieces (compile, fine-tune index, scratch model).
- :mod:`helpers.models.resnet`            -- training helpers and shipped weights of week 2's ResNet-50.
- :mod:`helpers.models.resnet_experiment` -- the plain-vs-residual depth experiment.

The graded architectures themselves are instructor references in :mod:`helpers.reference`.
"""
