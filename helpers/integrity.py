"""Grading integrity inside the kernel: delegation to the references, and patching of the grader.

Two defences run in the student's kernel (a third, a static scan of the submitted notebook, runs
outside it: :mod:`helpers.instructor.tampering`).

1. **Delegation** (:class:`Watch`, used by :func:`helpers.grading.call`): while a student's function
   runs under a check, a profiler (``sys.setprofile`` and ``threading.setprofile``) sees every Python
   function entered. Entering the course's references (``helpers/reference/``, and ``helpers/conv.py``
   whose numpy maths they are built on), a function whose compiled code is a copy of one of them (same
   bytecode, names and constants, whatever its file name), or the grader itself (``helpers/checks/``,
   ``helpers/grading.py``) called straight from student code, fails that function's check. Allowed:
   the stand-ins the check installs itself (``with_reference``) and whatever they call, and functions
   the check passes in as arguments. An audit hook notes any ``sys.setprofile`` made while a student's
   function runs (switching the profiler off to hide a call) and fails the check too.

2. **Patching** (:func:`seal` / :func:`verify`): when a checks module is imported (the notebook's first
   cell, before any student code), the attributes of numpy (every loaded ``numpy.*`` module), the Python
   builtins, TensorFlow/Keras' top levels and main classes, and of every loaded ``helpers`` module are
   recorded: identities, function code/defaults, and the contents of arrays and containers of the
   grader's own modules (expected values, tolerances, stand-in tables). :func:`verify` compares with
   that record; :func:`helpers.grading.call` calls it before and after every student function, and
   under the autograder an audit hook calls it before every executed cell, so a notebook that replaced
   or edited any of them gets an error in every later cell (0 points) and a line starting with
   :data:`MARKER` in its output, which ``cnn-course autograde`` reads to flag and zero the notebook.
   Functions already replaced before the record is taken are caught by their origin (a numpy
   function must come from numpy's files, a builtin must be a builtin, ...).

What remains possible is said in INSTRUCTOR.md ("Grading integrity").
"""

from __future__ import annotations

import builtins
import hashlib
import os
import sys
import threading
import types

#: The first words of every integrity failure; ``cnn-course autograde`` searches graded notebooks for it.
MARKER = "grading integrity:"

HELPERS_DIR = os.path.dirname(os.path.abspath(__file__)) + os.sep
REFERENCE_DIR = os.path.join(HELPERS_DIR, "reference") + os.sep
CHECKS_DIR = os.path.join(HELPERS_DIR, "checks") + os.sep
#: numpy maths the references are built on: as much an answer key as the references themselves
REFERENCE_FILES = frozenset({os.path.join(HELPERS_DIR, "conv.py")})
GRADER_FILES = frozenset({os.path.join(HELPERS_DIR, "grading.py"), os.path.join(HELPERS_DIR, "integrity.py")})

_OTHER, _REFERENCE, _GRADER = 0, 1, 2
# Where installed code lives: the interpreter's prefixes and every site-packages folder on the path when
# the grader loads (a virtual environment may reach another's packages through a .pth file, as the
# student kit's check environment does).
_LIBRARY_ROOTS = tuple({os.path.realpath(p) + os.sep for p in (sys.prefix, sys.base_prefix, sys.exec_prefix)}
                       | {os.path.realpath(p) + os.sep for p in sys.path
                          if os.path.basename(p.rstrip(os.sep)) in ("site-packages", "dist-packages")}
                       | {HELPERS_DIR, os.path.realpath(HELPERS_DIR) + os.sep})


class IntegrityError(AssertionError):
    """The grader's environment was changed by the notebook (message starts with :data:`MARKER`)."""


# --------------------------------------------------------------------------------------------
# delegation


def _code_objects(code: types.CodeType):
    yield code
    for const in code.co_consts:
        if isinstance(const, types.CodeType):
            yield from _code_objects(const)


def _fingerprint(code: types.CodeType):
    consts = tuple(c for c in code.co_consts if not isinstance(c, types.CodeType))
    try:
        hash(consts)
    except TypeError:
        consts = repr(consts)
    return code.co_code, code.co_names, consts, code.co_argcount, code.co_kwonlyargcount


_reference_prints: set | None = None

#: Bytecode size from which two identical functions are a copy, not a coincidence: a one-line answer
#: (``return np.pad(X, ...)``, ``return x == np.max(x)``) may be written word for word by an honest
#: student, and tiny comprehensions occur in every library; a whole reference function is far larger.
COPY_MIN_BYTES = 160


def _copy_candidate(code: types.CodeType) -> bool:
    return len(code.co_code) >= COPY_MIN_BYTES and not code.co_name.startswith("<")


def reference_fingerprints() -> set:
    """Fingerprints of every code object compiled from the reference files (read, not imported)."""
    global _reference_prints
    if _reference_prints is None:
        prints = set()
        files = [os.path.join(REFERENCE_DIR, name) for name in sorted(os.listdir(REFERENCE_DIR))
                 if name.endswith(".py") and name != "__init__.py"] if os.path.isdir(REFERENCE_DIR) else []
        for path in [*files, *sorted(REFERENCE_FILES)]:
            try:
                with open(path, encoding="utf-8") as handle:
                    module = compile(handle.read(), path, "exec", dont_inherit=True)
            except (OSError, SyntaxError):
                continue
            for code in _code_objects(module):
                if code is not module and _copy_candidate(code):
                    prints.add(_fingerprint(code))
        _reference_prints = prints
    return _reference_prints


_kinds: dict = {}


def _kind(code: types.CodeType) -> int:
    kind = _kinds.get(code)
    if kind is None:
        name = code.co_filename
        if name.startswith(REFERENCE_DIR) or name in REFERENCE_FILES:
            kind = _REFERENCE
        elif name.startswith(CHECKS_DIR) or name in GRADER_FILES:
            kind = _GRADER
        elif _copy_candidate(code) and _student_code(code) and _fingerprint(code) in reference_fingerprints():
            kind = _REFERENCE  # a copy of a reference's compiled code, compiled in the notebook
        else:
            kind = _OTHER
        _kinds[code] = kind
    return kind


def _student_code(code: types.CodeType) -> bool:
    """Code of the notebook (cells, exec'd strings), not of an installed library or of helpers."""
    name = code.co_filename
    return not (name.startswith(_LIBRARY_ROOTS) or name.startswith("<frozen") or
                os.path.realpath(name).startswith(_LIBRARY_ROOTS))


def _codes_of(value) -> list:
    """Code objects of a function-like value (functions, bound methods, partials)."""
    codes = []
    while isinstance(value, types.MethodType):
        value = value.__func__
    func = getattr(value, "func", None)  # functools.partial
    if func is not None and not isinstance(value, types.FunctionType):
        codes += _codes_of(func)
    if isinstance(value, type):  # a class passed in (an initializer factory): its own methods
        for klass in value.__mro__[:-1]:
            for member in vars(klass).values():
                member = getattr(member, "__func__", member)  # static and class methods
                if isinstance(member, types.FunctionType):
                    codes += list(_code_objects(member.__code__))
        return codes
    code = getattr(value, "__code__", None)
    if isinstance(code, types.CodeType):
        codes += list(_code_objects(code))
    elif callable(value) and not isinstance(value, type):  # an object with a __call__ method (a stand-in model)
        method = next((vars(k)["__call__"] for k in type(value).__mro__ if "__call__" in vars(k)), None)
        if isinstance(method, types.FunctionType):
            codes += list(_code_objects(method.__code__))
    return codes


def _where(code: types.CodeType) -> str:
    name = getattr(code, "co_qualname", code.co_name)
    path = code.co_filename
    if path.startswith(HELPERS_DIR):
        module = "helpers." + path[len(HELPERS_DIR):].removesuffix(".py").replace(os.sep, ".")
        return f"{module}.{name}"
    return f"{name} (a copy of a reference function, compiled in {path})"


_active: list = []  # the watches running now (nested calls of graded functions)


def _audit(event: str, args) -> None:
    if _active and event in ("sys.setprofile", "sys.settrace"):
        for watch in _active:
            if not watch.installing:
                watch.problems.append(f"it called {event}() while being graded (the grader's profiler was "
                                      "switched off or replaced)")


class Watch:
    """Profile one call of a student's function; ``problems`` lists the delegations seen.

    allowed: functions the check itself lets the student's function call (``with_reference``
    stand-ins, functions passed as arguments); whatever they call is allowed too.
    """

    def __init__(self, allowed=()):
        self.allowed = set()
        for value in allowed:
            self.allowed.update(_codes_of(value))
        self.problems: list[str] = []
        self.installing = False
        self.stop = None
        self._previous = None
        self._previous_threads = None
        self.hook = self._hook  # one bound method, to recognise it in sys.getprofile()

    def _hook(self, frame, event, arg):
        if event != "call":
            return
        code = frame.f_code
        kind = _kind(code)
        if kind == _OTHER or code in self.allowed:
            return
        caller = frame.f_back
        if kind == _GRADER and (caller is None or not _student_code(caller.f_code)):
            return  # the grader's stand-ins called by a library (a Keras layer, the face model, ...)
        while caller is not None and caller is not self.stop:
            if caller.f_code in self.allowed or _kind(caller.f_code) != _OTHER:
                return  # allowed, or already reported at the outermost forbidden call
            caller = caller.f_back
        what = "the course's reference implementation" if kind == _REFERENCE else "the grader's own code"
        problem = f"it calls {what} {_where(code)}"
        if problem not in self.problems:
            self.problems.append(problem)

    def __enter__(self):
        self.stop = sys._getframe(1)
        self.installing = True
        self._previous, self._previous_threads = sys.getprofile(), threading.getprofile()
        sys.setprofile(self.hook)
        threading.setprofile(self.hook)
        self.installing = False
        _active.append(self)
        return self

    def __exit__(self, *exc):
        if sys.getprofile() is not self.hook:
            self.problems.append("it replaced the grader's profiler (sys.setprofile)")
        self.installing = True
        _active.remove(self)
        sys.setprofile(self._previous)
        threading.setprofile(self._previous_threads)
        self.installing = False
        return False


# --------------------------------------------------------------------------------------------
# patching

#: builtins whose replacement would not touch grading (IPython adds and removes some while running)
_BUILTINS_SKIPPED = frozenset({"_", "__", "___", "exit", "quit", "help", "copyright", "credits", "license",
                               "display", "get_ipython", "__IPYTHON__", "__debug__", "breakpoint", "input"})
#: helpers modules whose containers (arrays, dicts, lists) are checked by content, not only identity
_CONTENT_CHECKED = ("helpers.grading", "helpers.checks.", "helpers.reference.", "helpers.conv")


#: this module's own bookkeeping, which changes while grading
_STATE = frozenset({"_reference_prints", "_kinds", "_active", "_seal"})


def _content(value, depth: int = 0):
    """What must not change in a container of the grader: array bytes, items (by identity/content)."""
    if depth > 3:
        return id(value)
    type_ = type(value)
    if type_.__module__ == "numpy" and type_.__name__ == "ndarray":
        return ("ndarray", value.shape, str(value.dtype),
                hashlib.sha256(value.tobytes() if value.dtype != object else repr(value).encode()).hexdigest())
    if isinstance(value, dict):
        return ("dict", {k: _content(v, depth + 1) for k, v in value.items() if _hashable(k)})
    if isinstance(value, (list, tuple)):
        return (type_.__name__, [_content(v, depth + 1) for v in value])
    if isinstance(value, (int, float, str, bytes, bool, complex, type(None))):
        return ("value", value)
    return ("object", id(value))


def _hashable(key) -> bool:
    try:
        hash(key)
    except TypeError:
        return False
    return True


def _same_content(sealed, now) -> bool:
    """Equal, except that a dict may have gained keys and a list may have grown (caches)."""
    if sealed[0] == "dict" and now[0] == "dict":
        return all(k in now[1] and _same_content(v, now[1][k]) for k, v in sealed[1].items())
    if sealed[0] == "list" and now[0] == "list":
        return len(now[1]) >= len(sealed[1]) and all(_same_content(a, b) for a, b in zip(sealed[1], now[1]))
    if sealed[0] == "tuple" and now[0] == "tuple":
        return len(now[1]) == len(sealed[1]) and all(_same_content(a, b) for a, b in zip(sealed[1], now[1]))
    return sealed == now


class _Seal:
    def __init__(self):
        #: (label, namespace, key, value, code, defaults, kwdefaults, content or None)
        self.entries: list = []
        self.exported: dict = {}  # test function name -> the checks module's object
        self.problems: list[str] = []
        self.sealed_modules: set = set()

    def add(self, label: str, namespace, keys, content: bool = False) -> None:
        for key in keys:
            if not isinstance(key, str) or key not in namespace:
                continue
            value = namespace[key]
            code = defaults = kwdefaults = None
            if isinstance(value, types.FunctionType):
                code, defaults, kwdefaults = value.__code__, value.__defaults__, value.__kwdefaults__
            self.entries.append((label, namespace, key, value, code, defaults, kwdefaults,
                                 _content(value) if content else None))


_seal = _Seal()


def _origin_problem(label: str, key: str, value) -> str | None:
    """A Python function found under a library's name must come from an installed file, not the notebook."""
    while isinstance(value, types.MethodType):
        value = value.__func__
    if isinstance(value, types.FunctionType) and _student_code(value.__code__):
        return f"{label}.{key} is not the original: it is defined in {value.__code__.co_filename}"
    return None


def _numpy_modules():
    return [(n, m) for n, m in list(sys.modules.items())
            if (n == "numpy" or n.startswith("numpy.")) and isinstance(m, types.ModuleType)]


def seal() -> None:
    """Record the grader's environment (see the module docstring). Called when a checks module has been
    imported, before any student code runs; later calls add modules loaded since, never re-record."""
    import numpy
    import numpy.testing  # noqa: F401 - loaded now, so that a replacement of np.testing is seen

    groups = [("builtins", vars(builtins), [k for k, v in vars(builtins).items() if k not in _BUILTINS_SKIPPED
                                            and (isinstance(v, type) or isinstance(v, types.BuiltinFunctionType))],
               False, None)]
    for name, module in _numpy_modules():
        groups.append((name, vars(module), [k for k, v in vars(module).items() if callable(v) or
                                            isinstance(v, types.ModuleType)], False, True))
    for name, module in list(sys.modules.items()):
        if (name == "helpers" or name.startswith("helpers.")) and isinstance(module, types.ModuleType) \
                and not name.startswith("helpers.instructor"):
            content = name.startswith(_CONTENT_CHECKED)
            # a module names the globals it changes itself while grading in ``_GRADING_STATE``
            own_state = _STATE if name == __name__ else frozenset(vars(module).get("_GRADING_STATE", ()))
            keys = [k for k in vars(module) if not k.startswith("__") and k not in own_state]
            groups.append((name, vars(module), keys, content, True))
    for name in ("tensorflow", "keras", "keras.layers", "keras.ops", "tensorflow.math", "tensorflow.nn",
                 "tensorflow.image", "tensorflow.linalg"):
        module = sys.modules.get(name)
        if isinstance(module, types.ModuleType):
            try:
                names = [k for k, v in vars(module).items() if isinstance(v, (type, types.FunctionType))]
            except Exception:  # noqa: BLE001 - lazily loaded attributes
                continue
            groups.append((name, vars(module), names, False, None))
    keras = sys.modules.get("keras")
    if keras is not None:
        for cls_name in ("Model", "Layer", "Sequential"):
            cls = getattr(keras, cls_name, None) or getattr(getattr(keras, "layers", None), cls_name, None)
            for klass in getattr(cls, "__mro__", ())[:-1]:
                if klass.__module__.startswith("keras"):
                    groups.append((f"{klass.__module__}.{klass.__qualname__}", klass.__dict__,
                                   [k for k, v in klass.__dict__.items() if isinstance(v, (types.FunctionType, property))],
                                   False, None))
    for label, namespace, keys, content, files in groups:  # files: check where functions come from
        if label in _seal.sealed_modules:
            continue
        if isinstance(namespace, types.MappingProxyType):  # a class dict: read-only view, re-read in verify
            namespace = _ClassView(namespace)
        _seal.sealed_modules.add(label)
        _seal.add(label, namespace, keys, content)
        if files:
            for key in keys:
                problem = _origin_problem(label, key, namespace[key] if key in namespace else None)
                if problem and problem not in _seal.problems:
                    _seal.problems.append(problem)
        if label.startswith("helpers.checks."):
            for key in namespace.get("__all__", ()):
                if (key.endswith("_test") or key.startswith("check_")) and key in namespace:
                    _seal.exported.setdefault(key, namespace[key])
        if label == "builtins":
            for key in keys:
                value = namespace[key]
                if not (isinstance(value, type) or isinstance(value, types.BuiltinFunctionType)):
                    _seal.problems.append(f"builtins.{key} is not the original builtin")


class _ClassView(dict):
    """A class ``__dict__`` (a read-only proxy whose object is the live class dict) seen as a dict."""

    def __init__(self, proxy):
        super().__init__()
        self.proxy = proxy

    def __contains__(self, key):
        return key in self.proxy

    def __getitem__(self, key):
        return self.proxy[key]

    def __iter__(self):
        return iter(self.proxy)

    def get(self, key, default=None):
        return self.proxy.get(key, default)


_MISSING = object()


def problems() -> list[str]:
    """What changed since :func:`seal` (empty when nothing did; at most five items)."""
    found = list(_seal.problems[:5])
    for label, namespace, key, value, code, defaults, kwdefaults, content in _seal.entries:
        now = namespace.get(key, _MISSING)
        if now is value:
            if code is not None and (now.__code__ is not code or now.__defaults__ is not defaults
                                     or now.__kwdefaults__ is not kwdefaults):
                found.append(f"{label}.{key} was changed in place (its code or defaults)")
            elif content is not None and not _same_content(content, _content(now)):
                found.append(f"{label}.{key} was changed in place (the grader's own values)")
            else:
                continue
        elif now is _MISSING:
            found.append(f"{label}.{key} was deleted")
        else:
            found.append(f"{label}.{key} was replaced")
        if len(found) >= 5:
            return found
    main = sys.modules.get("__main__")
    namespace = getattr(main, "__dict__", None)
    if isinstance(namespace, dict):
        for key, value in _seal.exported.items():
            now = namespace.get(key, value)
            if now is not value and len(found) < 5:
                found.append(f"the notebook replaced the test function {key}")
    return found


def verify(function: str | None = None) -> None:
    """Raise :class:`IntegrityError` (its message starts with :data:`MARKER`) if anything sealed changed."""
    __tracebackhide__ = True
    found = problems()
    if found:
        who = f"{function}: " if function else ""
        raise IntegrityError(f"{MARKER} {who}the notebook changed the grader's environment, so no test can be "
                             "trusted and the submission is flagged: " + "; ".join(found))


def _exec_audit(event: str, args) -> None:
    """Under the autograder: before any cell (any exec of code not from an installed file), verify."""
    if event != "exec" or not _seal.entries:
        return
    code = args[0] if args else None
    if isinstance(code, types.CodeType) and _student_code(code):
        found = problems()
        if found:
            raise IntegrityError(f"{MARKER} the notebook changed the grader's environment (every later cell "
                                 "fails; the submission is flagged): " + "; ".join(found))


def _install() -> None:
    if getattr(sys, "_cnn_course_integrity", False):
        return
    sys.addaudithook(_audit)
    if os.environ.get("NBGRADER_EXECUTION", "") in ("autograde", "validate") or os.environ.get("CNN_COURSE_INTEGRITY"):
        sys.addaudithook(_exec_audit)
    sys._cnn_course_integrity = True


_install()
