"""Turn a command's one-line ``syntax`` into the ``arguments`` tree COMMAND DOCS returns.

The syntax string is the one declaration of a command's arguments; this module
derives Redis's structure from it so nobody maintains a second, hand-written
argument list.  The notation is the one redis.io prints:

- ``name`` (lower case, may contain ``-``, ``:``, ``/``...) is an argument; its
  type is inferred from the name (``key``, ``pattern``, ``count``...).  When the
  name does not tell, annotate it: ``increment:double``.  Only a known type
  after the last colon is an annotation, so ``ip:port`` stays a name.
- A word without lower-case letters (``NX``, ``WITHSCORES``, ``*``) is a token.
  Followed by an argument or a group it becomes that argument's ``token``;
  alone it is a ``pure-token``.
- ``[ ... ]`` is optional; ``<...>`` or ``(...)`` groups without making optional.
- ``a|b`` separates alternatives of the innermost enclosing group (or of the
  whole syntax): ``[NX|XX]`` is an optional one-of.  Inside a longer group,
  bracket the alternatives: ``[TYPE <NORMAL|MASTER>]``.
- ``x [x ...]`` repeats ``x`` (``multiple``); ``TOKEN x [TOKEN x ...]`` also sets
  ``multiple_token``; ``[x ...]`` alone is an optional repetition.
- Inside a group, a token followed by two or more arguments heads a ``block``
  (``[AUTH username password]``).
- ``TOKEN=name`` names a pure token when Redis's name is not the token in lower
  case (ZADD's ``[CH=change]``, SORT's ``[ALPHA=sorting]``).
- ``name@N`` ties an argument to key spec N (COMMAND DOCS ``key_spec_index``).
  Key arguments need it only when Redis's numbering is not the plain one (see
  ``number_key_args``): SORT's ``BY pattern@1`` points a pattern at a spec.

Blocks and one-ofs have no name in the syntax; they are named by joining their
children's names with ``_`` (``nx_xx``), the convention Redis itself uses for
many of its own (``nosave_save``, ``on_off_skip``).
"""

import re
from dataclasses import dataclass, field

# Types an argument name may be annotated with (``name:type``).
ARG_TYPES = frozenset({"string", "integer", "double", "key", "pattern", "unix-time"})

_KEY_NAMES = frozenset({"key", "newkey", "source", "destination", "destkey", "srckey", "sourcekey"})
_INTEGER_NAMES = frozenset(
    {
        "count",
        "seconds",
        "milliseconds",
        "timeout",
        "index",
        "start",
        "stop",
        "end",
        "offset",
        "db",
        "port",
        "numkeys",
        "numerator",
        "client-id",
        "protover",
        "cursor",
        "number",
        "increment",
        "decrement",
        "length",
        "ttl",
        "limit",
        "position",
        "destination-db",
        "samples",
    }
)
_NUMBERED_INTEGER = re.compile(r"(?:index|db|count)\d+")
_DOUBLE_NAMES = frozenset({"score", "longitude", "latitude", "radius", "width", "height"})


class SyntaxSpecError(ValueError):
    """A declared syntax string that cannot be parsed (a bug in a declaration)."""


@dataclass(slots=True)
class Arg:
    """One node of COMMAND DOCS ``arguments``."""

    name: str
    type: str  # key, string, integer, double, pattern, unix-time, pure-token, oneof, block
    token: str | None = None
    optional: bool = False
    multiple: bool = False
    multiple_token: bool = False
    args: list["Arg"] = field(default_factory=list)
    key_spec: int | None = None  # COMMAND DOCS key_spec_index

    @property
    def flags(self) -> list[str]:
        out = []
        if self.optional:
            out.append("optional")
        if self.multiple:
            out.append("multiple")
        if self.multiple_token:
            out.append("multiple_token")
        return out

    def as_dict(self) -> dict[str, object]:
        """Plain structure, handy for tests and for printing."""
        d: dict[str, object] = {"name": self.name, "type": self.type}
        if self.key_spec is not None:
            d["key_spec_index"] = self.key_spec
        if self.token is not None:
            d["token"] = self.token
        if self.flags:
            d["flags"] = self.flags
        if self.args:
            d["arguments"] = [a.as_dict() for a in self.args]
        return d


# -- lexing ----------------------------------------------------------------------

_OPEN = {"[": "]", "<": ">", "(": ")"}
_SPECIAL = frozenset("[]<>()|")


def _lex(syntax: str) -> list[str]:
    out: list[str] = []
    i = 0
    n = len(syntax)
    while i < n:
        c = syntax[i]
        if c.isspace():
            i += 1
        elif c in _SPECIAL:
            out.append(c)
            i += 1
        else:
            j = i
            while j < n and not syntax[j].isspace() and syntax[j] not in _SPECIAL:
                j += 1
            out.append(syntax[i:j])
            i = j
    return out


# -- raw tree ----------------------------------------------------------------------


@dataclass(slots=True)
class _Group:
    optional: bool
    alternatives: list[list["_Item"]]

    def key(self) -> str:
        inner = "|".join(" ".join(_item_key(i) for i in alt) for alt in self.alternatives)
        return ("[" if self.optional else "<") + inner + ("]" if self.optional else ">")


@dataclass(slots=True)
class _Repeat:
    """``unit [unit ...]`` (``optional`` False) or ``[unit ...]`` alone (True)."""

    unit: list["_Item"]
    optional: bool


_Item = str | _Group | _Repeat
_ELLIPSIS = "..."


def _item_key(item: _Item) -> str:
    if isinstance(item, str):
        return item
    if isinstance(item, _Group):
        return item.key()
    return "{" + " ".join(_item_key(i) for i in item.unit) + " ...}"


_NAMED_TOKEN = re.compile(r"(.+?)=([a-z][a-z0-9_-]*)")


def _token_parts(word: str) -> tuple[str, str]:
    """A token word's text and the name of its pure-token: ``CH=change`` names CH "change"."""
    named = _NAMED_TOKEN.fullmatch(word)
    if named is not None:
        return named.group(1), named.group(2)
    return word, word.lower()


def _is_token(item: _Item) -> bool:
    if not isinstance(item, str) or item == _ELLIPSIS:
        return False
    return not any(c.islower() for c in _token_parts(item)[0])


def _pure_token(word: str) -> Arg:
    token, name = _token_parts(word)
    return Arg(name, "pure-token", token=token)


class _Parser:
    def __init__(self, syntax: str) -> None:
        self.syntax = syntax
        self.tokens = _lex(syntax)
        self.pos = 0

    def fail(self, why: str) -> SyntaxSpecError:
        return SyntaxSpecError(f"{why} in syntax {self.syntax!r}")

    def alternatives(self, closer: str | None) -> list[list[_Item]]:
        alts: list[list[_Item]] = [[]]
        while True:
            if self.pos >= len(self.tokens):
                if closer is not None:
                    raise self.fail(f"missing {closer!r}")
                return alts
            tok = self.tokens[self.pos]
            self.pos += 1
            if tok == closer:
                return alts
            if tok == "|":
                alts.append([])
            elif tok in _OPEN:
                inner = self.alternatives(_OPEN[tok])
                alts[-1].append(_Group(tok == "[", inner))
            elif tok in _SPECIAL:
                raise self.fail(f"unexpected {tok!r}")
            else:
                alts[-1].append(tok)


def _fold_repeats(items: list[_Item]) -> list[_Item]:
    """Turn ``x [x ...]`` and ``[x ...]`` into _Repeat items."""
    out: list[_Item] = []
    for item in items:
        if (
            isinstance(item, _Group)
            and item.optional
            and len(item.alternatives) == 1
            and item.alternatives[0]
            and item.alternatives[0][-1] == _ELLIPSIS
        ):
            unit = _fold_repeats(item.alternatives[0][:-1])
            k = len(unit)
            if k and len(out) >= k and [_item_key(i) for i in out[-k:]] == [_item_key(i) for i in unit]:
                del out[-k:]
                out.append(_Repeat(unit, optional=False))
            else:
                out.append(_Repeat(unit, optional=True))
        else:
            out.append(item)
    return out


# -- building Redis's structure ---------------------------------------------------------


def _infer_type(name: str) -> str:
    if name in _KEY_NAMES:
        return "key"
    if name == "pattern":
        return "pattern"
    if name.startswith("unix-time"):
        return "unix-time"
    if name in _INTEGER_NAMES or _NUMBERED_INTEGER.fullmatch(name):
        return "integer"
    if name in _DOUBLE_NAMES:
        return "double"
    return "string"


_KEY_SPEC_MARK = re.compile(r"@(\d+)$")


def _word_arg(word: str) -> Arg:
    key_spec = None
    mark = _KEY_SPEC_MARK.search(word)
    if mark is not None and mark.start() > 0:
        key_spec = int(mark.group(1))
        word = word[: mark.start()]
    name, sep, annotation = word.rpartition(":")
    if sep and name and annotation in ARG_TYPES:
        return Arg(name, annotation, key_spec=key_spec)
    return Arg(word, _infer_type(word), key_spec=key_spec)


def _joined(args: list[Arg]) -> str:
    return "_".join(a.name for a in args)


def _single(args: list[Arg]) -> Arg:
    """One argument for a group's content: itself, or a block around several."""
    if len(args) == 1:
        return args[0]
    return Arg(_joined(args), "block", args=args)


def _group_arg(group: _Group) -> Arg:
    alts = [_single(_sequence(alt, grouped=True)) for alt in group.alternatives if alt]
    if not alts:
        raise SyntaxSpecError("empty group")
    arg = alts[0] if len(alts) == 1 else Arg(_joined(alts), "oneof", args=alts)
    if group.optional:
        arg.optional = True
    return arg


def _repeat_arg(rep: _Repeat) -> Arg:
    unit = _sequence(rep.unit, grouped=True)
    arg = _single(unit)
    if arg.token is not None and _is_token(rep.unit[0]):
        arg.multiple_token = True
    arg.multiple = True
    if rep.optional:
        arg.optional = True
    return arg


def _item_arg(item: _Item) -> Arg:
    if isinstance(item, _Group):
        return _group_arg(item)
    if isinstance(item, _Repeat):
        return _repeat_arg(item)
    if _is_token(item):
        return _pure_token(item)
    return _word_arg(item)


def _sequence(items: list[_Item], grouped: bool) -> list[Arg]:
    if any(i == _ELLIPSIS for i in items):
        raise SyntaxSpecError("'...' outside a repetition")
    items = _fold_repeats(items)
    if grouped and len(items) >= 3 and _is_token(items[0]) and not _is_token(items[1]):
        head = items[0]
        assert isinstance(head, str)
        children = _sequence(items[1:], grouped=False)
        return [Arg(_joined(children), "block", token=_token_parts(head)[0], args=children)]
    out: list[Arg] = []
    i = 0
    while i < len(items):
        item = items[i]
        nxt = items[i + 1] if i + 1 < len(items) else None
        if _is_token(item) and nxt is not None and not _is_token(nxt):
            assert isinstance(item, str)
            arg = _item_arg(nxt)
            if arg.token is not None:  # the next item has its own token: keep both
                out.append(_pure_token(item))
                i += 1
                continue
            arg.token = _token_parts(item)[0]
            out.append(arg)
            i += 2
            continue
        out.append(_item_arg(item))
        i += 1
    return out


def parse_syntax(syntax: str) -> list[Arg]:
    """The ``arguments`` of a command whose syntax (without its name) is ``syntax``."""
    if not syntax.strip():
        return []
    parser = _Parser(syntax)
    alts = parser.alternatives(None)
    if len(alts) > 1:
        args = [_group_arg(_Group(False, alts))]
    else:
        args = _sequence(alts[0], grouped=False)
    return args


def number_key_args(args: list[Arg], spec_count: int) -> list[Arg]:
    """Give every key argument its ``key_spec`` the way Redis numbers them, and return ``args``.

    Key arguments refer to the key specs in order of appearance: the first to
    spec 0, the next to spec 1 and so on (RENAME's key and newkey, ZUNIONSTORE's
    destination and keys), an argument marked ``@N`` to spec N, after which the
    count resumes past N (SORT: key 0, patterns 1, STORE destination 2).  A command
    with fewer specs than key arguments points the extra ones at its last spec
    (LCS: key1 and key2 both at 0).
    """
    following = 0
    last = max(spec_count - 1, 0)

    def walk(items: list[Arg]) -> None:
        nonlocal following
        for arg in items:
            if arg.key_spec is not None:
                following = max(following, arg.key_spec + 1)
            elif arg.type == "key":
                arg.key_spec = min(following, last)
                following += 1
            walk(arg.args)

    walk(args)
    return args


_ANNOTATION = re.compile(
    r"(?<=[^\s\[\]<>()|])(?::(?:" + "|".join(sorted(ARG_TYPES)) + r"))?(?:@\d+)?(?=$|[\s\[\]<>()|])"
)


_TOKEN_NAME = re.compile(r"(?<=[^\s\[\]<>()|])=[a-z][a-z0-9_-]*(?=$|[\s\[\]<>()|])")


def display_syntax(syntax: str) -> str:
    """The syntax as users read it: type annotations, key-spec marks and token names removed."""
    return _TOKEN_NAME.sub("", _ANNOTATION.sub("", syntax))
