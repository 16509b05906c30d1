"""``cacheflow-check-aof [--fix] FILE|MANIFEST``: find the first bad frame of an AOF, and optionally cut it off.

Given a manifest, every file it names is checked in load order (base, then
incrementals); given one file, that file.  An RDB base (``aof-use-rdb-preamble
yes``) is decoded whole by ``cacheflow.rdb.snapshot.parse_snapshot``, the
decoder the server loads it with, checksum included.  The first problem is reported with
the file, the byte offset and the reason.  ``--fix`` truncates at the last good
entry (before an open MULTI), after saying how many bytes and entries it
drops; as with redis-check-aof, only the last file of a manifest can be fixed,
because cutting an earlier file would lose everything after it.

Exit status: 0 when the AOF is valid (or was fixed), 1 otherwise.
"""

import os
import sys
import time

from cacheflow.config.schema import Config
from cacheflow.persistence import frames
from cacheflow.persistence import manifest as mf
from cacheflow.persistence.recovery import FileReport, scan
from cacheflow.rdb.errors import RdbError
from cacheflow.rdb.snapshot import parse_snapshot

USAGE = "Usage: cacheflow-check-aof [--fix] <file.manifest|file.aof>"
_ANY_DATABASE = 1 << 62  # the checker does not know the server's `databases`: accept any index


def dropped_entries(data: bytes, report: FileReport) -> int:
    """Entries lost by truncating at ``report.valid_up_to``: the open MULTI's, the bad one, any valid ones after."""
    count = 0
    pos = report.valid_up_to
    while pos < report.bad_offset:  # entries of an open MULTI before the bad point
        try:
            _, pos = frames.decode_frame(data, pos)
            count += 1
        except (frames.BadFrame, frames.Torn):
            break
    if report.bad_offset < len(data) and not (report.torn and report.bad_offset == report.valid_up_to and count):
        count += 1  # the bad (or torn) frame itself
    pos = report.bad_offset
    while True:
        later = frames.later_valid_frame(data, pos)
        if later is None:
            break
        count += 1
        pos = later
    return count


def check_rdb_base(name: str, data: bytes, out: list[str]) -> int | None:
    """Check an RDB base or preamble (``aof-use-rdb-preamble yes``) with the decoder the server loads it
    with: where the RDB ends (a command tail may follow), or None when it is bad.

    Every record and blob is decoded and the checksum verified.  Truncation
    cannot repair an RDB file (everything after the bad record would be lost
    and the checksum would no longer match), so ``--fix`` does not touch it.
    """
    out.append(f"[offset 0] Checking RDB file {name}")
    try:
        report, _ = parse_snapshot(data, Config(), int(time.time() * 1000), _ANY_DATABASE, skip_expired=False)
    except RdbError as e:
        out.append("--- RDB ERROR DETECTED ---")
        out.append(f"First bad entry in {name}: {e.message} (byte offset {e.offset})")
        out.append(f"RDB preamble of AOF file {name} is not sane, aborting.")
        return None
    checksum = "Checksum OK" if report.checksum else "No checksum (written with rdbchecksum no)"
    out.append(f"[offset {report.end}] RDB version {report.version}, {checksum}")
    out.append(f"[info] {report.keys_loaded} keys read, {report.keys_with_ttl} with a TTL")
    out.append("RDB preamble is OK, proceeding with AOF tail...")
    return report.end


def check_file(path: str, fix: bool, can_fix: bool, out: list[str]) -> bool:
    """Check one file; True when it is (now) valid."""
    name = os.path.basename(path)
    with open(path, "rb") as f:
        data = f.read()
    start = 0
    if data.startswith(b"REDIS"):
        end = check_rdb_base(name, data, out)
        if end is None:
            return False
        start = end
    _, report = scan(data, path, start)
    out.append(
        f"AOF analyzed: filename={name}, size={report.size}, ok_up_to={report.valid_up_to}, "
        f"entries={report.entries}, diff={report.size - report.valid_up_to}"
    )
    if report.problem is None:
        out.append(f"AOF {name} is valid")
        return True
    out.append(f"First bad entry in {name}: {report.problem} (byte offset {report.bad_offset})")
    if not fix:
        out.append(f"AOF {name} is not valid. Use the --fix option to try fixing it.")
        return False
    if not can_fix:
        out.append(f"AOF {name} is not the last file of the manifest and cannot be truncated: fix it by hand.")
        return False
    dropped = report.size - report.valid_up_to
    entries = dropped_entries(data, report)
    out.append(
        f"Truncating {name} at byte offset {report.valid_up_to}: dropping {dropped} bytes and {entries} "
        f"{'entry' if entries == 1 else 'entries'} (from {report.size} to {report.valid_up_to} bytes)"
    )
    os.truncate(path, report.valid_up_to)
    out.append(f"Successfully truncated AOF {name}")
    return True


def run(argv: list[str]) -> tuple[int, list[str]]:
    out: list[str] = []
    args = [a for a in argv if a != "--fix"]
    fix = len(args) != len(argv)
    if len(args) != 1 or args[0].startswith("-"):
        return 1, [USAGE]
    target = args[0]
    if not os.path.isfile(target):
        return 1, [f"Cannot open file {target}: No such file or directory"]
    with open(target, "rb") as f:
        head = f.read(64)
    if target.endswith(".manifest") or head.startswith(b"file "):
        try:
            with open(target, "rb") as f:
                m = mf.parse(f.read())
        except mf.ManifestError as e:
            return 1, [f"Invalid manifest {target}: {e}"]
        directory = os.path.dirname(os.path.abspath(target))
        files = m.files()
        out.append(f"Start checking Multi Part AOF ({len(files)} files)")
        for i, entry in enumerate(files):
            path = os.path.join(directory, entry.name)
            kind = "BASE" if entry.kind == mf.BASE else "INCR"
            rdb = kind == "BASE" and _starts_with_rdb_magic(os.path.join(directory, entry.name))
            out.append(f"Start to check {kind} AOF {entry.name}{' (RDB format)' if rdb else ''}")
            if not os.path.isfile(path):
                out.append(f"Cannot open file {path}: No such file or directory")
                return 1, out
            if not check_file(path, fix, i == len(files) - 1, out):
                return 1, out
        out.append("All AOF files and manifest are valid")
        return 0, out
    ok = check_file(target, fix, True, out)
    return (0 if ok else 1), out


def _starts_with_rdb_magic(path: str) -> bool:
    try:
        with open(path, "rb") as f:
            return f.read(5) == b"REDIS"
    except OSError:
        return False


def main(argv: list[str] | None = None) -> int:
    code, lines = run(sys.argv[1:] if argv is None else argv)
    for line in lines:
        print(line)
    return code


if __name__ == "__main__":
    sys.exit(main())
