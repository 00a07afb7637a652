"""One writer per run directory: a lock file that names its holder and dies with it.

``RUN_DIR/.memtasks.lock`` holds ``<pid> <host>`` of the process training there, under an
exclusive ``fcntl.flock``. The kernel drops that lock when the process ends however it ends
(SIGKILL included), so a lock file left by a killed run is stale by construction: the next run
takes it over. A second writer is refused with :class:`RunInUse`, naming the holder.
"""

from __future__ import annotations

import errno
import fcntl
import os
import socket
from contextlib import ExitStack
from pathlib import Path
from types import TracebackType

LOCK = ".memtasks.lock"
NO_FLOCK = (errno.ENOLCK, errno.EOPNOTSUPP, errno.ENOSYS)  # file systems without flock


class RunInUse(ValueError):
    """Another process is writing to the run directory."""


def _holder(path: Path) -> str:
    try:
        pid, _, host = path.read_text().strip().partition(" ")
    except OSError:
        return "another process"
    return f"process {pid} on {host}" if pid and host else "another process"


def _alive(path: Path) -> bool:
    """Whether the lock file names a running process other than this one (elsewhere: assume so)."""
    try:
        text, _, host = path.read_text().strip().partition(" ")
        pid = int(text)
    except (OSError, ValueError):
        return False
    if host != socket.gethostname():
        return True
    if pid == os.getpid():
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class RunLock:
    """Hold the lock of ``directory`` while in the ``with`` block; refuse if another process does.

    Two locks on one directory exclude each other even within one process. The lock file is
    removed on release.
    """

    def __init__(self, directory: str | os.PathLike):
        self.path = Path(directory) / LOCK
        self.fd: int | None = None

    def acquire(self) -> None:
        """Take the lock (a stale one, whose holder died, is taken over) or raise RunInUse."""
        while self.fd is None:
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o666)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError as error:
                busy = error.errno in (errno.EWOULDBLOCK, errno.EAGAIN)
                if not busy and error.errno in NO_FLOCK and not _alive(self.path):
                    self._claim(fd)  # no flock on this file system: trust the pid it names
                    return
                os.close(fd)
                if not busy and error.errno not in NO_FLOCK:
                    raise
                raise RunInUse(f"'{self.path.parent}' is in use by {_holder(self.path)} "
                               f"(lock file {self.path}); wait for it to end or choose another "
                               f"directory") from None
            try:
                same = os.fstat(fd).st_ino == os.stat(self.path).st_ino
            except FileNotFoundError:  # its holder released and removed it meanwhile
                same = False
            if not same:
                os.close(fd)
                continue
            self._claim(fd)

    def _claim(self, fd: int) -> None:
        """Hold ``fd``, the lock file, writing this process into it."""
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()} {socket.gethostname()}\n".encode())
        self.fd = fd

    def release(self) -> None:
        """Remove the lock file and drop the lock (in that order: no one locks a removed file)."""
        if self.fd is not None:
            self.path.unlink(missing_ok=True)
            os.close(self.fd)
            self.fd = None

    def __enter__(self) -> RunLock:
        self.acquire()
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 traceback: TracebackType | None) -> None:
        self.release()


def hold(*directories: str | os.PathLike | None) -> ExitStack:
    """A context holding the lock of each distinct directory given (None entries are skipped)."""
    stack = ExitStack()
    seen: set[Path] = set()
    try:
        for directory in directories:
            if directory is not None and Path(directory).resolve() not in seen:
                seen.add(Path(directory).resolve())
                stack.enter_context(RunLock(directory))
    except BaseException:
        stack.close()
        raise
    return stack
