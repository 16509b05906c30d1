"""Persistent line history in redis-cli's file format: one command per line.

Keeping linenoise's plain format (rather than prompt_toolkit's timestamped
one) lets a user carry a ~/.rediscli_history over.  Like redis-cli, lines
that carry a password are neither kept nor written, the file is private to
its owner, and it holds the most recent ``max_len`` lines.
"""

import os
from collections.abc import Iterable

from prompt_toolkit.history import History

from cacheflow.resp.inline import split_inline_args

HISTFILE_ENV = "CACHEFLOWCLI_HISTFILE"
HISTFILE_DEFAULT = ".cacheflowcli_history"
MAX_LEN = 100


def history_path() -> str | None:
    """The history file: $CACHEFLOWCLI_HISTFILE, else ~/.cacheflowcli_history; /dev/null means none."""
    override = os.environ.get(HISTFILE_ENV)
    if override:
        return None if override == "/dev/null" else override
    home = os.environ.get("HOME")
    if home:
        return os.path.join(home, HISTFILE_DEFAULT)
    return None


def is_sensitive(line: str) -> bool:
    """Whether ``line`` carries a password (AUTH, ACL SETUSER, HELLO ... AUTH, ...)."""
    args = split_inline_args(line.encode("utf-8", "surrogateescape"))
    if not args:
        return False
    words = [a.lower() for a in args]
    if len(words) > 1 and words[0].isdigit():
        words = words[1:]
    first = words[0]
    if first == b"auth":
        return True
    if first == b"acl" and len(words) > 1 and words[1] == b"setuser":
        return True
    if first in (b"hello", b"migrate") and (b"auth" in words[1:] or b"auth2" in words[1:]):
        return True
    return (
        first == b"config"
        and len(words) > 2
        and words[1] == b"set"
        and any(w in (b"masterauth", b"masteruser", b"requirepass") for w in words[2:])
    )


class LineHistory(History):
    """prompt_toolkit history backed by a plain-text file (or by nothing when ``path`` is None)."""

    def __init__(self, path: str | None, max_len: int = MAX_LEN) -> None:
        super().__init__()
        self.path = path
        self.max_len = max_len
        self._lines: list[str] | None = None  # oldest first; None until the file is read

    def _read(self) -> list[str]:
        if self._lines is None:
            lines: list[str] = []
            if self.path is not None:
                try:
                    with open(self.path, encoding="utf-8", errors="surrogateescape") as f:
                        lines = [line.rstrip("\r\n") for line in f]
                except OSError:
                    lines = []
            self._lines = [line for line in lines if line][-self.max_len :]
        return self._lines

    def load_history_strings(self) -> Iterable[str]:
        return list(reversed(self._read()))

    def append_string(self, string: str) -> None:
        lines = self._read()
        if is_sensitive(string) or (lines and lines[-1] == string):
            return
        super().append_string(string)

    def store_string(self, string: str) -> None:
        lines = self._read()
        lines.append(string)
        del lines[: -self.max_len]
        if self.path is None:
            return
        try:
            fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "w", encoding="utf-8", errors="surrogateescape") as f:
                f.writelines(line + "\n" for line in lines)
            os.chmod(self.path, 0o600)
        except OSError:
            pass
