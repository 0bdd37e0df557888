"""Old path of the transfer-learning helpers, kept so notebooks released before the restructure still run.

New homes: :mod:`helpers.models.backbones` (``compile_binary``, ``fine_tune_index``, ``scratch_model``,
``tiny_backbone``, ``tiny_preprocess``), :mod:`helpers.viz.training` (``plot_history``),
:mod:`helpers.grading` (``backbone_call_training``).
"""

from helpers.grading import backbone_call_training  # noqa: F401
from helpers.models.backbones import (  # noqa: F401
    FINE_TUNE_FROM,
    compile_binary,
    fine_tune_index,
    scratch_model,
    tiny_backbone,
    tiny_preprocess,
)
from helpers.viz.training import plot_history  # noqa: F401
