"""The AOF's background fsync thread under ``appendfsync everysec`` (persistence/aof.py says why
``always`` fsyncs on the loop thread instead).

Its own module because it subclasses ``threading.Thread``: aof.py is compiled by
mypyc (scripts/build_native.py), and a compiled class cannot subclass an
interpreted one.  The thread reads the writer's ``written``/``fd`` under its
condition and reports the offset it covered back to the loop thread with
``call_soon_threadsafe``; it never touches the writer's buffers.
"""

import os
import threading
import time
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from cacheflow.persistence.aof import AofWriter


class FsyncThread(threading.Thread):
    """The background fsync: at most once a second, whenever something was written since the last one."""

    def __init__(self, writer: "AofWriter") -> None:
        super().__init__(name="aof-fsync", daemon=True)
        self.writer = writer
        self.cond = threading.Condition()
        self.in_progress = False
        self.stopping = False
        self.done = 0  # the offset covered by the last fsync this thread did
        self.last_start = 0.0
        self.pending = False  # set by kick (a wake-up), cleared when the thread finds nothing to sync

    def kick(self) -> None:
        with self.cond:
            self.pending = True
            self.cond.notify_all()

    def stop(self) -> None:
        with self.cond:
            self.stopping = True
            self.cond.notify_all()
        self.join(5)

    def quiesce(self) -> "_Quiet":
        """A context in which no fsync runs (for swapping the file descriptor)."""
        return _Quiet(self)

    def run(self) -> None:
        w = self.writer
        cond = self.cond
        while True:
            with cond:
                while True:
                    if self.stopping:
                        return
                    if w.written > self.done and w.fd >= 0 and not w.fsync_paused():
                        wait = 1.0 - (time.monotonic() - self.last_start)
                        if wait <= 0:
                            break
                        cond.wait(wait)
                        continue
                    self.pending = False
                    cond.wait(1.0)
                fd = w.fd
                target = w.written
                self.in_progress = True
                self.last_start = time.monotonic()
            error: OSError | None = None
            try:
                os.fdatasync(fd)
            except OSError as e:
                error = e
            with cond:
                self.in_progress = False
                if error is None:
                    self.done = max(self.done, target)
                cond.notify_all()
            try:
                w.loop.call_soon_threadsafe(w.synced_to, target, error)
            except RuntimeError:  # the loop is closed: the server is exiting
                return


class _Quiet:
    def __init__(self, syncer: FsyncThread) -> None:
        self.syncer = syncer

    def __enter__(self) -> None:
        s = self.syncer
        s.cond.acquire()
        while s.in_progress:
            s.cond.wait()

    def __exit__(self, *exc: object) -> None:
        self.syncer.cond.release()
