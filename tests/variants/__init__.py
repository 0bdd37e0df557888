"""Variant implementations of graded functions, for proving the graders right.

Each variant is an ordinary function decorated with :func:`variant`::

    @variant("conv_forward", "buggy", "ignores the stride")
    def conv_forward_ignores_stride(A_prev, W, b, hparameters):
        ...

``kind`` is ``"buggy"`` (a mistake students commonly make: the graders must take its points) or
``"correct"`` (a different but right implementation: it must keep full marks). The function's
source, renamed to the graded name, becomes a solution cell of a submission; variants may use
the notebook's imports (``np``, ``tf``, ``keras``, ...) and its other graded functions.
"""

from __future__ import annotations

import inspect
import re
import textwrap
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Variant:
    function: str  # graded function's name, e.g. "conv_forward"
    kind: str  # "buggy" or "correct"
    description: str
    implementation: Callable

    @property
    def source(self) -> str:
        """Source of a solution cell defining ``function`` with this variant's body."""
        code = textwrap.dedent(inspect.getsource(self.implementation))
        code = "\n".join(line for line in code.splitlines() if not line.startswith("@variant"))
        return re.sub(rf"^def {self.implementation.__name__}\(", f"def {self.function}(", code, count=1, flags=re.M)


REGISTRY: list[Variant] = []


def variant(function: str, kind: str, description: str):
    """Register the decorated function as a variant of graded ``function``."""
    if kind not in ("buggy", "correct"):
        raise ValueError(f"kind must be 'buggy' or 'correct', got {kind!r}")

    def register(implementation: Callable) -> Callable:
        REGISTRY.append(Variant(function, kind, description, implementation))
        return implementation

    return register


def variants_of(module) -> list[Variant]:
    """The variants registered by ``module`` (imported for its side effect)."""
    return [v for v in REGISTRY if v.implementation.__module__ == module.__name__]
