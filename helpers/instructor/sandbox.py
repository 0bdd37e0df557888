"""Run a command (a Jupyter kernel) with resource limits and a Linux Landlock filesystem sandbox.

Used by ``cnn-course autograde`` (:mod:`helpers.instructor.autograde`) as the argv of a generated kernelspec, so that student code
executed by nbgrader runs inside it::

    python helpers/instructor/sandbox.py --memory-mb 4096 --cpu-seconds 900 --deny /course --deny /scratch \\
        --allow-read /course/helpers --workdir-root /scratch/chunk-0/work \\
        -- python -m ipykernel_launcher -f {connection_file}

What the wrapper does before it ``exec``s the command (standard library only, so it also runs as a
plain script without ``helpers`` importable):

1. Moves into a fresh working folder under ``--workdir-root`` holding a copy of the current
   folder's files *except notebooks* (the notebook being graded, which contains the hidden tests,
   stays out of reach), and points TMPDIR, MPLCONFIGDIR, IPYTHONDIR, ... into it.
2. Resource limits (inherited by every child process): address space (RLIMIT_AS), CPU seconds
   (RLIMIT_CPU: the kernel is killed when its notebook used more), size of any written file
   (RLIMIT_FSIZE), no core dumps.
3. When running as root, drops every capability (bounding set, securebits, capset), so root's
   powers do not reach student code.
4. Landlock (Linux >= 5.13, unprivileged): files can be *read* everywhere except beneath the
   ``--deny`` roots (the course directory, the grading scratch folders, the Jupyter runtime dir
   with other kernels' connection keys, the exchange), where only the ``--allow-read`` paths are
   readable (the helpers package, the data cache); directory listings stay allowed. Files can be
   *written* only in the working folder (and /dev/null & co). With Landlock ABI >= 4 no TCP
   connections can be opened and only the kernel's own ports (and ephemeral ones) can be bound; with ABI >= 6 signals
   to and abstract sockets of processes outside the sandbox are blocked (no killing the grader).
   Without Landlock (old kernels, macOS) steps 1-3 still apply and the grader's integrity checks
   (:mod:`helpers.instructor.autograde`) detect changed instructor files; ``--require-landlock`` makes that an error.

5. Control groups (``--cgroup NAME``, Linux, needs write access to ``/sys/fs/cgroup``, e.g. root):
   the kernel and every process it starts go into fresh cgroups ``cnn-course-NAME-kernel-PID`` with a
   process/thread limit (``--pids-max``: a fork bomb gets EAGAIN instead of filling the machine) and
   a memory limit for all of them together (``--total-memory-mb``: the kernel's own OOM killer acts
   inside the group only). cgroup v1 (``pids`` and ``memory`` controllers) and v2 are supported.
   Where neither can be written (no root, read-only cgroupfs, macOS) the kernel starts without
   them and ``CNN_COURSE_CGROUP`` says so; ``--require-cgroup`` makes that an error. The grader
   removes the groups, killing whatever is left in them, with :func:`remove_cgroups`.

Exit status 97 means the sandbox could not be set up (message on stderr).
"""

from __future__ import annotations

import argparse
import contextlib
import ctypes
import json
import os
import resource
import shutil
import sys
import tempfile

# --- Landlock constants (linux/landlock.h) --------------------------------------------------
_SYS_CREATE_RULESET, _SYS_ADD_RULE, _SYS_RESTRICT_SELF = 444, 445, 446  # same on x86_64 and arm64
_PR_SET_NO_NEW_PRIVS, _PR_CAPBSET_DROP, _PR_SET_SECUREBITS = 38, 24, 28
_RULE_PATH_BENEATH, _RULE_NET_PORT = 1, 2
FS = {
    "execute": 1 << 0, "write_file": 1 << 1, "read_file": 1 << 2, "read_dir": 1 << 3,
    "remove_dir": 1 << 4, "remove_file": 1 << 5, "make_char": 1 << 6, "make_dir": 1 << 7,
    "make_reg": 1 << 8, "make_sock": 1 << 9, "make_fifo": 1 << 10, "make_block": 1 << 11,
    "make_sym": 1 << 12, "refer": 1 << 13, "truncate": 1 << 14, "ioctl_dev": 1 << 15,
}
_FS_BY_ABI = {1: (1 << 13) - 1, 2: (1 << 14) - 1, 3: (1 << 15) - 1, 4: (1 << 15) - 1}
_NET_BIND_TCP, _NET_CONNECT_TCP = 1 << 0, 1 << 1
_SCOPE_ABSTRACT_UNIX, _SCOPE_SIGNAL = 1 << 0, 1 << 1
_FILE_RIGHTS = FS["execute"] | FS["write_file"] | FS["read_file"] | FS["truncate"] | FS["ioctl_dev"]
_READ_RIGHTS = FS["execute"] | FS["read_file"] | FS["read_dir"] | FS["ioctl_dev"]

SETUP_FAILED = 97


class _RulesetAttr(ctypes.Structure):
    _fields_ = [("handled_access_fs", ctypes.c_uint64), ("handled_access_net", ctypes.c_uint64),
                ("scoped", ctypes.c_uint64)]


class _PathBeneathAttr(ctypes.Structure):
    _pack_ = 1
    _fields_ = [("allowed_access", ctypes.c_uint64), ("parent_fd", ctypes.c_int32)]


class _NetPortAttr(ctypes.Structure):
    _fields_ = [("allowed_access", ctypes.c_uint64), ("port", ctypes.c_uint64)]


def _libc():
    return ctypes.CDLL(None, use_errno=True)


def landlock_abi() -> int:
    """The kernel's Landlock ABI version, 0 when Landlock is unavailable (or not Linux)."""
    if not sys.platform.startswith("linux"):
        return 0
    try:
        version = _libc().syscall(_SYS_CREATE_RULESET, None, ctypes.c_size_t(0), ctypes.c_uint32(1))
    except (OSError, AttributeError):
        return 0
    return max(int(version), 0)


def _inside(path: str, root: str) -> bool:
    return path == root or path.startswith(root.rstrip("/") + "/")


def read_rules(deny: list[str], allow: list[str]) -> list[str]:
    """Paths to grant read access beneath so that everything but the ``deny`` roots is readable.

    Landlock only grants, so "all but X" is the complement of X: for every ancestor of a denied
    root, each child that neither is nor contains a denied root is granted; ``allow`` paths are
    granted explicitly (they may lie inside a denied root). Symlinks pointing into a denied root
    are skipped.
    """
    deny = [os.path.realpath(d) for d in deny]
    granted: set[str] = set()
    ancestors: set[str] = set()
    for root in deny:
        path = root
        while path != "/":
            path = os.path.dirname(path)
            ancestors.add(path)
    for directory in sorted(ancestors):
        try:
            names = os.listdir(directory)
        except OSError:
            continue
        for name in names:
            child = os.path.join(directory, name)
            if child in ancestors or any(_inside(child, d) for d in deny):
                continue
            real = os.path.realpath(child)  # a symlink to a denied root or to one of its ancestors
            if real in ancestors or any(_inside(real, d) or _inside(d, real) for d in deny):
                continue
            granted.add(child)
    if not deny:
        granted.add("/")
    granted.update(os.path.realpath(a) for a in allow if os.path.exists(a))
    return sorted(granted)


def apply_landlock(abi: int, readable: list[str], listable: list[str], writable: list[str],
                   devices: list[str], bind_ports: list[int]) -> None:
    """Restrict this process (and its future children) with one Landlock ruleset; raises OSError."""
    libc = _libc()
    handled_fs = _FS_BY_ABI.get(abi, (1 << 16) - 1)
    attr = _RulesetAttr(handled_fs, (_NET_BIND_TCP | _NET_CONNECT_TCP) if abi >= 4 else 0,
                        (_SCOPE_ABSTRACT_UNIX | _SCOPE_SIGNAL) if abi >= 6 else 0)
    size = 8 if abi < 4 else (16 if abi < 6 else 24)
    ruleset = libc.syscall(_SYS_CREATE_RULESET, ctypes.byref(attr), ctypes.c_size_t(size), ctypes.c_uint32(0))
    if ruleset < 0:
        raise OSError(ctypes.get_errno(), "landlock_create_ruleset failed")

    def grant(path: str, rights: int) -> None:
        try:
            fd = os.open(path, os.O_PATH | os.O_CLOEXEC)
        except OSError:
            return
        try:
            if not os.path.isdir(path):
                rights &= _FILE_RIGHTS
            rule = _PathBeneathAttr(rights & handled_fs, fd)
            if libc.syscall(_SYS_ADD_RULE, ruleset, _RULE_PATH_BENEATH, ctypes.byref(rule), ctypes.c_uint32(0)):
                raise OSError(ctypes.get_errno(), f"landlock_add_rule failed for {path}")
        finally:
            os.close(fd)

    try:
        for path in readable:
            grant(path, _READ_RIGHTS)
        for path in listable:
            grant(path, FS["read_dir"])
        for path in devices:
            grant(path, FS["read_file"] | FS["write_file"] | FS["truncate"] | FS["ioctl_dev"])
        for path in writable:
            grant(path, handled_fs)
        if abi >= 4:
            for port in bind_ports:
                rule = _NetPortAttr(_NET_BIND_TCP, port)
                if libc.syscall(_SYS_ADD_RULE, ruleset, _RULE_NET_PORT, ctypes.byref(rule), ctypes.c_uint32(0)):
                    raise OSError(ctypes.get_errno(), f"landlock_add_rule failed for port {port}")
        if libc.prctl(_PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0):
            raise OSError(ctypes.get_errno(), "prctl(PR_SET_NO_NEW_PRIVS) failed")
        if libc.syscall(_SYS_RESTRICT_SELF, ruleset, ctypes.c_uint32(0)):
            raise OSError(ctypes.get_errno(), "landlock_restrict_self failed")
    finally:
        os.close(ruleset)


def drop_root_capabilities() -> None:
    """If running as root: empty the capability bounding set, lock root's special treatment, and
    clear all capability sets, so the exec'd program runs with no privileges beyond its uid's files."""
    if os.geteuid() != 0:
        return
    libc = _libc()
    for cap in range(64):
        libc.prctl(_PR_CAPBSET_DROP, cap, 0, 0, 0)  # EINVAL past the last capability: ignored
    # SECBIT_NOROOT | SECBIT_NOROOT_LOCKED | SECBIT_NO_SETUID_FIXUP(_LOCKED) | SECBIT_KEEP_CAPS_LOCKED
    libc.prctl(_PR_SET_SECUREBITS, 0x1 | 0x2 | 0x4 | 0x8 | 0x20, 0, 0, 0)

    class Header(ctypes.Structure):
        _fields_ = [("version", ctypes.c_uint32), ("pid", ctypes.c_int)]

    class Data(ctypes.Structure):
        _fields_ = [("effective", ctypes.c_uint32), ("permitted", ctypes.c_uint32),
                    ("inheritable", ctypes.c_uint32)]

    header, data = Header(0x20080522, 0), (Data * 2)()
    if libc.capset(ctypes.byref(header), data):
        raise OSError(ctypes.get_errno(), "capset failed")


def set_limits(memory_mb: int, cpu_seconds: int, file_mb: int) -> None:
    if memory_mb > 0:
        resource.setrlimit(resource.RLIMIT_AS, (memory_mb << 20, memory_mb << 20))
    if cpu_seconds > 0:
        # soft limit: SIGXCPU (kills the kernel); hard limit a little later: SIGKILL
        resource.setrlimit(resource.RLIMIT_CPU, (cpu_seconds, cpu_seconds + 5))
    if file_mb > 0:
        resource.setrlimit(resource.RLIMIT_FSIZE, (file_mb << 20, file_mb << 20))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))


CGROUP_ROOT = "/sys/fs/cgroup"
CGROUP_PREFIX = "cnn-course-"


def _own_cgroup(controller: str | None) -> str:
    """This process's cgroup path in a v1 ``controller`` hierarchy (None: the v2 unified one)."""
    with open("/proc/self/cgroup") as handle:
        for line in handle:
            _, controllers, path = line.rstrip("\n").split(":", 2)
            if (controller is None and controllers == "") or (controller and controller in controllers.split(",")):
                return path
    return "/"


def cgroup_dirs(name: str) -> list[tuple[str, str]]:
    """``[(kind, folder)]`` of the cgroups named ``name`` would use here: ``("v1-pids", ...)``, ``("v1-memory", ...)``
    or ``("v2", ...)``."""
    leaf = CGROUP_PREFIX + name
    if os.path.exists(os.path.join(CGROUP_ROOT, "cgroup.controllers")):  # unified (v2 only)
        return [("v2", os.path.join(CGROUP_ROOT, _own_cgroup(None).lstrip("/"), leaf))]
    dirs = []
    for controller in ("pids", "memory"):
        base = os.path.join(CGROUP_ROOT, controller)
        if os.path.isdir(base):
            dirs.append((f"v1-{controller}", os.path.join(base, _own_cgroup(controller).lstrip("/"), leaf)))
    return dirs


def _write(path: str, value: str) -> None:
    with open(path, "w") as handle:
        handle.write(value)


def join_cgroups(name: str, pids_max: int, memory_mb: int) -> list[str]:
    """Move this process into fresh cgroups with the limits; return what was applied (empty: nothing)."""
    applied = []
    for kind, folder in cgroup_dirs(name):
        try:
            os.makedirs(folder, exist_ok=True)
            if kind == "v2":
                parent = os.path.dirname(folder)
                with open(os.path.join(parent, "cgroup.subtree_control")) as handle:
                    enabled = handle.read().split()
                for controller in ("pids", "memory"):
                    if controller not in enabled:
                        _write(os.path.join(parent, "cgroup.subtree_control"), f"+{controller}")
                if pids_max > 0:
                    _write(os.path.join(folder, "pids.max"), str(pids_max))
                if memory_mb > 0:
                    _write(os.path.join(folder, "memory.max"), str(memory_mb << 20))
                    with contextlib.suppress(OSError):
                        _write(os.path.join(folder, "memory.swap.max"), "0")
                applied += [f"pids.max={pids_max}", f"memory.max={memory_mb}M"]
            elif kind == "v1-pids":
                if pids_max <= 0:
                    continue
                _write(os.path.join(folder, "pids.max"), str(pids_max))
                applied.append(f"pids.max={pids_max}")
            else:
                if memory_mb <= 0:
                    continue
                _write(os.path.join(folder, "memory.limit_in_bytes"), str(memory_mb << 20))
                with contextlib.suppress(OSError):  # no swap accounting on many machines
                    _write(os.path.join(folder, "memory.memsw.limit_in_bytes"), str(memory_mb << 20))
                applied.append(f"memory.limit={memory_mb}M")
            _write(os.path.join(folder, "cgroup.procs"), str(os.getpid()))
        except OSError:
            continue
    return applied


def cgroups_available() -> bool:
    """Whether this process can create the cgroups :func:`join_cgroups` needs (probed, then removed)."""
    name = f"probe-{os.getpid()}"
    dirs = cgroup_dirs(name)
    made = []
    try:
        for _, folder in dirs:
            os.makedirs(folder)
            made.append(folder)
    except OSError:
        pass
    for folder in made:
        with contextlib.suppress(OSError):
            os.rmdir(folder)
    return bool(dirs) and len(made) == len(dirs)


def kernel_cgroup_name(name: str) -> str:
    """The cgroup name of one kernel of job ``name``: each kernel (one per notebook of a submission) gets
    its own pids and memory budget, so processes a notebook leaves behind (a fork bomb's sleeping
    children) cannot keep the submission's next notebook from starting its kernel."""
    return f"{name}{KERNEL_SEPARATOR}{os.getpid()}"


KERNEL_SEPARATOR = "-kernel-"


def remove_cgroups(name: str, wait: float = 5.0) -> int:
    """Kill every process left in the cgroups named ``name`` (and in those of its kernels,
    :func:`kernel_cgroup_name`) and remove them; return how many were killed."""
    import glob
    import signal
    import time

    killed = 0
    folders = [folder for _, folder in cgroup_dirs(name)]
    folders += [match for folder in list(folders) for match in sorted(glob.glob(glob.escape(folder) + KERNEL_SEPARATOR + "*"))]
    for folder in folders:
        if not os.path.isdir(folder):
            continue
        deadline = time.monotonic() + wait
        while True:
            try:
                with open(os.path.join(folder, "cgroup.procs")) as handle:
                    pids = [int(p) for p in handle.read().split()]
            except OSError:
                pids = []
            for pid in pids:
                with contextlib.suppress(OSError):
                    os.kill(pid, signal.SIGKILL)
                    killed += 1
            with contextlib.suppress(OSError):
                os.rmdir(folder)
            if not os.path.isdir(folder) or time.monotonic() > deadline:
                break
            time.sleep(0.05)
    return killed


def _connection_file(command: list[str]) -> str | None:
    for flag in ("-f", "--f", "--existing"):
        if flag in command[:-1]:
            return command[command.index(flag) + 1]
    for item in command:
        if item.startswith("--f="):
            return item.split("=", 1)[1]
    return None


def prepare_workdir(root: str) -> str:
    """A fresh folder under ``root`` holding the current folder's files except notebooks; chdir there."""
    os.makedirs(root, exist_ok=True)
    workdir = tempfile.mkdtemp(prefix="kernel-", dir=root)
    here = os.getcwd()
    for name in os.listdir(here):
        source, target = os.path.join(here, name), os.path.join(workdir, name)
        if name.endswith(".ipynb") or name.startswith(".ipynb_checkpoints"):
            continue
        if _inside(os.path.realpath(root), os.path.realpath(source)):
            continue  # the work folders themselves live below the current folder
        if os.path.isdir(source):
            shutil.copytree(source, target, ignore=shutil.ignore_patterns("*.ipynb"))
        else:
            shutil.copy2(source, target)
    os.chdir(workdir)
    for variable, sub in (("TMPDIR", "tmp"), ("MPLCONFIGDIR", ".matplotlib"), ("IPYTHONDIR", ".ipython"),
                          ("KERAS_HOME", ".keras"), ("XDG_CACHE_HOME", ".cache")):
        os.makedirs(os.path.join(workdir, sub), exist_ok=True)
        os.environ[variable] = os.path.join(workdir, sub)
    return workdir


def parse_args(argv: list[str]) -> tuple[argparse.Namespace, list[str]]:
    if "--" not in argv:
        raise SystemExit("sandbox: usage: sandbox.py [options] -- command ...")
    split = argv.index("--")
    parser = argparse.ArgumentParser(prog="sandbox.py", description=__doc__.split("\n\n")[0])
    parser.add_argument("--memory-mb", type=int, default=4096, help="address-space limit (RLIMIT_AS), 0 = none")
    parser.add_argument("--cpu-seconds", type=int, default=900, help="CPU time limit of the whole kernel, 0 = none")
    parser.add_argument("--file-mb", type=int, default=256, help="largest file the kernel may write, 0 = none")
    parser.add_argument("--deny", action="append", default=[], help="root that student code may not read/write")
    parser.add_argument("--allow-read", action="append", default=[], help="readable path (even inside a --deny root)")
    parser.add_argument("--workdir-root", help="make a fresh working folder (without notebooks) under this folder")
    parser.add_argument("--no-landlock", action="store_true", help="limits only, no filesystem sandbox")
    parser.add_argument("--require-landlock", action="store_true", help="fail (exit 97) when Landlock is unavailable")
    parser.add_argument("--cgroup", help="put the kernel in fresh cgroups cnn-course-CGROUP (pids and memory limits)")
    parser.add_argument("--pids-max", type=int, default=512, help="processes + threads in the cgroup, 0 = none")
    parser.add_argument("--total-memory-mb", type=int, default=6144, help="memory of the whole cgroup, 0 = none")
    parser.add_argument("--require-cgroup", action="store_true", help="fail (exit 97) when no cgroup can be set up")
    return parser.parse_args(argv[:split]), argv[split + 1:]


def main(argv: list[str] | None = None) -> None:
    options, command = parse_args(sys.argv[1:] if argv is None else argv)
    if not command:
        raise SystemExit("sandbox: no command given after --")
    try:
        connection = _connection_file(command)
        ports = []
        if connection:
            connection = os.path.abspath(connection)
            with open(connection) as handle:
                info = json.load(handle)
            ports = [0] + [int(info[k]) for k in ("shell_port", "iopub_port", "stdin_port", "control_port", "hb_port")
                     if int(info.get(k, 0) or 0) > 0]
        cgroups = (join_cgroups(kernel_cgroup_name(options.cgroup), options.pids_max, options.total_memory_mb)
                   if options.cgroup else [])
        if options.require_cgroup and not cgroups:
            raise OSError("no cgroup could be set up (needs write access to /sys/fs/cgroup)")
        os.environ["CNN_COURSE_CGROUP"] = ",".join(cgroups) or "none"
        workdir = prepare_workdir(options.workdir_root) if options.workdir_root else os.getcwd()
        set_limits(options.memory_mb, options.cpu_seconds, options.file_mb)
        abi = 0 if options.no_landlock else landlock_abi()
        if options.require_landlock and abi == 0:
            raise OSError("Landlock is not available on this kernel")
        if abi:
            allow = list(options.allow_read) + ([connection] if connection else [])
            readable = read_rules(options.deny, allow)
            devices = [d for d in ("/dev/null", "/dev/zero", "/dev/full", "/dev/tty", "/dev/urandom", "/dev/random")
                       if os.path.exists(d)]
            apply_landlock(abi, readable, listable=[d for d in options.deny if os.path.isdir(d)],
                           writable=[workdir], devices=devices, bind_ports=ports)
        drop_root_capabilities()
        os.environ["CNN_COURSE_SANDBOX"] = f"landlock-abi-{abi}" if abi else "limits-only"
    except (OSError, ValueError) as error:
        print(f"sandbox: could not set up the sandbox: {error}", file=sys.stderr)
        raise SystemExit(SETUP_FAILED) from error
    os.execvp(command[0], command)


if __name__ == "__main__":
    main()
