"""Split an inline command line into arguments exactly as Redis's sdssplitargs does.

Rules (from Redis's documented behaviour): whitespace separates arguments; a
double quote starts a quoted section that understands \\n \\r \\t \\b \\a \\xHH and
backslash-escaped characters; a single quote starts a section where only \\' is
special; a closing quote must be followed by whitespace or the end of the line;
an unterminated quote is an error (``None`` is returned).  Leading blanks are
C's ``isspace`` set, but an unquoted argument ends only at space, tab, CR or LF,
and a NUL byte ends the whole line, as the C implementation reads a C string.
"""

# C's isspace(): what is skipped between arguments and may follow a closing quote.
_SPACE = frozenset(b" \n\r\t\v\f")
# What ends an unquoted argument: sdssplitargs stops only at these (not at \v or \f).
_TOKEN_END = frozenset(b" \n\r\t")
_HEX = b"0123456789abcdefABCDEF"
_ESCAPES = {ord("n"): 10, ord("r"): 13, ord("t"): 9, ord("b"): 8, ord("a"): 7}


def split_inline_args(line: bytes) -> list[bytes] | None:
    """Return the arguments of ``line``, or None when quotes are unbalanced."""
    args: list[bytes] = []
    nul = line.find(b"\x00")
    if nul >= 0:  # sdssplitargs reads a C string: a NUL ends the line
        line = line[:nul]
    i = 0
    n = len(line)
    while True:
        while i < n and line[i] in _SPACE:
            i += 1
        if i >= n:
            return args
        current = bytearray()
        in_dq = False
        in_sq = False
        while True:
            if in_dq:
                if i >= n:
                    return None
                c = line[i]
                if c == 92 and i + 3 < n and line[i + 1] == ord("x") and line[i + 2] in _HEX and line[i + 3] in _HEX:
                    current.append(int(line[i + 2 : i + 4], 16))
                    i += 3
                elif c == 92 and i + 1 < n:
                    i += 1
                    e = line[i]
                    current.append(_ESCAPES.get(e, e))
                elif c == 34:
                    if i + 1 < n and line[i + 1] not in _SPACE:
                        return None
                    in_dq = False
                    i += 1
                    break
                else:
                    current.append(c)
            elif in_sq:
                if i >= n:
                    return None
                c = line[i]
                if c == 92 and i + 1 < n and line[i + 1] == 39:
                    i += 1
                    current.append(39)
                elif c == 39:
                    if i + 1 < n and line[i + 1] not in _SPACE:
                        return None
                    in_sq = False
                    i += 1
                    break
                else:
                    current.append(c)
            else:
                if i >= n:
                    break
                c = line[i]
                if c in _TOKEN_END:
                    break
                if c == 34:
                    in_dq = True
                elif c == 39:
                    in_sq = True
                else:
                    current.append(c)
            i += 1
        args.append(bytes(current))
