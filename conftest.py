"""Suite-wide collection rule (the README's test command passes ``tests source course``).

An instructor notebook in ``source/`` is executed cell by cell through the real autograder by the
grader proof (its reference student, whose autograded notebook must have no error and nothing on
stderr: ``tests/assignments/test_grader_proofs.py``). Running it under nbval as well would execute
it twice, so nbval only runs the ``source/`` notebooks that skip cells while autograding
(``autograding()``, e.g. training cells) -- those cells run nowhere else. A notebook named on the
command line is always collected.
"""

from __future__ import annotations

from pathlib import Path


def _named_on_command_line(path: Path, config) -> bool:
    return any(Path(arg.split("::")[0]).resolve() == path.resolve() for arg in config.args)


def pytest_ignore_collect(collection_path: Path, config):
    if collection_path.suffix != ".ipynb" or collection_path.parent.parent.name != "source":
        return None
    if _named_on_command_line(collection_path, config):
        return None
    if "autograding()" in collection_path.read_text():
        return None
    return True
