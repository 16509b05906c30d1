"""COMMAND and its subcommands: everything is read off the command table.

COMMAND INFO, DOCS, COUNT, LIST and GETKEYS answer from the declarations in
``table.py``; COMMAND DOCS derives ``arguments`` from each declaration's
``syntax`` (see ``docs_syntax``).  Nothing here lists commands by hand, so a
new command shows up everywhere as soon as it is declared.
"""

from collections.abc import Iterable

from cacheflow.commands import errors
from cacheflow.commands.context import Context
from cacheflow.commands.docs_syntax import Arg, number_key_args, parse_syntax
from cacheflow.commands.table import FLAG_NAMES, Command, CommandTable, Flag, KeySpec, command
from cacheflow.resp import encoder
from cacheflow.resp.errors import CommandError
from cacheflow.store.glob import compile_glob

_F = Flag.LOADING | Flag.STALE
_CONN = ("connection",)


# ACL categories in Redis's bit order, the order COMMAND INFO lists them in.
ACL_CATEGORY_ORDER = (
    "keyspace",
    "read",
    "write",
    "set",
    "sortedset",
    "list",
    "hash",
    "string",
    "bitmap",
    "hyperloglog",
    "geo",
    "stream",
    "pubsub",
    "admin",
    "fast",
    "slow",
    "blocking",
    "dangerous",
    "connection",
    "transaction",
    "scripting",
)
_CATEGORY_RANK = {name: i for i, name in enumerate(ACL_CATEGORY_ORDER)}


def categories(cmd: Command) -> list[str]:
    """A command's ACL categories in Redis's order."""
    return sorted(cmd.acl_categories(), key=lambda c: _CATEGORY_RANK.get(c, len(_CATEGORY_RANK)))


def help_reply(argv0: bytes, lines: Iterable[str]) -> bytes:
    """Redis's HELP layout: a usage line, the given lines, then HELP itself, as status replies."""
    name = argv0.decode("utf-8", "replace").upper()
    items = [
        f"{name} <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
        *lines,
        "HELP",
        "    Prints this help.",
    ]
    return encoder.array([encoder.simple(line) for line in items])


# -- COMMAND INFO -------------------------------------------------------------------


def flag_names(cmd: Command) -> list[bytes]:
    names = [name for flag, name in FLAG_NAMES if cmd.flags & flag and flag is not Flag.ALLOW_BUSY]
    if cmd.movable_keys:
        names.append(b"movablekeys")
    if cmd.flags & Flag.ALLOW_BUSY:
        names.append(b"allow_busy")
    return names


def _kv(name: str, value: bytes) -> tuple[bytes, bytes]:
    return encoder.bulk(name.encode()), value


def _typed(kind: str, spec: list[tuple[bytes, bytes]], proto: int) -> bytes:
    return encoder.map_([_kv("type", encoder.bulk(kind.encode())), _kv("spec", encoder.map_(spec, proto))], proto)


def key_spec_reply(spec: KeySpec, proto: int) -> bytes:
    """One key spec as COMMAND INFO shows it: notes (when any), flags, begin_search, find_keys."""
    pairs = [_kv("notes", encoder.bulk(spec.notes.encode()))] if spec.notes else []
    pairs.append(_kv("flags", encoder.set_([encoder.simple(f) for f in spec.flags], proto)))
    if spec.begin == "index":
        begin = _typed("index", [_kv("index", encoder.integer(spec.index))], proto)
    elif spec.begin == "keyword":
        keyword = [
            _kv("keyword", encoder.bulk(spec.keyword.encode())),
            _kv("startfrom", encoder.integer(spec.startfrom)),
        ]
        begin = _typed("keyword", keyword, proto)
    else:
        begin = _typed("unknown", [], proto)
    if spec.find == "range":
        numbers = (("lastkey", spec.lastkey), ("keystep", spec.keystep), ("limit", spec.limit))
        find = _typed("range", [_kv(k, encoder.integer(v)) for k, v in numbers], proto)
    elif spec.find == "keynum":
        numbers = (("keynumidx", spec.keynumidx), ("firstkey", spec.firstkey), ("keystep", spec.keystep))
        find = _typed("keynum", [_kv(k, encoder.integer(v)) for k, v in numbers], proto)
    else:
        find = _typed("unknown", [], proto)
    pairs += [_kv("begin_search", begin), _kv("find_keys", find)]
    return encoder.map_(pairs, proto)


def command_info(cmd: Command, proto: int) -> bytes:
    return encoder.array(
        [
            encoder.bulk(cmd.name.encode()),
            encoder.integer(cmd.arity),
            encoder.set_([encoder.simple(n) for n in flag_names(cmd)], proto),
            encoder.integer(cmd.first_key),
            encoder.integer(cmd.last_key),
            encoder.integer(cmd.step),
            encoder.set_([encoder.simple("@" + c) for c in categories(cmd)], proto),
            encoder.set_([encoder.bulk(t.encode()) for t in cmd.tips], proto),
            encoder.set_([key_spec_reply(spec, proto) for spec in cmd.key_specs], proto),
            # Redis answers an empty set when there are no subcommands, an array otherwise.
            encoder.array([command_info(sub, proto) for sub in cmd.subcommands.values()])
            if cmd.subcommands
            else encoder.set_([], proto),
        ]
    )


def lookup(table: CommandTable, name: bytes) -> Command | None:
    """A command by name in any case; ``parent|sub`` names a subcommand."""
    text = name.decode("utf-8", "replace").lower()
    parent, sep, sub = text.partition("|")
    cmd = table.get(parent)
    if cmd is None or not sep:
        return cmd
    return cmd.subcommands.get(sub)


# -- COMMAND DOCS ---------------------------------------------------------------------


def _encode_arg(arg: Arg, proto: int) -> bytes:
    pairs = [_kv("name", encoder.bulk(arg.name.encode())), _kv("type", encoder.bulk(arg.type.encode()))]
    if arg.key_spec is not None:
        pairs.append(_kv("key_spec_index", encoder.integer(arg.key_spec)))
    if arg.token is not None:
        pairs.append(_kv("token", encoder.bulk(arg.token.encode())))
    if arg.flags:
        pairs.append(_kv("flags", encoder.set_([encoder.simple(f) for f in arg.flags], proto)))
    if arg.args:
        pairs.append(_kv("arguments", encoder.array([_encode_arg(a, proto) for a in arg.args])))
    return encoder.map_(pairs, proto)


def command_docs(cmd: Command, proto: int) -> bytes:
    pairs = [
        _kv("summary", encoder.bulk(cmd.summary.encode())),
        _kv("since", encoder.bulk(cmd.since.encode())),
        _kv("group", encoder.bulk(cmd.group.encode())),
        _kv("complexity", encoder.bulk(cmd.complexity.encode())),
    ]
    args = number_key_args(parse_syntax(cmd.syntax), len(cmd.key_specs))
    if args:
        pairs.append(_kv("arguments", encoder.array([_encode_arg(a, proto) for a in args])))
    if cmd.subcommands:
        subs = [(encoder.bulk(s.name.encode()), command_docs(s, proto)) for s in cmd.subcommands.values()]
        pairs.append(_kv("subcommands", encoder.map_(subs, proto)))
    return encoder.map_(pairs, proto)


# -- handlers ---------------------------------------------------------------------------


@command(
    "command",
    -1,
    _F,
    categories=_CONN,
    group="server",
    summary="Get array of Redis command details",
    since="2.8.13",
    complexity="O(N) where N is the total number of Redis commands",
    tips=("nondeterministic_output_order",),
)
def command_(ctx: Context, argv: list[bytes]) -> bytes:
    return encoder.array([command_info(cmd, ctx.proto) for cmd in ctx.table])


@command(
    "count",
    2,
    _F,
    categories=_CONN,
    group="server",
    summary="Get total number of Redis commands",
    since="2.8.13",
    parent="command",
)
def command_count(ctx: Context, argv: list[bytes]) -> bytes:
    return encoder.integer(len(ctx.table))


@command(
    "info",
    -2,
    _F,
    categories=_CONN,
    group="server",
    summary="Get array of specific Redis command details, or all when no argument is given.",
    since="2.8.13",
    complexity="O(N) where N is the number of commands to look up",
    syntax="[command-name [command-name ...]]",
    tips=("nondeterministic_output_order",),
    parent="command",
)
def command_info_(ctx: Context, argv: list[bytes]) -> bytes:
    if len(argv) == 2:
        return command_(ctx, argv)
    replies = []
    for name in argv[2:]:
        cmd = lookup(ctx.table, name)
        replies.append(encoder.null(ctx.proto) if cmd is None else command_info(cmd, ctx.proto))
    return encoder.array(replies)


@command(
    "docs",
    -2,
    _F,
    categories=_CONN,
    group="server",
    summary="Get array of specific Redis command documentation",
    since="7.0.0",
    complexity="O(N) where N is the number of commands to look up",
    syntax="[command-name [command-name ...]]",
    tips=("nondeterministic_output_order",),
    parent="command",
)
def command_docs_(ctx: Context, argv: list[bytes]) -> bytes:
    if len(argv) == 2:
        found = [(cmd.name.encode(), cmd) for cmd in ctx.table]
    else:
        found = []
        for name in argv[2:]:
            cmd = lookup(ctx.table, name)
            if cmd is not None:
                found.append((cmd.name.encode(), cmd))
    return encoder.map_([(encoder.bulk(n), command_docs(c, ctx.proto)) for n, c in found], ctx.proto)


@command(
    "list",
    -2,
    _F,
    categories=_CONN,
    group="server",
    summary="Get an array of Redis command names",
    since="7.0.0",
    complexity="O(N) where N is the total number of Redis commands",
    syntax="[FILTERBY <MODULE module-name|ACLCAT category|PATTERN pattern>]",
    tips=("nondeterministic_output_order",),
    parent="command",
)
def command_list(ctx: Context, argv: list[bytes]) -> bytes:
    every = list(ctx.table.all_with_subcommands())
    if len(argv) == 2:
        names = [c.name for c in every]
    elif len(argv) == 5 and argv[2].lower() == b"filterby":
        kind = argv[3].lower()
        value = argv[4]
        if kind == b"module":
            names = []  # CacheFlow has no modules
        elif kind == b"aclcat":
            cat = value.decode("utf-8", "replace").lower()
            names = [c.name for c in every if cat in c.acl_categories()]
        elif kind == b"pattern":
            match = compile_glob(value, nocase=True)
            names = [c.name for c in every if match(c.name.encode())]
        else:
            raise CommandError(errors.SYNTAX)
    else:
        raise CommandError(errors.SYNTAX)
    return encoder.bulk_array([n.encode() for n in names], ctx.proto)


def _keys_of(ctx: Context, argv: list[bytes]) -> tuple[Command, list[tuple[int, KeySpec | None]]]:
    """The command ``argv[2:]`` names and its keys (with the spec that found each), with GETKEYS's errors."""
    args = argv[2:]
    cmd = ctx.table.get(args[0].decode("utf-8", "replace").lower())
    if cmd is not None and cmd.subcommands:
        cmd = cmd.subcommands.get(args[1].decode("utf-8", "replace").lower())
    if cmd is None:
        raise CommandError("ERR Invalid command specified")
    if not cmd.has_keys:
        raise CommandError("ERR The command has no key arguments")
    if (cmd.arity > 0 and cmd.arity != len(args)) or len(args) < -cmd.arity:
        raise CommandError("ERR Invalid number of arguments specified for command")
    found = cmd.keys_with_specs(args)
    if not found:
        raise CommandError("ERR Invalid arguments specified for command")
    return cmd, found


@command(
    "getkeys",
    -4,
    _F,
    categories=_CONN,
    group="server",
    summary="Extract keys given a full Redis command",
    since="2.8.13",
    complexity="O(N) where N is the number of arguments to the command",
    syntax="command [arg [arg ...]]",
    parent="command",
)
def command_getkeys(ctx: Context, argv: list[bytes]) -> bytes:
    _, found = _keys_of(ctx, argv)
    return encoder.bulk_array([argv[2 + i] for i, _ in found], ctx.proto)


@command(
    "getkeysandflags",
    -4,
    _F,
    categories=_CONN,
    group="server",
    summary="Extract keys and access flags given a full Redis command",
    since="7.0.0",
    complexity="O(N) where N is the number of arguments to the command",
    syntax="command [arg [arg ...]]",
    parent="command",
)
def command_getkeysandflags(ctx: Context, argv: list[bytes]) -> bytes:
    cmd, found = _keys_of(ctx, argv)
    args = argv[2:]
    replies = []
    for i, spec in found:
        flags = [encoder.simple(f) for f in cmd.key_access_flags(args, i, spec)]
        replies.append(encoder.array([encoder.bulk(args[i]), encoder.set_(flags, ctx.proto)]))
    return encoder.array(replies)


_HELP = (
    "(no subcommand)",
    "    Return details about all Redis commands.",
    "COUNT",
    "    Return the total number of commands in this Redis server.",
    "LIST",
    "    Return a list of all commands in this Redis server.",
    "INFO [<command-name> ...]",
    "    Return details about multiple Redis commands.",
    "    If no command names are given, documentation details for all",
    "    commands are returned.",
    "DOCS [<command-name> ...]",
    "    Return documentation details about multiple Redis commands.",
    "    If no command names are given, documentation details for all",
    "    commands are returned.",
    "GETKEYS <full-command>",
    "    Return the keys from a full Redis command.",
    "GETKEYSANDFLAGS <full-command>",
    "    Return the keys and the access flags from a full Redis command.",
)


@command(
    "help",
    2,
    _F,
    categories=_CONN,
    group="server",
    summary="Show helpful text about the different subcommands",
    since="5.0.0",
    parent="command",
)
def command_help(ctx: Context, argv: list[bytes]) -> bytes:
    return help_reply(argv[0], _HELP)
