"""Plots of training runs (curves, per-layer gradient norms). Matplotlib only, no widgets."""

from __future__ import annotations

import numpy as np


def _as_history(history) -> dict:
    """A Keras ``History`` or its ``.history`` dict -> dict of per-epoch lists."""
    history = getattr(history, "history", history)
    if not isinstance(history, dict):
        raise ValueError(f"plot_history: expected a Keras History or a dict of per-epoch lists, got {type(history).__name__}")
    return history


def plot_history(histories, title="", fine_tune_epoch=None, ax=None):
    """Loss and accuracy per epoch of one or several Keras runs: training solid, validation dashed.

    Inputs:
    - histories: one run (a Keras ``History`` or its ``.history`` dict of lists: 'loss', 'accuracy',
      optionally 'val_loss', 'val_accuracy'), or ``{run name: run}`` to compare runs (one colour each)
    - title: figure title
    - fine_tune_epoch: number of epochs done when fine-tuning started (draws a dotted line), or None
    - ax: optional sequence of matplotlib axes, one per panel

    One panel per metric the runs have ('loss', 'accuracy'; a run without losses gets one panel).
    Returns: the matplotlib Figure
    """
    import matplotlib.pyplot as plt

    single = not (isinstance(histories, dict) and histories
                  and all(hasattr(v, "history") or isinstance(v, dict) for v in histories.values()))
    runs = {"": _as_history(histories)} if single else {name: _as_history(run) for name, run in histories.items()}
    keys = [key for key in ("loss", "accuracy") if any(key in run or f"val_{key}" in run for run in runs.values())]
    if not keys:
        raise ValueError("plot_history: the runs have neither 'loss' nor 'accuracy' curves")
    if ax is None:
        fig, ax = plt.subplots(1, len(keys), figsize=(4.5 * len(keys), 3.2), squeeze=False)
        ax = ax[0]
    else:
        ax = list(np.atleast_1d(ax))
        fig = ax[0].figure
    for (name, run), colour in zip(runs.items(), ("C0", "C1", "C2", "C3", "C4", "C5")):
        prefix = f"{name} " if name else ""
        for key, axis in zip(keys, ax):
            for curve, style, label in ((key, "-", "training"), (f"val_{key}", "--", "validation")):
                if curve in run:
                    epochs = np.arange(1, len(run[curve]) + 1)
                    axis.plot(epochs, run[curve], linestyle=style, color=colour, label=f"{prefix}{label}")
    for key, axis in zip(keys, ax):
        if fine_tune_epoch is not None:
            axis.axvline(fine_tune_epoch + 0.5, color="k", linestyle=":", label="start fine-tuning")
        axis.set_xlabel("epoch")
        axis.set_ylabel(key)
        axis.legend(fontsize=8)
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig


def plot_plain_vs_residual(results):
    """Side by side: training curves and per-layer gradient norms of a plain and a residual network.

    Inputs:
    - results: the dict returned by ``helpers.models.resnet_experiment.compare_plain_residual``

    Returns: the matplotlib Figure (three panels: training loss, test accuracy, gradient norm per layer
    at initialisation on a log scale, input side on the left)
    """
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(1, 3, figsize=(13, 3.6))
    styles = {"plain": dict(color="tab:red"), "residual": dict(color="tab:blue")}
    for kind, res in results.items():
        h = res["history"]
        epochs = np.arange(1, len(h["loss"]) + 1)
        ax[0].plot(epochs, h["loss"], label=kind, **styles.get(kind, {}))
        if "val_accuracy" in h:
            ax[1].plot(epochs, h["val_accuracy"], label=kind, **styles.get(kind, {}))
        layer_index = np.arange(1, len(res["grad_norms_start"]) + 1)
        ax[2].semilogy(layer_index, res["grad_norms_start"], marker=".", label=f"{kind}", **styles.get(kind, {}))
    ax[0].set(xlabel="epoch", ylabel="training loss", title="training loss")
    ax[1].set(xlabel="epoch", ylabel="accuracy", title="test accuracy", ylim=(0, 1))
    ax[2].set(xlabel="weight layer (input side first)", ylabel="||dL/dW||", title="gradient norm per layer (at init)")
    for a in ax:
        a.legend()
    fig.tight_layout()
    return fig


__all__ = ["plot_history", "plot_plain_vs_residual"]
