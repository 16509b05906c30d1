"""The multi-part AOF manifest, in Redis 7's format, and its atomic replacement.

The manifest names one base file and, after it, the incremental files in the
order they were written; files no longer needed are listed as history until
they are deleted.  One line per file::

    file appendonly.aof.1.base.aof seq 1 type b
    file appendonly.aof.1.incr.aof seq 1 type i

Names are written as Redis writes them (quoted with escapes only when they
need it) and parsed as Redis parses them (``sdssplitargs``: key/value pairs in
any order, ``#`` lines are comments).  Replacing the manifest is atomic: a
temporary file is written and fsynced, renamed over the manifest, and the
directory is fsynced, so a crash leaves either the old or the new manifest.

Invariants: at most one base; incremental sequence numbers strictly increase;
no name contains a path separator.
"""

import os
from dataclasses import dataclass, field

BASE = "b"
HISTORY = "h"
INCR = "i"
_MAX_LINE = 1024


class ManifestError(Exception):
    pass


@dataclass
class AofFile:
    name: str
    seq: int
    kind: str  # BASE, HISTORY or INCR


@dataclass
class Manifest:
    base: AofFile | None = None
    incrs: list[AofFile] = field(default_factory=list)
    history: list[AofFile] = field(default_factory=list)

    @property
    def base_seq(self) -> int:
        return self.base.seq if self.base is not None else 0

    @property
    def incr_seq(self) -> int:
        return self.incrs[-1].seq if self.incrs else 0

    def files(self) -> list[AofFile]:
        """The files to load, in order: the base, then the incrementals."""
        return ([self.base] if self.base is not None else []) + list(self.incrs)

    def copy(self) -> "Manifest":
        return Manifest(
            AofFile(self.base.name, self.base.seq, BASE) if self.base is not None else None,
            [AofFile(f.name, f.seq, f.kind) for f in self.incrs],
            [AofFile(f.name, f.seq, f.kind) for f in self.history],
        )

    def render(self) -> bytes:
        lines = []
        for f in self.files() + self.history:
            lines.append(f"file {_repr_name(f.name)} seq {f.seq} type {f.kind}\n")
        return "".join(lines).encode("utf-8", "surrogateescape")


def base_name(prefix: str, seq: int, rdb: bool = False) -> str:
    return f"{prefix}.{seq}.base.{'rdb' if rdb else 'aof'}"


def incr_name(prefix: str, seq: int) -> str:
    return f"{prefix}.{seq}.incr.aof"


def manifest_name(prefix: str) -> str:
    return f"{prefix}.manifest"


def parse(text: bytes) -> Manifest:
    """Parse manifest text; raises ManifestError with Redis's wording on bad input."""
    m = Manifest()
    if not text:
        raise ManifestError("Found an empty AOF manifest")
    last_incr = 0
    for raw in text.split(b"\n"):
        if not raw or raw.startswith(b"#"):
            continue
        if len(raw) > _MAX_LINE:
            raise ManifestError("The AOF manifest file contains too long line")
        args = _split_args(raw.decode("utf-8", "surrogateescape"))
        if args is None or len(args) < 6 or len(args) % 2:
            raise ManifestError("Invalid AOF manifest file format")
        info: dict[str, str] = {}
        for k, v in zip(args[::2], args[1::2]):
            info[k] = v
        name, seq_text, kind = info.get("file"), info.get("seq"), info.get("type")
        if not name or not seq_text or kind not in (BASE, HISTORY, INCR):
            raise ManifestError("Invalid AOF manifest file format")
        if "/" in name or name in (".", ".."):
            raise ManifestError("File can't be a path, just a filename")
        try:
            seq = int(seq_text)
        except ValueError:
            raise ManifestError("Invalid AOF manifest file format") from None
        entry = AofFile(name, seq, kind)
        if kind == BASE:
            if m.base is not None:
                raise ManifestError("Found duplicate base file information")
            m.base = entry
        elif kind == HISTORY:
            m.history.append(entry)
        else:
            if seq <= last_incr:
                raise ManifestError("Found a non-monotonic sequence number")
            last_incr = seq
            m.incrs.append(entry)
    if m.base is None and not m.incrs and not m.history:
        raise ManifestError("Found an empty AOF manifest")
    return m


def load(directory: str, prefix: str) -> Manifest | None:
    """The manifest in ``directory``, or None when there is none."""
    path = os.path.join(directory, manifest_name(prefix))
    try:
        with open(path, "rb") as f:
            text = f.read()
    except FileNotFoundError:
        return None
    return parse(text)


def persist(directory: str, prefix: str, manifest: Manifest) -> None:
    """Replace the manifest atomically: write a temporary file, fsync, rename, fsync the directory."""
    tmp = os.path.join(directory, "temp-" + manifest_name(prefix))
    final = os.path.join(directory, manifest_name(prefix))
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    try:
        data = manifest.render()
        view = memoryview(data)
        while view:
            n = os.write(fd, view)
            view = view[n:]
        os.fsync(fd)
    finally:
        os.close(fd)
    os.replace(tmp, final)
    fsync_dir(directory)


def fsync_dir(directory: str) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _repr_name(name: str) -> str:
    """The name as Redis writes it: bare unless it has spaces, quotes or unprintable bytes."""
    if name and all(33 <= ord(c) < 127 and c not in "\"'\\" for c in name):
        return name
    out = ['"']
    for c in name.encode("utf-8", "surrogateescape"):
        ch = chr(c)
        if ch in '\\"':
            out.append("\\" + ch)
        elif ch == "\n":
            out.append("\\n")
        elif ch == "\r":
            out.append("\\r")
        elif ch == "\t":
            out.append("\\t")
        elif 32 <= c < 127:
            out.append(ch)
        else:
            out.append(f"\\x{c:02x}")
    out.append('"')
    return "".join(out)


def _split_args(line: str) -> list[str] | None:
    """Redis's sdssplitargs: whitespace-separated words, "double" (escapes) and 'single' quotes."""
    args: list[str] = []
    i, n = 0, len(line)
    escapes = {"n": "\n", "r": "\r", "t": "\t", "b": "\b", "a": "\a"}
    while True:
        while i < n and line[i].isspace():
            i += 1
        if i >= n:
            return args
        cur: list[str] = []
        if line[i] == '"':
            i += 1
            while True:
                if i >= n:
                    return None
                c = line[i]
                if c == "\\" and i + 3 < n and line[i + 1] == "x" and _is_hex(line[i + 2 : i + 4]):
                    cur.append(chr(int(line[i + 2 : i + 4], 16)))
                    i += 4
                    continue
                if c == "\\" and i + 1 < n:
                    cur.append(escapes.get(line[i + 1], line[i + 1]))
                    i += 2
                    continue
                if c == '"':
                    i += 1
                    if i < n and not line[i].isspace():
                        return None
                    break
                cur.append(c)
                i += 1
            raw = "".join(cur).encode("latin-1", "surrogateescape")
            args.append(raw.decode("utf-8", "surrogateescape"))
        elif line[i] == "'":
            i += 1
            while True:
                if i >= n:
                    return None
                c = line[i]
                if c == "\\" and i + 1 < n and line[i + 1] == "'":
                    cur.append("'")
                    i += 2
                    continue
                if c == "'":
                    i += 1
                    if i < n and not line[i].isspace():
                        return None
                    break
                cur.append(c)
                i += 1
            args.append("".join(cur))
        else:
            while i < n and not line[i].isspace():
                cur.append(line[i])
                i += 1
            args.append("".join(cur))


def _is_hex(s: str) -> bool:
    return len(s) == 2 and all(c in "0123456789abcdefABCDEF" for c in s)
