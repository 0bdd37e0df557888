"""Grading integrity (issue 11): delegation to the references and patching of the grader.

In-process (fast): the static scan (:mod:`helpers.instructor.tampering`) finds nothing in any
notebook of ``source/``, ``release/`` or ``course/`` and flags each attack; :func:`helpers.grading.call`
fails a function that delegates to the reference.

Through the real autograder (``cnn-course autograde``, slow): one class of Convolution_Step_by_Step,
sandboxed, two workers: five ways of delegating a function to the reference (each loses exactly that
function's points), honest students (full marks, not flagged), and eight patching attacks on a
notebook whose answers are all wrong (each zeroed and flagged ``tampered`` with its reason; one of
them is built at run time so that only the checks inside the kernel can see it).
"""

from __future__ import annotations

import copy
import time
from pathlib import Path

import numpy as np
import pytest
from nbformat.v4 import new_code_cell

from helpers import grading
from helpers.instructor import autograde as autograder
from helpers.instructor import tampering
from tests import REPO, autograde
from tests.assignments.registry import SPECS

NB = SPECS["convolution_step_by_step"].notebook

#: {student: (function, solution cell)}: each delegates one function to the reference
DELEGATIONS = {
    "direct_import": ("zero_pad", """\
from helpers.reference.convolution_step_by_step import zero_pad as _reference

def zero_pad(X, pad):
    return _reference(X, pad)"""),
    "importlib_computed": ("conv_single_step", """\
import importlib

def conv_single_step(a_slice_prev, W, b):
    module = importlib.import_module(".".join(["helpers", "refer" + "ence", "convolution_step_by_step"]))
    return module.conv_single_step(a_slice_prev, W, b)"""),
    "captured_global": ("conv_forward", """\
import helpers.reference.convolution_step_by_step as _m
_CAPTURED = _m.conv_forward

def conv_forward(A_prev, W, b, hparameters):
    return _CAPTURED(A_prev, W, b, hparameters)"""),
    "getattr_module": ("pool_forward", """\
import helpers.checks.convolution_step_by_step as _checks

def pool_forward(A_prev, hparameters, mode="max"):
    return getattr(_checks.ref(), "pool_" + "forward")(A_prev, hparameters, mode)"""),
    "copied_code": ("pool_backward", """\
import types
from helpers.reference import convolution_step_by_step as _r
pool_backward = types.FunctionType(_r.pool_backward.__code__, vars(_r), "pool_backward", _r.pool_backward.__defaults__)"""),
    "copied_source": ("conv_backward", """\
import inspect
from helpers.reference import convolution_step_by_step as _r
_namespace = dict(vars(_r))
exec(compile(inspect.getsource(_r.conv_backward), "my_own_cell", "exec"), _namespace)
conv_backward = _namespace["conv_backward"]"""),
}

#: {student: (attack cell, phrase of the reason)}: each on a notebook whose answers are all wrong
ATTACKS = {
    "numpy_comparisons": ("np.allclose = lambda *a, **k: True\n"
                          "np.isclose = lambda a, b, **k: np.ones(np.shape(a), dtype=bool)", "np.isclose"),
    "testing_noop": ("import numpy.testing\nnp.testing.assert_allclose = lambda *a, **k: None", "assert_allclose"),
    "grader_noop": ("import helpers.grading as hg\nimport helpers.checks.convolution_step_by_step as hc\n"
                    "hg.fail = lambda *a, **k: None\nhc.fail = lambda *a, **k: None\n"
                    "hc.check_close = lambda *a, **k: None", "hg.fail"),
    "builtins_patch": ("import builtins\nsetattr(builtins, 'abs', lambda x: 0)", "setattr"),
    "expected_values": ("import helpers.checks.convolution_step_by_step as hc\nhc.RTOL, hc.ATOL = 1e9, 1e9\n"
                        "hc.EXPECTED.folder = hc.EXPECTED.folder", "hc.RTOL"),
    "sys_modules_swap": ("import sys, types\nfake = types.ModuleType('helpers.checks.convolution_step_by_step')\n"
                         "exec('def _ok(*a, **k):\\n    print(\"All tests passed.\")', fake.__dict__)\n"
                         "for name in ['zero_pad_test', 'conv_single_step_test', 'check_zero_pad', 'check_conv_forward']:\n"
                         "    setattr(fake, name, fake._ok)\n"
                         "fake.__all__ = ['zero_pad_test', 'conv_single_step_test', 'check_zero_pad', 'check_conv_forward']\n"
                         "sys.modules['helpers.checks.convolution_step_by_step'] = fake\n"
                         "from helpers.checks.convolution_step_by_step import *", "sys.modules"),
    "redefined_check": ("def check_conv_forward(*args, **kwargs):\n    pass\n\n"
                        "def conv_forward_test(target):\n    print('All tests passed.')", "check_conv_forward"),
    # built at run time: the static scan only notes it; the checks in the kernel catch it
    "hidden_at_run_time": ("exec(''.join(['import numpy as _n; _n.is', "
                           "'close = lambda a, b, **k: _n.ones(_n.shape(a), dtype=bool)']))", "grading integrity"),
}

HONEST_EXTRAS = """\
np.set_printoptions(precision=3, suppress=True)
np.random.seed(1)
plt.rcParams["figure.figsize"] = (4.0, 3.0)

def my_helper(x):
    return np.asarray(x) * 1.0

helper_cache = {}
"""


# --------------------------------------------------------------------------------------------
# in-process


def _notebooks():
    return sorted(p for folder in ("source", "release", "course") for p in (REPO / folder).glob("week*/*.ipynb"))


def test_scan_finds_nothing_in_the_course_notebooks():
    flagged = {str(p.relative_to(REPO)): tampering.scan_notebook(p)[0] for p in _notebooks()}
    assert len(flagged) >= 16
    assert not {k: v for k, v in flagged.items() if v}


def test_scan_passes_honest_code_and_flags_every_attack():
    header = "import numpy as np\nimport matplotlib.pyplot as plt\nfrom helpers.checks.convolution_step_by_step import *\n"
    flags, notes = tampering.scan_sources([header, HONEST_EXTRAS, "base_model.trainable = False\nmodel.layers[0].x = 1"])
    assert flags == [] and notes == []
    for name, (cell, phrase) in ATTACKS.items():
        flags, notes = tampering.scan_sources([header, cell])
        if name == "hidden_at_run_time":
            assert not flags and any("run time" in n for n in notes), (name, flags, notes)
        else:
            assert flags and any(phrase in f for f in flags), (name, flags)
    _, notes = tampering.scan_sources([DELEGATIONS["direct_import"][1]])
    assert any("helpers.reference" in n for n in notes)


def _delegating_function(student: str):
    function, source = DELEGATIONS[student]
    namespace = {"np": np}
    exec(compile(source, "<student cell>", "exec"), namespace)
    return function, namespace[function]


@pytest.mark.parametrize("student", sorted(DELEGATIONS))
def test_delegation_fails_its_check_in_process(student):
    function, target = _delegating_function(student)
    namespace = NB.namespace()
    namespace[function] = target
    with pytest.raises(grading.GradingFailure, match=rf"^{function}: does not compute its result with its own code"):
        NB.run_tests(function, namespace)


def test_honest_numpy_code_and_the_checks_own_stand_ins_are_not_delegation():
    namespace = NB.namespace(NB.correct[0])
    for function in NB.graded:  # conv_forward runs with the reference zero_pad installed by its check
        assert NB.run_tests(function, namespace).strip().endswith("All tests passed.")


# --------------------------------------------------------------------------------------------
# through the real autograder


def _with_cell(nb, source: str):
    nb = copy.deepcopy(nb)
    nb.cells.insert(2, new_code_cell(source))
    return nb


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    root = Path(tmp_path_factory.mktemp("integrity"))
    course = autograde.Course(root, NB.assignment, notebooks={NB.notebook: NB.source})
    course.generate()
    release = course.release_notebook(NB.notebook)
    reference = NB.submission(release, {})
    students = {"reference": reference,
                "honest": _with_cell(NB.submission(release, NB.rounds(NB.correct)[0]), HONEST_EXTRAS)}
    for student, (function, source) in DELEGATIONS.items():
        students[student] = autograde.fill_solutions(reference, {f"{function}_solution": source})
    all_wrong = NB.submission(release, NB.rounds(NB.buggy)[0])
    for student, (cell, _) in ATTACKS.items():
        students[student] = _with_cell(all_wrong, cell)
    for student, nb in students.items():
        course.submit(student, {NB.notebook: nb})
    limits = autograder.Limits(workers=2, chunk_size=4, cell_timeout=60, student_timeout=300)
    begin = time.monotonic()
    outcomes = autograder.autograde(root, NB.assignment, limits=limits, log=lambda *a: None)
    seconds = time.monotonic() - begin
    scores = {s: course.scores(s, NB.notebook) for s in students}
    return {"outcomes": outcomes, "scores": scores, "seconds": seconds, "course": course}


@pytest.mark.slow
def test_honest_students_keep_full_marks_unflagged(graded):
    for student in ("reference", "honest"):
        assert graded["scores"][student] == NB.full_marks(), student
        outcome = graded["outcomes"][student]
        assert outcome.status == "graded" and not outcome.notes, (student, outcome)


@pytest.mark.slow
@pytest.mark.parametrize("student", sorted(DELEGATIONS))
def test_delegation_loses_exactly_that_function(graded, student):
    function = DELEGATIONS[student][0]
    scores = graded["scores"][student]
    assert scores[f"{function}_tests"][0] == 0, scores
    assert autograde.points(scores) == 100 - NB.points[function], scores
    assert graded["outcomes"][student].status == "graded"
    executed = graded["course"].autograded_notebook(student, NB.notebook)
    text = " ".join(o.get("evalue", "") for c in executed.cells for o in c.get("outputs", []))
    assert "does not compute its result with its own code" in text


@pytest.mark.slow
@pytest.mark.parametrize("student", sorted(ATTACKS))
def test_patching_is_zeroed_and_flagged(graded, student):
    outcome = graded["outcomes"][student]
    assert autograde.points(graded["scores"][student]) == 0
    assert outcome.status == "tampered", outcome
    assert all(m.startswith("tampered: ") for m in outcome.messages[:1]), outcome.messages
    assert any(ATTACKS[student][1] in m for m in outcome.messages), outcome.messages


@pytest.mark.slow
def test_patching_is_also_caught_inside_the_kernel(graded):
    """Every attack that leaves the kernel running is also seen by the checks in the kernel."""
    for student in ATTACKS:
        messages = " ".join(graded["outcomes"][student].messages)
        assert "grading integrity" in messages, (student, messages)
