"""Ctrl-C in a sweep: the exception that says what was kept, and quiet job controllers.

Local sweep jobs run under submitit controller processes that inherit the terminal's stderr; a
controller that is cancelled (or gets the terminal's Ctrl-C) prints a traceback there. Started
under :func:`controller_output`, they print it to ``SWEEP_DIR/logs/controllers.log`` instead.
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Iterator
from pathlib import Path

CONTROLLERS_LOG = "controllers.log"


class SweepInterrupted(KeyboardInterrupt):
    """Ctrl-C stopped a sweep; its running jobs were cancelled (the message counts them)."""


@contextlib.contextmanager
def controller_output(kind: str, logs: Path) -> Iterator[None]:
    """For ``kind == "local"``: point file descriptor 2 at ``logs/controllers.log`` meanwhile, so
    controller processes started now inherit it; other kinds: nothing."""
    if kind != "local":
        yield
        return
    sys.stderr.flush()
    saved = os.dup(2)
    logs.mkdir(parents=True, exist_ok=True)
    with open(logs / CONTROLLERS_LOG, "ab") as log:
        os.dup2(log.fileno(), 2)
    try:
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)
