"""Static scan of a submitted notebook for code that patches the grader (run outside the kernel).

``cnn-course autograde`` scans every submitted notebook before grading it; a notebook with a finding
is graded as usual, then zeroed and flagged (``tampered: <reason>`` in the outcome and the report).
The scan reads the code cells (IPython magics and shell lines left out) with :mod:`ast`; it flags:

- assigning or deleting an attribute of an imported module, class or function (``np.allclose = ...``,
  ``del grading.fail``, ``Conv2D.call = ...``), including through ``setattr``/``delattr``,
  ``vars(module)[...] = ...``, ``module.__dict__[...] = ...`` and ``.update(...)`` on those;
- assigning a function's or module's internals (``__code__``, ``__defaults__``, ``__globals__``,
  ``__dict__``, ``__builtins__``, ``__class__``), and any use of ``__builtins__``;
- editing ``sys.modules``; ``importlib.reload``; switching the profiler or tracer
  (``sys.setprofile``, ``sys.settrace``, ``threading.setprofile``); ``sys.addaudithook``; ``ctypes``;
  ``gc.get_objects`` / ``get_referrers`` / ``get_referents``;
- redefining a test function the notebook star-imports from its checks module (``check_conv_forward``,
  ``zero_pad_test``, ...);
- the same inside ``exec``/``eval`` of a literal string.

Honest notebooks are not flagged: defining functions and variables of one's own, ``np.set_printoptions``,
``np.random.seed``, ``plt.rcParams[...] = ...``, ``model.trainable = False`` (not an imported name).
Mentions of the references (``helpers.reference``) and dynamic imports (``importlib.import_module``,
``__import__``) are returned as *notes*: they do not zero a notebook (calling a reference costs the
function its points at grading time, see :mod:`helpers.integrity`).
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

_INTERNALS = {"__code__", "__defaults__", "__kwdefaults__", "__globals__", "__dict__", "__builtins__",
              "__class__", "__closure__", "__call__", "__getattr__", "__getattribute__", "__setattr__"}
_TOOLS = {("sys", "setprofile"), ("sys", "settrace"), ("threading", "setprofile"), ("threading", "settrace"),
          ("sys", "addaudithook"), ("importlib", "reload"), ("gc", "get_objects"), ("gc", "get_referrers"),
          ("gc", "get_referents"), ("sys", "_getframe")}
#: mappings of imported modules meant to be set by users (plt.rcParams["figure.figsize"] = ...)
_SETTINGS = {"rcParams", "environ"}
_MUTATORS = {"update", "pop", "popitem", "setdefault", "clear", "__setitem__", "__delitem__"}
CHECKS_DIR = Path(__file__).resolve().parents[1] / "checks"


def _magics_removed(source: str) -> str:
    return "\n".join("pass" if line.lstrip().startswith(("%", "!")) else line for line in source.splitlines())


def exported_tests(module: str) -> set[str]:
    """``*_test`` and ``check_*`` names in ``__all__`` of ``helpers.checks.<module>`` (read, not imported)."""
    path = CHECKS_DIR / f"{module}.py"
    if not path.exists():
        return set()
    for node in ast.parse(path.read_text()).body:
        if isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == "__all__" for t in node.targets):
            try:
                names = ast.literal_eval(node.value)
            except ValueError:
                return set()
            return {n for n in names if n.endswith("_test") or n.startswith("check_")}
    return set()


class _Scanner(ast.NodeVisitor):
    def __init__(self):
        self.imported: dict[str, str] = {}   # local name -> what it was imported as
        self.protected: set[str] = set()     # test functions star-imported from a checks module
        self.flags: list[str] = []
        self.notes: list[str] = []

    # --- what names mean
    def visit_Import(self, node):
        for alias in node.names:
            self.imported[alias.asname or alias.name.split(".")[0]] = alias.name if alias.asname else alias.name.split(".")[0]
            self._imported_module(alias.name, node)
            if alias.asname and alias.asname in self.protected:
                self._flag(node, f"re-binds the test function {alias.asname}")

    def visit_ImportFrom(self, node):
        module = node.module or ""
        self._imported_module(module, node)
        for alias in node.names:
            if alias.name == "*":
                if module.startswith("helpers.checks."):
                    self.protected |= exported_tests(module.rsplit(".", 1)[1])
                continue
            self._imported_module(f"{module}.{alias.name}", node)
            local = alias.asname or alias.name
            if local in self.protected and not module.startswith("helpers.checks."):
                self._flag(node, f"re-binds the test function {local}")
            self.imported[local] = f"{module}.{alias.name}"

    def _imported_module(self, name: str, node) -> None:
        if name == "ctypes" or name.startswith("ctypes."):
            self._flag(node, "imports ctypes")
        if name.startswith("helpers.reference") or name == "helpers.reference":
            self._note(node, f"imports {name} (the references; calling them costs the function its points)")

    def _flag(self, node, what: str) -> None:
        text = f"line {getattr(node, 'lineno', '?')}: {what}"
        if text not in self.flags:
            self.flags.append(text)

    def _note(self, node, what: str) -> None:
        text = f"line {getattr(node, 'lineno', '?')}: {what}"
        if text not in self.notes:
            self.notes.append(text)

    def _root(self, node) -> str | None:
        """The name at the root of ``a.b.c`` / ``a.b[c]`` / ``vars(a)`` / ``a.__dict__``."""
        while True:
            if isinstance(node, ast.Attribute):
                node = node.value
            elif isinstance(node, ast.Subscript):
                node = node.value
            elif isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in ("vars", "getattr") \
                    and node.args:
                node = node.args[0]
            else:
                return node.id if isinstance(node, ast.Name) else None

    @staticmethod
    def _dotted(node) -> str:
        try:
            return ast.unparse(node)
        except Exception:  # noqa: BLE001
            return "?"

    # --- assignments
    def _target(self, target, node, verb: str) -> None:
        if isinstance(target, (ast.Tuple, ast.List)):
            for element in target.elts:
                self._target(element, node, verb)
            return
        if isinstance(target, ast.Starred):
            self._target(target.value, node, verb)
            return
        if isinstance(target, ast.Name):
            if target.id in self.protected:
                self._flag(node, f"{verb} the test function {target.id}")
            if target.id == "__builtins__":
                self._flag(node, f"{verb} __builtins__")
            return
        text = self._dotted(target)
        if isinstance(target, ast.Attribute):
            if target.attr in _INTERNALS:
                self._flag(node, f"{verb} {text}")
                return
            root = self._root(target)
            if root in self.imported or root == "__builtins__":
                self._flag(node, f"{verb} {text}, an attribute of the imported {self.imported.get(root, root)}")
        elif isinstance(target, ast.Subscript):
            base = target.value
            if self._dotted(base) == "sys.modules":
                self._flag(node, f"{verb} {text} (sys.modules)")
            elif (isinstance(base, ast.Attribute) and base.attr == "__dict__") or (
                    isinstance(base, ast.Call) and isinstance(base.func, ast.Name) and base.func.id == "vars"):
                root = self._root(base)
                if root in self.imported or root == "__builtins__":
                    self._flag(node, f"{verb} {text}, the namespace of the imported {self.imported.get(root, root)}")
            elif isinstance(base, ast.Call) and isinstance(base.func, ast.Name) and base.func.id == "globals":
                key = target.slice
                if not isinstance(key, ast.Constant) or key.value in self.protected:
                    self._flag(node, f"{verb} {text}")
            elif isinstance(base, ast.Attribute) and base.attr not in _SETTINGS and self._root(base) in self.imported:
                root = self._root(base)
                self._flag(node, f"{verb} {text}, a value held by the imported {self.imported[root]}")

    def visit_Assign(self, node):
        for target in node.targets:
            self._target(target, node, "assigns")
        self.generic_visit(node)

    def visit_AugAssign(self, node):
        self._target(node.target, node, "assigns")
        self.generic_visit(node)

    def visit_AnnAssign(self, node):
        self._target(node.target, node, "assigns")
        self.generic_visit(node)

    def visit_Delete(self, node):
        for target in node.targets:
            self._target(target, node, "deletes")
        self.generic_visit(node)

    def visit_FunctionDef(self, node):
        if node.name in self.protected:
            self._flag(node, f"redefines the test function {node.name}")
        self.generic_visit(node)

    visit_AsyncFunctionDef = visit_FunctionDef

    def visit_ClassDef(self, node):
        if node.name in self.protected:
            self._flag(node, f"redefines the test function {node.name}")
        self.generic_visit(node)

    def visit_Name(self, node):
        if node.id == "__builtins__":
            self._flag(node, "uses __builtins__")

    # --- calls
    def visit_Call(self, node):
        func = node.func
        dotted = self._dotted(func)
        if isinstance(func, ast.Name) and func.id in ("setattr", "delattr") and node.args:
            root = self._root(node.args[0])
            first = self._dotted(node.args[0])
            if root in self.imported or root in ("__builtins__", "builtins") or first.startswith("sys.modules"):
                self._flag(node, f"calls {func.id}() on {first}")
            elif len(node.args) > 1 and isinstance(node.args[1], ast.Constant) and node.args[1].value in _INTERNALS:
                self._flag(node, f"calls {func.id}() on {first}.{node.args[1].value}")
        if isinstance(func, ast.Attribute):
            owner = self._dotted(func.value)
            base = self.imported.get(owner.split(".")[0], owner.split(".")[0])
            full = (base + owner[len(owner.split(".")[0]):], func.attr)
            if full in _TOOLS or (owner.split(".")[0] not in self.imported and (owner, func.attr) in _TOOLS):
                self._flag(node, f"calls {dotted}()")
            if func.attr in _MUTATORS:
                if owner == "sys.modules":
                    self._flag(node, f"calls {dotted}() (sys.modules)")
                elif owner.endswith(".__dict__") or owner.startswith("vars("):
                    root = self._root(func.value)
                    if root in self.imported:
                        self._flag(node, f"calls {dotted}(), changing the imported {self.imported[root]}")
            if (self.imported.get(owner, owner), func.attr) == ("importlib", "import_module"):
                self._note(node, f"imports a module by a computed name ({dotted})")
        if isinstance(func, ast.Name):
            target = self.imported.get(func.id, "")
            if target in ("importlib.reload",) or target.endswith(("sys.setprofile", "sys.settrace")):
                self._flag(node, f"calls {func.id}() ({target})")
            if func.id == "__import__" or target == "importlib.import_module":
                self._note(node, f"imports a module by a computed name ({dotted})")
            if func.id in ("exec", "eval") and node.args:
                code = node.args[0]
                if isinstance(code, ast.Constant) and isinstance(code.value, str):
                    self._scan_text(code.value)
                else:
                    self._note(node, f"runs code built at run time ({func.id})")
        for argument in node.args:
            if isinstance(argument, ast.Constant) and isinstance(argument.value, str) \
                    and "helpers.reference" in argument.value:
                self._note(node, f"names {argument.value!r}")
        self.generic_visit(node)

    def visit_Constant(self, node):
        if isinstance(node.value, str) and re.search(r"helpers\W+reference", node.value):
            self._note(node, "mentions helpers.reference")

    def _scan_text(self, source: str) -> None:
        try:
            tree = ast.parse(_magics_removed(source))
        except SyntaxError:
            return
        self.visit(tree)


def scan_sources(sources: list[str]) -> tuple[list[str], list[str]]:
    """``(flags, notes)`` for the code cells ``sources`` of one notebook, in order."""
    scanner = _Scanner()
    for index, source in enumerate(sources):
        before = (len(scanner.flags), len(scanner.notes))
        scanner._scan_text(source)
        scanner.flags[before[0]:] = [f"cell {index + 1}, {f}" for f in scanner.flags[before[0]:]]
        scanner.notes[before[1]:] = [f"cell {index + 1}, {n}" for n in scanner.notes[before[1]:]]
    return scanner.flags, scanner.notes


def scan_notebook(path: Path) -> tuple[list[str], list[str]]:
    """``(flags, notes)`` of a notebook file (an unreadable file has neither: grading reports it)."""
    import nbformat

    try:
        nb = nbformat.read(str(path), as_version=4)
    except Exception:  # noqa: BLE001 - invalid notebooks are reported by the autograder itself
        return [], []
    return scan_sources([cell.source for cell in nb.cells if cell.cell_type == "code"])


def marker_lines(path: Path) -> list[str]:
    """Lines of an autograded notebook's outputs that report a changed grader environment
    (:data:`helpers.integrity.MARKER`), found outside the kernel after grading."""
    import nbformat

    from helpers.integrity import MARKER

    try:
        nb = nbformat.read(str(path), as_version=4)
    except Exception:  # noqa: BLE001
        return []
    found = []
    for cell in nb.cells:
        for output in cell.get("outputs", []) if cell.cell_type == "code" else []:
            text = " ".join([output.get("text", "") or "", output.get("evalue", "") or ""])
            if MARKER in text:
                line = text[text.index(MARKER):].splitlines()[0]
                found.append(line[:400])
    return list(dict.fromkeys(found))
