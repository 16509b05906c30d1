"""Command help for the interactive mode, read from the server's COMMAND DOCS.

redis-cli 7.0 compiles its help table in; cacheflow-cli asks the server
instead, so completion and hints always match the commands the server really
has.  The one-line argument summary is derived from the ``arguments`` tree the
same way redis-cli 7.0's table was generated (``[optional]``, ``a|b`` for
one-ofs, ``x [x ...]`` for repetitions, tokens before their values).

When the server has no COMMAND DOCS, plain ``COMMAND`` still yields the names
for completion; when even that fails there is simply no help.
"""

from dataclasses import dataclass

from cacheflow.client import Connection, ErrorReply, Reply, pairs, text
from cacheflow.resp.inline import split_inline_args


@dataclass(frozen=True, slots=True)
class CommandHelp:
    """One help entry: a command, or a subcommand such as ``CLIENT KILL``."""

    name: str
    params: str = ""
    summary: str = ""
    since: str = ""
    group: str = ""

    @property
    def words(self) -> list[str]:
        return self.name.split(" ")


def _as_dict(reply: Reply) -> dict[str, Reply]:
    return {text(k): v for k, v in pairs(reply)}


def _flags(value: Reply) -> set[str]:
    if isinstance(value, list):
        return {text(f) for f in value if isinstance(f, bytes)}
    return set()


def render_argument(arg: Reply) -> str:
    """One argument of a COMMAND DOCS ``arguments`` tree as redis-cli 7.0's help shows it."""
    doc = _as_dict(arg)
    kind = text(doc.get("type") or b"")
    children = doc.get("arguments")
    subs = children if isinstance(children, list) else []
    flags = _flags(doc.get("flags"))
    token_reply = doc.get("token")
    token = text(token_reply) if isinstance(token_reply, bytes) else None
    if token == "":
        token = '""'
    body: str | None
    if kind == "block":
        body = " ".join(render_argument(a) for a in subs)
    elif kind == "oneof":
        body = "|".join(render_argument(a) for a in subs)
    elif kind == "pure-token":
        body = None
    else:
        name = doc.get("display_text") or doc.get("name") or b""
        body = text(name)
    if "multiple" in flags and body is not None:
        if "multiple_token" in flags and token:
            body = f"{body} [{token} {body} ...]"
        else:
            body = f"{body} [{body} ...]"
    if token:
        body = token if body is None else f"{token} {body}"
    result = body or ""
    if "optional" in flags:
        result = f"[{result}]"
    return result


def render_arguments(arguments: Reply) -> str:
    if not isinstance(arguments, list):
        return ""
    return " ".join(render_argument(a) for a in arguments)


def parse_command_docs(reply: Reply) -> list[CommandHelp]:
    """Help entries from a COMMAND DOCS reply (RESP2 flat or RESP3 map), subcommands included."""
    entries: list[CommandHelp] = []

    def add(name: Reply, doc_reply: Reply) -> None:
        doc = _as_dict(doc_reply)

        def field(key: str) -> str:
            value = doc.get(key)
            return text(value) if isinstance(value, bytes) else ""

        entries.append(
            CommandHelp(
                name=text(name).replace("|", " ").upper(),
                params=render_arguments(doc.get("arguments")),
                summary=field("summary"),
                since=field("since"),
                group=field("group"),
            )
        )
        subs = doc.get("subcommands")
        if subs:
            for sub_name, sub_doc in pairs(subs):
                add(sub_name, sub_doc)

    for name, doc in pairs(reply):
        add(name, doc)
    entries.sort(key=lambda e: e.name)
    return entries


def parse_command_list(reply: Reply) -> list[CommandHelp]:
    """Bare entries (names only) from a plain COMMAND reply, for servers without COMMAND DOCS."""
    entries: list[CommandHelp] = []

    def add(info: Reply) -> None:
        if not isinstance(info, list) or not info or not isinstance(info[0], bytes):
            return
        entries.append(CommandHelp(name=text(info[0]).replace("|", " ").upper()))
        if len(info) > 9 and isinstance(info[9], list):
            for sub in info[9]:
                add(sub)

    if isinstance(reply, list):
        for info in reply:
            add(info)
    entries.sort(key=lambda e: e.name)
    return entries


async def fetch_help(conn: Connection) -> list[CommandHelp]:
    """The server's command help, degrading to names only, then to nothing."""
    try:
        reply = await conn.execute("COMMAND", "DOCS")
        if not isinstance(reply, ErrorReply):
            try:
                entries = parse_command_docs(reply)
            except (TypeError, ValueError):
                entries = []
            if entries:
                return entries
        reply = await conn.execute("COMMAND")
        if not isinstance(reply, ErrorReply):
            return parse_command_list(reply)
    except ConnectionError:
        pass
    return []


def hint_for(line: str, entries: list[CommandHelp]) -> str | None:
    """The argument hint shown after what was typed, as redis-cli 7.0 computes it.

    The longest entry whose words prefix the typed words wins; its summary
    loses one word per argument already typed, stopping at the first optional
    part, and gains a leading space unless the line already ends in one.
    """
    words = split_inline_args(line.encode("utf-8", "surrogateescape"))
    if not words:
        return None
    typed = [w.decode("utf-8", "replace").lower() for w in words]
    best: CommandHelp | None = None
    best_len = 0
    for entry in entries:
        names = [w.lower() for w in entry.words]
        if len(names) <= len(typed) and names == typed[: len(names)] and len(names) > best_len:
            best, best_len = entry, len(names)
    if best is None:
        return None
    hint = best.params
    to_remove = len(typed) - best_len
    while to_remove > 0 and hint:
        if hint[0] == "[":
            break
        if hint[0] == " ":
            to_remove -= 1
        hint = hint[1:]
    if not line[-1:].isspace():
        hint = " " + hint
    return hint


def help_groups(entries: list[CommandHelp]) -> list[str]:
    return sorted({"@" + e.group for e in entries if e.group})


def format_entry(entry: CommandHelp, with_group: bool = True) -> str:
    """One entry the way redis-cli prints ``help <command>`` (its colours included)."""
    lines = [
        "\r\n",
        f"  \x1b[1m{entry.name}\x1b[0m \x1b[90m{entry.params}\x1b[0m\r\n",
        f"  \x1b[33msummary:\x1b[0m {entry.summary}\r\n",
        f"  \x1b[33msince:\x1b[0m {entry.since}\r\n",
    ]
    if with_group:
        lines.append(f"  \x1b[33mgroup:\x1b[0m {entry.group}\r\n")
    return "".join(lines)


def help_text(topic: list[str], entries: list[CommandHelp], version: str) -> str:
    """What ``help [topic]`` prints."""
    if not topic:
        return (
            f"cacheflow-cli {version}\n"
            "To get help about commands type:\n"
            '      "help @<group>" to get a list of commands in <group>\n'
            '      "help <command>" for help on <command>\n'
            '      "help <tab>" to get a list of possible help topics\n'
            '      "quit" to exit\n'
            "\n"
            "To set cacheflow-cli preferences:\n"
            '      ":set hints" enable online hints\n'
            '      ":set nohints" disable online hints\n'
        )
    if topic[0].startswith("@"):
        group = topic[0][1:].lower()
        found = [format_entry(e, with_group=False) for e in entries if e.group.lower() == group]
    else:
        want = [w.lower() for w in topic]
        found = [format_entry(e) for e in entries if [w.lower() for w in e.words][: len(want)] == want]
    return "".join(found) + "\r\n"
