"""Model builders and pretrained weights shipped with the course (no download at run time).

- :mod:`helpers.models.week1`             -- reference models of week 1 (happy faces, hand signs).
- :mod:`helpers.models.efficientnet_lite` -- EfficientNet-Lite0 in Keras with converted ImageNet weights.
- :mod:`helpers.models.backbones`         -- picks the ImageNet backbone the transfer-learning notebook uses.
"""
