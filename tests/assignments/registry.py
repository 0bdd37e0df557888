"""Every assignment notebook with what its grader proofs need, keyed by the notebook's snake_case name.

One entry per notebook of ``source/``: its points (from the design), its variants module
(``tests/variants/<nb>.py``), the variants that go through the real autograder (``autograded``:
``{function: [description, ...]}``, or None for all; round i holds the i-th of each function), the
phrases its failure messages must contain, and how its hard-coded variants are caught.
:mod:`tests.assignments.test_grader_proofs` runs the same proofs over every entry;
``tests/assignments/test_<nb>.py`` keeps only what is specific to one notebook.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import nbformat
from nbformat.v4 import new_code_cell

from tests.grader_proof import AssignmentNotebook
from tests.variants import (
    car_detection_yolo,
    convolution_model_application,
    convolution_step_by_step,
    face_recognition,
    image_segmentation_unet,
    neural_style_transfer,
    residual_networks,
    transfer_learning,
)


@dataclass
class ProofSpec:
    notebook: AssignmentNotebook
    #: {function: [variant description, ...]} through the real autograder; None: every buggy variant
    autograded: dict[str, list[str]] | None = None
    #: rounds of correct variants through the real autograder (None: all)
    correct_rounds: int | None = None
    #: {variant id: phrase} -- each buggy variant's failure message must contain its phrase
    causes: dict[str, str] = field(default_factory=dict)
    #: the hidden tests' message for hard-coded variants must match this (regex), when given
    hard_coded_match: str | None = None
    #: whether hard-coded variants pass the visible tests (a callable is asked at test time)
    hard_coded_visible: bool | Callable[[], bool] = True
    #: extra students for the autograder run: {name: function(release notebook) -> submission}
    extra_students: dict[str, Callable] = field(default_factory=dict)

    @property
    def key(self) -> str:
        return self.notebook.key

    def autograded_buggy_rounds(self):
        nb = self.notebook
        if self.autograded is None:
            return nb.rounds(nb.buggy)
        # by function and description: two functions may have a mistake of the same name
        return nb.rounds([v for v in nb.buggy if v.description in self.autograded.get(v.function, ())])

    def autograded_correct_rounds(self):
        rounds = self.notebook.rounds(self.notebook.correct)
        return rounds if self.correct_rounds is None else rounds[:self.correct_rounds]


def _messy(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """A student's messy notebook: prints, scratch globals, extra cells before and after tests."""
    nb = nbformat.from_dict(nb)
    nb.cells.insert(1, new_code_cell("print('scratch work')\nA_prev = None\nW = 'not an array'\nnp.random.seed(3)"))
    nb.cells.insert(6, new_code_cell("for i in range(3):\n    print('trying things', i)\nhparameters = {}"))
    nb.cells.append(new_code_cell("import sys\nprint('done', sys.version_info[:2])\nx = zero_pad(np.ones((1, 2, 2, 1)), 1)"))
    return nb


def _step_by_step_extras(notebook: AssignmentNotebook) -> dict[str, Callable]:
    broken_zero_pad = next(v for v in notebook.buggy if v.function == "zero_pad")
    return {
        "broken_zero_pad": lambda release: notebook.submission(release, {"zero_pad": broken_zero_pad}),
        "extras": lambda release: _messy(notebook.submission(release, {})),
    }


def _efficientnet_backbone() -> bool:
    from helpers.models.backbones import choose_backbone

    return choose_backbone(96) == "efficientnet_lite0"


_STEP_BY_STEP = AssignmentNotebook("week1", "Convolution_Step_by_Step", {
    "zero_pad": 10, "conv_single_step": 10, "conv_forward": 20, "pool_forward": 15,
    "conv_backward": 15, "create_mask_from_window": 5, "distribute_value": 5, "pool_backward": 20},
    convolution_step_by_step)

SPECS: dict[str, ProofSpec] = {spec.key: spec for spec in [
    ProofSpec(
        _STEP_BY_STEP,
        extra_students=_step_by_step_extras(_STEP_BY_STEP),
        causes={
            "conv_forward: ignores the stride when slicing": "stride is ignored",
            "conv_forward: flips the kernel (true convolution)": "kernel is flipped",
            "conv_backward: assigns (=) instead of accumulating (+=)": "accumulated",
            "pool_forward: pools across channels": "across all channels",
            "create_mask_from_window: marks the minimum": "minimum",
            "distribute_value: copies dz without dividing": "without dividing",
        },
    ),
    # Each autograded notebook trains two models (fast mode), about half a minute on 2 cores, so the
    # real autograder sees a selection (every variant is checked in-process).
    ProofSpec(
        AssignmentNotebook("week1", "Convolution_Model_Application", {"happyModel": 50, "convolutional_model": 50},
                           convolution_model_application),
        autograded={
            "happyModel": ["batch norm over the wrong axis (axis=1)", "batch normalisation layer missing",
                           "softmax instead of sigmoid on the output"],
            "convolutional_model": ["hard-coded input shape (64, 64, 3)", "pools with valid padding",
                                    "first pool 4x4 instead of 8x8"],
        },
        causes={
            "happyModel: batch norm over the wrong axis (axis=1)": "axis=3",
            "happyModel: conv padding 'same' instead of valid": "padding",
            "happyModel: pool size 3 instead of 2": "2x2",
            "happyModel: batch normalisation layer missing": "order",
            "convolutional_model: first pool 4x4 instead of 8x8": "8x8",
            "convolutional_model: five output units": "6 units",
        },
        hard_coded_match="input_shape",
    ),
    # Each submission builds ResNet-50 and trains it briefly: two rounds of mistakes ("hard-coded 6
    # classes" is caught by the hidden tests only) and one round of correct variants.
    ProofSpec(
        AssignmentNotebook("week2", "Residual_Networks", {"identity_block": 30, "convolutional_block": 30, "ResNet50": 40},
                           residual_networks),
        autograded={
            "identity_block": ["adds the shortcut after the final ReLU", "no batch norm after the f x f conv"],
            "convolutional_block": ["stride on the f x f conv instead of the first 1x1",
                                    "shortcut not projected (strided identity, zero-padded channels)"],
            "ResNet50": ["stage 2 convolutional block with s=2", "hard-coded 6 classes"],
        },
        correct_rounds=1,
        causes={
            "identity_block: adds the shortcut after the final ReLU": "AFTER the final ReLU",
            "identity_block: no batch norm after the f x f conv": "BatchNormalization",
            "identity_block: batch norm always called with training=True": "training=training",
            "convolutional_block: stride on the f x f conv instead of the first 1x1": "FIRST 1x1",
            "convolutional_block: shortcut not projected (strided identity, zero-padded channels)": "projection",
            "ResNet50: stage 2 convolutional block with s=2": "s=1",
        },
    ),
    # IMG_SHAPE: the notebook's image size, defined in a cell before the graded functions.
    ProofSpec(
        AssignmentNotebook("week2", "Transfer_Learning", {"data_augmenter": 20, "transfer_model": 50, "prepare_fine_tuning": 30},
                           transfer_learning, {"IMG_SHAPE": (64, 64, 3)}),
        autograded={
            "data_augmenter": ["flips vertically too", "forgets the rotation"],
            "transfer_model": ["does not freeze the backbone", "calls the backbone with training=True",
                               "forgets the preprocessing", "flattens instead of pooling", "two softmax outputs"],
            "prepare_fine_tuning": ["unfreezes the whole backbone", "keeps the same learning rate",
                                    "unfreezes batch normalisation too"],
        },
        causes={
            "transfer_model: forgets the preprocessing": "not preprocessed",
            "transfer_model: sigmoid on the output": "sigmoid",
            "transfer_model: flattens instead of pooling": "GlobalAveragePooling2D",
            "transfer_model: calls the backbone with training=True": "training=False",
            "transfer_model: does not freeze the backbone": "trainable = False",
            "prepare_fine_tuning: keeps the same learning rate": "learning rate of the first phase",
            "prepare_fine_tuning: unfreezes batch normalisation too": "BatchNormalization",
            "data_augmenter: rotates up to half a turn": "fraction of a full turn",
        },
        hard_coded_match="preprocess",
        # its preprocessing is EfficientNet-Lite0's: it passes the visible tests only with that backbone
        hard_coded_visible=_efficientnet_backbone,
    ),
    # No model and no photos while autograding (illustrations skipped; checks in numpy, milliseconds):
    # a submission costs about the TensorFlow import, so every variant goes through the autograder.
    ProofSpec(
        AssignmentNotebook("week3", "Car_Detection_YOLO", {"yolo_filter_boxes": 25, "iou": 20,
                                                           "yolo_non_max_suppression": 25, "yolo_eval": 30},
                           car_detection_yolo),
        causes={
            "yolo_filter_boxes: strict comparison (>) instead of >=": ">= threshold",
            "yolo_filter_boxes: confidence not multiplied (threshold on the class probabilities)": "not multiplied",
            "yolo_filter_boxes: threshold on the box confidence alone": "box_confidence alone",
            "yolo_filter_boxes: max over the wrong axis (axis=0)": "LAST axis",
            "iou: intersection not clipped at 0": "not clipped at 0",
            "iou: union counts the intersection twice": "counts the intersection twice",
            "iou: area clipped after multiplying": "separately",
            "iou: pixel-count convention (+1 on widths and heights)": "width = x2 - x1",
            "yolo_non_max_suppression: per-class NMS": "per class",
            "yolo_non_max_suppression: iou_threshold ignored (0.5)": "iou_threshold is ignored",
            "yolo_non_max_suppression: max_boxes ignored": "max_boxes is ignored",
            "yolo_non_max_suppression: no suppression, only the best max_boxes": "not suppressed",
            "yolo_eval: forgets scale_boxes": "scale_boxes",
            "yolo_eval: corners in (x1, y1, x2, y2) order": "(y1, x1, y2, x2)",
            "yolo_eval: score_threshold not passed on": "score_threshold is ignored",
            "yolo_eval: image_shape ignored (720 x 1280)": "image_shape is ignored",
        },
    ),
    # Training is skipped under the autograder: a submission costs the TensorFlow import, the data
    # cache read and the checks (two U-Nets at full size); two rounds of mistakes and one of correct variants.
    ProofSpec(
        AssignmentNotebook("week3", "Image_Segmentation_UNet", {"conv_block": 30, "upsampling_block": 30, "unet_model": 40},
                           image_segmentation_unet),
        autograded={
            "conv_block": ["skip connection taken after pooling", "hard-coded 32 filters"],
            "upsampling_block": ["concatenate order swapped", "hard-coded 32 filters"],
            "unet_model": ["softmax on the output", "hard-coded input size (96, 128, 3)"],
        },
        correct_rounds=1,
        causes={
            "conv_block: skip connection taken after pooling": "skip connection taken after pooling",
            "conv_block: pooling always applied": "pooling always applied",
            "conv_block: dropout not applied": "dropout not applied",
            "conv_block: dropout after pooling, not on the skip connection": "dropout in the wrong place",
            "conv_block: default glorot_uniform kernel initializer": "wrong kernel initializer",
            "conv_block: no ReLU on the second convolution": "has no ReLU",
            "upsampling_block: concatenate order swapped": "concatenate order swapped",
            "upsampling_block: transposed convolution with stride 1": "strides=(2, 2)",
            "upsampling_block: skip connection not concatenated": "concatenate",
            "upsampling_block: ReLU missing on the last convolution": "a ReLU is missing",
            "unet_model: skip connections taken after pooling (cblockN[0])": "cblock4[1]",
            "unet_model: first decoder block joined with the wrong encoder block (cblock3's pooled output)": "cblock4[1]",
            "unet_model: softmax on the output": "softmax where the loss expects logits",
            "unet_model: final 1x1 convolution missing": "missing final 1x1 conv",
            "unet_model: no dropout in the deepest blocks": "dropout_prob=0.3",
        },
    ),
    # No training and no real photos while autograding (the checks use a stand-in face model): a
    # submission costs about the TensorFlow import; three rounds of mistakes (one hard-coded per function)
    # and both rounds of correct variants go through the real autograder.
    ProofSpec(
        AssignmentNotebook("week4", "Face_Recognition", {"triplet_loss": 40, "verify": 30, "who_is_it": 30},
                           face_recognition),
        autograded={
            "triplet_loss": ["no max with zero", "mean over the batch instead of the sum",
                             "hard-coded answers of the visible tests"],
            "verify": ["the original's threshold 0.7", "compares with the closest person, not the claimed one",
                       "hard-coded answers of the visible tests"],
            "who_is_it": ["returns the last identity, not the closest",
                          "never says 'Not in the database' (as the original returns the closest name)",
                          "hard-coded answers of the visible tests"],
        },
        causes={
            "triplet_loss: mean over the batch instead of the sum": "reduce_mean",
            "triplet_loss: no max with zero": "max(..., 0) is missing",
            "triplet_loss: distances not squared (tf.norm)": "not squared",
            "triplet_loss: distances summed over the whole batch (no axis)": "axis=-1",
            "triplet_loss: margin fixed at 0.2, alpha ignored": "alpha is ignored",
            "verify: squared distance": "SQUARED distance",
            "verify: door opens above the threshold": "reversed",
            "verify: the original's threshold 0.7": "threshold 0.7",
            "verify: compares with the closest person, not the claimed one": "the person claimed",
            "verify: returns (door_open, dist)": "wrong order",
            "who_is_it: returns the last identity, not the closest": "LAST name",
            "who_is_it: keeps the farthest person (comparison reversed)": "LARGEST distance",
            "who_is_it: never says 'Not in the database' (as the original returns the closest name)":
                "the person is unknown",
            "who_is_it: unknown only above the original's threshold 0.7": "threshold 0.7",
            "who_is_it: min_dist starts at the threshold": "initialised to the threshold",
        },
    ),
    # The notebook loads VGG16 and skips the optimisation while autograded (about 20 s per
    # submission on 2 cores): two rounds of mistakes, three of them caught by the hidden tests only.
    # STYLE_LAYERS: defined from the backbone before the graded functions (compute_style_cost's default).
    ProofSpec(
        AssignmentNotebook("week4", "Neural_Style_Transfer", {
            "compute_content_cost": 15, "gram_matrix": 10, "compute_layer_style_cost": 20,
            "compute_style_cost": 20, "total_cost": 10, "train_step": 25},
            neural_style_transfer, {"STYLE_LAYERS": list(neural_style_transfer.STYLE_LAYERS)}),
        autograded={
            "compute_content_cost": ["first layer as the content layer", "hard-coded for the shapes of the visible tests"],
            "gram_matrix": ["A^T A", "normalised by the number of positions"],
            "compute_layer_style_cost": ["reshape without transpose", "hard-coded for the layer sizes of the visible tests"],
            "compute_style_cost": ["ignores the layer weights", "ignores the STYLE_LAYERS argument"],
            "total_cost": ["alpha and beta swapped", "hard-coded for the values of the visible tests"],
            "train_step": ["forgets to clip", "hard-coded: clips only the visible test's image size"],
        },
        correct_rounds=1,
        causes={
            "compute_content_cost: tf.reduce_mean (no factor 4)": "the factor 4 is missing",
            "compute_content_cost: first layer as the content layer": "the FIRST output was used",
            "compute_content_cost: operator precedence in the denominator": "operator precedence",
            "gram_matrix: A^T A": "A^T A was computed",
            "gram_matrix: element-wise product": "element-wise",
            "gram_matrix: normalised by the number of positions": "divided by the number of positions",
            "compute_layer_style_cost: reshape without transpose": "reshaped straight to (n_C, n_H*n_W)",
            "compute_layer_style_cost: (n_H n_W) not squared": "(n_H n_W) is not squared",
            "compute_layer_style_cost: n_H * n_W**2 precedence": "squares only n_W",
            "compute_style_cost: ignores the layer weights": "the layer weights are ignored",
            "compute_style_cost: drops the first output instead of the last": "the FIRST output was dropped",
            "compute_style_cost: ignores the STYLE_LAYERS argument": "the STYLE_LAYERS argument is ignored",
            "total_cost: alpha and beta swapped": "alpha and beta are swapped",
            "total_cost: ignores alpha and beta": "the arguments alpha and beta are ignored",
            "total_cost: unweighted sum": "the costs are not weighted",
            "train_step: forgets to clip": "the image is not clipped",
            "train_step: alpha=40, beta=10 in the call of total_cost": "are swapped",
            "train_step: J_content and J_style swapped": "are swapped",
            "train_step: goes uphill": "the step goes uphill",
            "train_step: a new optimizer at every step": "generated_image after call 2",
        },
    ),
]}
