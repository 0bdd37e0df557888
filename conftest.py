"""Suite-wide collection rule (the README's test command passes ``tests source course``).

An instructor notebook in ``source/`` is executed cell by cell through the real autograder by the
grader proof (its reference student, whose autograded notebook must have no error and nothing on
stderr: ``tests/assignments/test_grader_proofs.py``). Running it under nbval as well would execute
it twice, so nbval only runs the ``source/`` notebooks that skip cells while autograding
(``autograding()``, e.g. training cells) -- those cells run nowhere else. A notebook named on the
command line is always collected.

The same holds for the lectures in ``course/``: the browser test (``tests/test_browser.py``) runs
every lecture top to bottom in JupyterLab with a real kernel and fails on any error or stderr output
(what ``--nbval-lax`` checks), so in a full run nbval leaves them to it. When the run selects tests by
marker (``-m "not browser"``, ...) nbval runs the lectures itself, so they are never left unrun.
"""

from __future__ import annotations

from pathlib import Path


def _named_on_command_line(path: Path, config) -> bool:
    return any(Path(arg.split("::")[0]).resolve() == path.resolve() for arg in config.args)


def pytest_ignore_collect(collection_path: Path, config):
    if collection_path.suffix != ".ipynb":
        return None
    folder = collection_path.parent.parent.name
    if folder not in ("source", "course") or _named_on_command_line(collection_path, config):
        return None
    if folder == "course":
        return True if not config.getoption("markexpr", "") else None
    if "autograding()" in collection_path.read_text():
        return None
    return True
