"""Redis-style log lines: ``pid:role dd Mon yyyy hh:mm:ss.mmm <level> message``.

Level marks follow Redis: ``.`` debug, ``-`` verbose, ``*`` notice, ``#`` warning.
"""

import logging
import os
import sys
import time

_MARKS = {
    logging.DEBUG: ".",
    15: "-",
    logging.INFO: "*",
    logging.WARNING: "#",
    logging.ERROR: "#",
    logging.CRITICAL: "#",
}
LEVELS = {"debug": logging.DEBUG, "verbose": 15, "notice": logging.INFO, "warning": logging.WARNING, "nothing": 100}


class RedisFormatter(logging.Formatter):
    def __init__(self, role: str = "M") -> None:
        super().__init__()
        self.role = role

    def format(self, record: logging.LogRecord) -> str:
        t = time.localtime(record.created)
        stamp = time.strftime("%d %b %Y %H:%M:%S", t) + ".%03d" % (record.msecs)
        text = f"{os.getpid()}:{self.role} {stamp} {_MARKS.get(record.levelno, '*')} {record.getMessage()}"
        if record.exc_info:
            text += "\n" + self.formatException(record.exc_info)
        return text


def configure(loglevel: str, logfile: str) -> None:
    logging.addLevelName(15, "VERBOSE")
    handler: logging.Handler
    handler = logging.FileHandler(logfile) if logfile else logging.StreamHandler(sys.stdout)
    handler.setFormatter(RedisFormatter())
    root = logging.getLogger("cacheflow")
    root.handlers[:] = [handler]
    root.setLevel(LEVELS.get(loglevel, logging.INFO))
    root.propagate = False


def set_level(loglevel: str) -> None:
    logging.getLogger("cacheflow").setLevel(LEVELS.get(loglevel, logging.INFO))
