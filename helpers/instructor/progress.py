"""Live progress of an autograde run: counts per status, rate, ETA; and the one-line summary.

On a terminal the line is rewritten in place (stderr); otherwise (logs, CI, notebooks) a line is
written at most every ``every`` seconds and at the end, through the run's ``log`` function.
"""

from __future__ import annotations

import sys
import time

STATUSES = ("graded", "failed", "timeout", "tampered")


def _duration(seconds: float) -> str:
    seconds = int(round(seconds))
    if seconds >= 3600:
        return f"{seconds // 3600}h{seconds % 3600 // 60:02d}m"
    if seconds >= 60:
        return f"{seconds // 60}m{seconds % 60:02d}s"
    return f"{seconds}s"


class Progress:
    def __init__(self, total: int, log=print, stream=None, every: float = 10.0, clock=time.monotonic):
        self.total, self.log, self.every, self.clock = total, log, every, clock
        self.stream = stream if stream is not None else sys.stderr
        self.tty = bool(getattr(self.stream, "isatty", lambda: False)())
        self.counts = dict.fromkeys(STATUSES, 0)
        self.started = clock()
        self.last_line = -float("inf")

    @property
    def done(self) -> int:
        return sum(self.counts.values())

    def line(self) -> str:
        elapsed = max(1e-9, self.clock() - self.started)
        rate = self.done / elapsed
        left = self.total - self.done
        eta = _duration(left / rate) if rate > 0 and left else ("0s" if not left else "?")
        width = 24
        filled = int(width * self.done / max(1, self.total))
        bar = "#" * filled + "." * (width - filled)
        counts = " ".join(f"{k} {v}" for k, v in self.counts.items() if v or k == "graded")
        return (f"[{bar}] {self.done}/{self.total} ({100 * self.done / max(1, self.total):.0f}%) {counts} | "
                f"{rate * 60:.1f}/min | elapsed {_duration(elapsed)} | ETA {eta}")

    def update(self, status: str) -> None:
        self.counts[status] = self.counts.get(status, 0) + 1
        now = self.clock()
        if self.tty:
            self.stream.write("\r" + self.line() + ("\n" if self.done >= self.total else ""))
            self.stream.flush()
        elif now - self.last_line >= self.every or self.done >= self.total:
            self.last_line = now
            self.log(self.line())

    def summary(self, assignment: str) -> str:
        elapsed = self.clock() - self.started
        return (f"{assignment}: {self.done} submission(s) in {_duration(elapsed)}: "
                + ", ".join(f"{self.counts.get(k, 0)} {k}" for k in STATUSES))
