"""``cacheflow-check-rdb FILE``: is this RDB file sound, and if not, where does it go wrong?

It reads the whole file with the same decoder the server loads with (every
record, every blob fully checked, the checksum verified) without keeping
anything, and prints in redis-check-rdb's manner: the AUX fields, the
checksum verdict and "RDB looks OK" with key counts, exit status 0; or
"RDB ERROR DETECTED" with the offset of the first bad record and what is
wrong with it, exit status 1.  Keys whose TTL has passed are counted, not
skipped, so the counts describe the file.
"""

import sys
import time
from collections.abc import Sequence

from cacheflow.config.schema import Config
from cacheflow.rdb.errors import RdbError
from cacheflow.rdb.snapshot import parse_snapshot

_ANY_DATABASE = 1 << 62


def check(path: str, out: list[str]) -> bool:
    """Check one file, appending report lines to ``out``; True when it is sound."""
    out.append(f"[offset 0] Checking RDB file {path}")
    try:
        with open(path, "rb") as f:
            data = f.read()
    except OSError as exc:
        out.append(f"Cannot open {path}: {exc.strerror}")
        return False
    now_ms = int(time.time() * 1000)
    try:
        report, staged = parse_snapshot(data, Config(), now_ms, _ANY_DATABASE, skip_expired=False)
    except RdbError as exc:
        out.append("--- RDB ERROR DETECTED ---")
        out.append(f"[offset {exc.offset}] {exc.message}")
        out.append(f"[info] file size {len(data)} bytes")
        return False
    out.append(f"[offset 9] RDB version {report.version}")
    for name, value in report.aux.items():
        out.append(f"AUX FIELD {_text(name)} = '{_text(value)}'")
    for code in report.functions:
        out.append(f"[info] a Redis Functions library ({len(code)} bytes) is present; CacheFlow does not load it")
    expired = sum(1 for _, expires in staged.values() for at in expires.values() if at < now_ms)
    if report.checksum:
        out.append(f"[offset {len(data)}] Checksum OK")
    else:
        out.append(f"[offset {len(data)}] No checksum (the file was written with rdbchecksum no)")
    out.append(f"[offset {len(data)}] \\o/ RDB looks OK! \\o/")
    out.append(f"[info] {report.keys_loaded} keys read")
    out.append(f"[info] {report.keys_with_ttl} expires")
    out.append(f"[info] {expired} already expired")
    if report.empty_skipped:
        out.append(f"[info] {report.empty_skipped} empty keys skipped")
    for index in sorted(staged):
        values, expires = staged[index]
        if values:
            out.append(f"[info] db{index}: {len(values)} keys, {len(expires)} with a TTL")
    return True


def _text(raw: bytes) -> str:
    return raw.decode("utf-8", "backslashreplace")


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if len(args) != 1 or args[0] in ("-h", "--help"):
        print("Usage: cacheflow-check-rdb <rdb-file-name>", file=sys.stderr)
        return 1
    out: list[str] = []
    ok = check(args[0], out)
    print("\n".join(out))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
