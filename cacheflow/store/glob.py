"""Redis's glob matching (stringmatchlen), compiled to regular expressions.

Supported: ``*``, ``?``, ``[abc]``, ``[^abc]``, ``[a-z]`` (reversed ranges are
swapped), backslash escapes inside and outside brackets, an unterminated ``[``
acting as a class that runs to the end of the pattern, and a trailing lone
backslash matching itself.  Patterns are compiled once and cached because KEYS
and SCAN apply one pattern to many keys.

Matching stays linear in pattern length times key length, as Redis's matcher
does: the pattern is cut at its stars into fixed-width segments, and every
segment but the last is matched at its earliest position inside an atomic
group, so the regex engine never backtracks into an earlier star (a naive
``.*a.*a.*b`` translation is exponential on long keys).
"""

import re
from collections.abc import Callable
from functools import lru_cache


def _byte(c: int) -> bytes:
    return b"\\x%02x" % c


def _segments(pattern: bytes) -> list[bytes]:
    """Regex pieces for the fixed-width runs between unescaped stars."""
    segments: list[bytes] = []
    out = bytearray()
    i = 0
    n = len(pattern)
    while i < n:
        c = pattern[i]
        if c == 42:  # '*'
            segments.append(bytes(out))
            out = bytearray()
        elif c == 63:  # '?'
            out += b"."
        elif c == 92:  # '\\'
            if i + 1 < n:
                i += 1
            out += _byte(pattern[i])
        elif c == 91:  # '['
            i += 1
            negate = i < n and pattern[i] == 94
            if negate:
                i += 1
            members = bytearray()
            while True:
                if i < n and pattern[i] == 92 and n - i >= 2:
                    i += 1
                    members += _byte(pattern[i])
                elif i < n and pattern[i] == 93:
                    break
                elif i >= n:
                    break
                elif n - i >= 3 and pattern[i + 1] == 45:
                    lo, hi = pattern[i], pattern[i + 2]
                    if lo > hi:
                        lo, hi = hi, lo
                    members += _byte(lo) + b"-" + _byte(hi)
                    i += 2
                else:
                    members += _byte(pattern[i])
                i += 1
            if members:
                out += (b"[^" if negate else b"[") + members + b"]"
            else:
                out += b"." if negate else b"(?!)"
        else:
            out += _byte(c)
        i += 1
    segments.append(bytes(out))
    return segments


def _translate(pattern: bytes) -> bytes:
    segments = _segments(pattern)
    if len(segments) == 1:
        return segments[0]
    middle = b"".join(b"(?>.*?" + seg + b")" for seg in segments[1:-1] if seg)
    return segments[0] + middle + b".*" + segments[-1]


@lru_cache(maxsize=256)
def compile_glob(pattern: bytes, nocase: bool = False) -> Callable[[bytes], bool]:
    """Return a predicate telling whether a whole key matches ``pattern``.

    An empty key matches only ``*`` (the match-all shortcut KEYS, SCAN and
    the rest take before matching) and the empty pattern: Redis's matcher
    never enters its loop for an empty string, so even ``**`` fails there.
    """
    if pattern == b"*":
        return lambda _key: True
    if not pattern:
        return lambda key: not key
    flags = re.DOTALL | (re.IGNORECASE if nocase else 0)
    matcher = re.compile(_translate(pattern), flags).fullmatch
    return lambda key: bool(key) and matcher(key) is not None


def glob_match(pattern: bytes, key: bytes, nocase: bool = False) -> bool:
    return compile_glob(pattern, nocase)(key)
