"""Visible tests of each assignment notebook, one module per notebook.

Each module has one ``<function>_test(target)`` per graded function: it calls the student's
function (``target``) on fixed inputs, compares with the reference implementation in ``helpers``,
and prints ``All tests passed.`` or raises :class:`helpers.grading.GradingFailure`. Parameterised
``check_<function>(target, ...)`` functions do the comparisons; the hidden tests in the notebooks
call them with fresh shapes, seeds and hyper-parameters.
"""
