"""Visible tests of each assignment notebook, one module per notebook.

Each module has one ``<function>_test(target)`` per graded function: it calls the student's
function (``target``) on fixed inputs, compares with the reference implementation in ``helpers``,
and prints ``All tests passed.`` or raises :class:`helpers.grading.GradingFailure`. Parameterised
``check_<function>(target, ...)`` functions do the comparisons; the hidden tests in the notebooks
call them with fresh shapes, seeds and hyper-parameters.

Importing a checks module (the notebook's first cell, before any student code) seals the grader's
environment (:func:`helpers.integrity.seal`): later changes to numpy, the builtins, Keras or the
checks themselves are detected by every check.
"""

from __future__ import annotations

import importlib.machinery
import sys

#: the checks modules being executed right now (nested imports)
_importing: list[str] = []


class _SealAfterImport:
    """Meta path finder: a ``helpers.checks.<nb>`` module, once executed, seals the environment."""

    @staticmethod
    def find_spec(name, path=None, target=None):
        if not name.startswith(__name__ + ".") or name.count(".") != 2:
            return None
        spec = importlib.machinery.PathFinder.find_spec(name, path)
        loader = getattr(spec, "loader", None)
        if loader is None or not hasattr(loader, "exec_module"):
            return spec
        execute = loader.exec_module

        def exec_module(module):
            # a checks module imports others (helpers.checks.stored): seal once the outermost one has
            # run to its end, never half-way through it (its names after the import would go unsealed)
            _importing.append(name)
            try:
                execute(module)
            finally:
                _importing.pop()
            if not _importing:
                from helpers import integrity

                integrity.seal()

        loader.exec_module = exec_module
        return spec


if not any(isinstance(finder, _SealAfterImport) for finder in sys.meta_path):
    sys.meta_path.insert(0, _SealAfterImport())
