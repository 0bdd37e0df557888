"""Plots of training runs (curves, per-layer gradient norms). Matplotlib only, no widgets."""

from __future__ import annotations

import numpy as np


def plot_history(history, title="", ax=None):
    """Plot loss and accuracy curves of one Keras run.

    Inputs:
    - history: dict of lists ('loss', 'accuracy', optionally 'val_loss', 'val_accuracy'), one value per epoch
    - title: figure title
    - ax: optional pair of matplotlib axes (loss, accuracy)

    Returns: the matplotlib Figure
    """
    import matplotlib.pyplot as plt

    if ax is None:
        fig, ax = plt.subplots(1, 2, figsize=(9, 3.2))
    else:
        fig = ax[0].figure
    epochs = np.arange(1, len(history["loss"]) + 1)
    for key, axis in (("loss", ax[0]), ("accuracy", ax[1])):
        axis.plot(epochs, history[key], label="train")
        if "val_" + key in history:
            axis.plot(epochs, history["val_" + key], label="test", linestyle="--")
        axis.set_xlabel("epoch")
        axis.set_ylabel(key)
        axis.legend()
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
