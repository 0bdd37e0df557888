"""Old path of :mod:`helpers.viz.training`, kept so notebooks released before the restructure still run."""

from helpers.viz.training import plot_history, plot_plain_vs_residual  # noqa: F401

__all__ = ["plot_history", "plot_plain_vs_residual"]
