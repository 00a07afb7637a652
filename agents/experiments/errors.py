"""How a ``memtasks`` command ends when it fails: one line on stderr and an exit code, never a traceback.

Exit codes: 2 for bad input (a flag, a file, a directory; ``ValueError``, ``TypeError``,
``FileNotFoundError``, ``LookupError``), 1 for a failure of the run itself (training diverged, the disk is full,
a file cannot be written), 130 for Ctrl-C (the line says what was kept and how to go on).
"""

from __future__ import annotations

import sys
from collections.abc import Callable

from agents.training.loop import TrainingInterrupted

INTERRUPTED = 130  # 128 + SIGINT, as a shell reports a process ended by Ctrl-C


def _first_line(error: BaseException) -> str:
    lines = str(error).strip().splitlines()
    return lines[0] if lines else type(error).__name__


def _interrupted(error: KeyboardInterrupt) -> str:
    if isinstance(error, TrainingInterrupted) and error.kept:
        return (f"{_first_line(error)}; continue with: memtasks train --logdir "
                f"{error.checkpoint_dir} --resume")
    return _first_line(error) if str(error) else "interrupted"


def _os_error(error: OSError) -> str:
    if error.filename is None or type(error).__str__ is not OSError.__str__:
        return _first_line(error)
    return f"cannot use '{error.filename}': {error.strerror}"


def run_command(command: str, run: Callable[[], int]) -> int:
    """``run()``'s exit code; a failure is printed as ``memtasks COMMAND: …`` and mapped to a code."""
    def say(message: str) -> None:
        print(f"memtasks {command}: {message}", file=sys.stderr)

    try:
        return run()
    except KeyboardInterrupt as error:
        say(_interrupted(error))
        return INTERRUPTED
    except FloatingPointError as error:  # training diverged: not a usage error
        say(_first_line(error))
        return 1
    except (ValueError, TypeError, FileNotFoundError, LookupError) as error:
        say(f"error: {_first_line(error)}")
        return 2
    except OSError as error:
        say(f"error: {_os_error(error)}")
        return 1
