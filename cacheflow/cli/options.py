"""Command-line options, read the way redis-cli 7.0 reads them.

Options come first; the first argument that does not start with ``-`` begins
the command, and everything after it belongs to the command (so
``cacheflow-cli set k -1`` works).  Numbers are read like C's atoi/strtod,
which redis-cli uses: ``-p abc`` is port 0, not an error.
"""

import enum
import os
import re
from dataclasses import dataclass, field
from urllib.parse import unquote_to_bytes

from cacheflow import __version__


class OutputMode(enum.Enum):
    STANDARD = "standard"  # human-readable, as on a terminal
    RAW = "raw"
    CSV = "csv"


class UsageError(Exception):
    """Bad command line; the message is printed to stderr and the exit status is 1."""


@dataclass(slots=True)
class Options:
    host: str = "127.0.0.1"
    port: int = 6379
    unix_socket: str | None = None
    password: str | None = None
    user: str | None = None
    askpass: bool = False
    db: int = 0
    repeat: int = 1
    interval: float = 0.0
    protocol: int = 2
    stdin_last_arg: bool = False
    stdin_tag: bytes | None = None
    mb_delim: bytes = b"\n"
    cmd_delim: bytes = b"\n"
    exit_on_error: bool = False
    output: OutputMode | None = None  # None: raw unless stdout is a terminal
    quoted_input: bool = False
    show_pushes: bool | None = None  # None: only when stdout is a terminal
    no_auth_warning: bool = False
    password_on_command_line: bool = False
    show_help: bool = False
    show_version: bool = False
    command: list[bytes] = field(default_factory=list)


# redis-cli options that cacheflow-cli recognises but does not implement.
UNSUPPORTED = frozenset(
    {
        "-c",
        "--tls",
        "--sni",
        "--cacert",
        "--cacertdir",
        "--insecure",
        "--cert",
        "--key",
        "--tls-ciphers",
        "--tls-ciphersuites",
        "--json",
        "--quoted-json",
        "--stat",
        "--latency",
        "--latency-history",
        "--latency-dist",
        "--lru-test",
        "--replica",
        "--slave",
        "--rdb",
        "--functions-rdb",
        "--pipe",
        "--pipe-timeout",
        "--bigkeys",
        "--memkeys",
        "--memkeys-samples",
        "--hotkeys",
        "--scan",
        "--pattern",
        "--quoted-pattern",
        "--intrinsic-latency",
        "--eval",
        "--ldb",
        "--ldb-sync-mode",
        "--cluster",
        "--verbose",
    }
)

_WITH_VALUE = frozenset(
    {"-h", "-p", "-s", "-a", "--pass", "--user", "-u", "-r", "-i", "-n", "-d", "-D", "-X", "--show-pushes"}
)


def parse_args(argv: list[str]) -> Options:
    """Parse ``argv`` (without the program name)."""
    opts = Options()
    i = 0
    while i < len(argv):
        arg = argv[i]
        has_value = i + 1 < len(argv)
        if arg in _WITH_VALUE and has_value:
            value = argv[i + 1]
            i += 2
            _apply_valued(opts, arg, value)
            continue
        i += 1
        if arg == "--raw":
            opts.output = OutputMode.RAW
        elif arg == "--no-raw":
            opts.output = OutputMode.STANDARD
        elif arg == "--csv":
            opts.output = OutputMode.CSV
        elif arg == "--quoted-input":
            opts.quoted_input = True
        elif arg == "-x":
            opts.stdin_last_arg = True
        elif arg == "-e":
            opts.exit_on_error = True
        elif arg == "-2":
            opts.protocol = 2
        elif arg in ("-3", "--resp3"):
            opts.protocol = 3
        elif arg == "--askpass":
            opts.askpass = True
        elif arg == "--no-auth-warning":
            opts.no_auth_warning = True
        elif arg == "--help":
            opts.show_help = True
        elif arg in ("-v", "--version"):
            opts.show_version = True
        elif arg in UNSUPPORTED:
            raise UsageError(f"Unsupported option: '{arg}' (cacheflow-cli does not implement it)")
        elif arg.startswith("-"):
            raise UsageError(f"Unrecognized option or bad number of args for: '{arg}'")
        else:
            opts.command = [os.fsencode(a) for a in argv[i - 1 :]]
            break
    if opts.password is None and not opts.askpass:
        env = os.environ.get("REDISCLI_AUTH")
        if env:
            opts.password = env
    return opts


def _apply_valued(opts: Options, flag: str, value: str) -> None:
    if flag == "-h":
        opts.host = value
    elif flag == "-p":
        opts.port = atoi(value)
    elif flag == "-s":
        opts.unix_socket = value
    elif flag in ("-a", "--pass"):
        opts.password = value
        opts.password_on_command_line = True
    elif flag == "--user":
        opts.user = value
    elif flag == "-u":
        parse_uri(opts, value)
    elif flag == "-r":
        opts.repeat = atoi(value)
    elif flag == "-i":
        opts.interval = atof(value)
    elif flag == "-n":
        opts.db = atoi(value)
    elif flag == "-d":
        opts.mb_delim = os.fsencode(value)
    elif flag == "-D":
        opts.cmd_delim = os.fsencode(value)
    elif flag == "-X":
        opts.stdin_tag = os.fsencode(value)
    elif flag == "--show-pushes":
        if value.lower() in ("y", "yes"):
            opts.show_pushes = True
        elif value.lower() in ("n", "no"):
            opts.show_pushes = False
        else:
            raise UsageError(f"Unknown --show-pushes value '{value}' (valid: '[y]es', '[n]o')")


def parse_uri(opts: Options, uri: str) -> None:
    """Apply ``redis://[[user]:password@]host[:port][/db]`` to ``opts``, as redis-cli reads it.

    Like redis-cli, ``redis://:pass@host`` sends an empty user name, and a
    missing part leaves the option as it was.
    """
    scheme = "redis://"
    if uri[: len(scheme)].lower() != scheme:
        if uri[:9].lower() == "rediss://":
            raise UsageError("rediss:// is not supported: cacheflow-cli has no TLS support")
        raise UsageError("Invalid URI scheme")
    rest = uri[len(scheme) :]
    if not rest:
        return
    at = rest.find("@")
    if at >= 0:
        userinfo = rest[:at]
        colon = userinfo.find(":")
        if colon >= 0:
            opts.user = _percent_decode(userinfo[:colon])
            userinfo = userinfo[colon + 1 :]
        opts.password = _percent_decode(userinfo)
        opts.password_on_command_line = True
        rest = rest[at + 1 :]
        if not rest:
            return
    slash = rest.find("/")
    hostport = rest if slash < 0 else rest[:slash]
    if not rest.startswith("/"):
        colon = hostport.find(":")
        if colon >= 0:
            opts.port = atoi(hostport[colon + 1 :])
            hostport = hostport[:colon]
        opts.host = hostport
    if slash >= 0 and slash + 1 < len(rest):
        opts.db = atoi(rest[slash + 1 :])


def _percent_decode(text: str) -> str:
    return unquote_to_bytes(text).decode("utf-8", "surrogateescape")


_ATOI = re.compile(r"\s*([+-]?\d+)")
_ATOF = re.compile(r"\s*([+-]?(?:\d+\.?\d*(?:[eE][+-]?\d+)?|\.\d+(?:[eE][+-]?\d+)?|inf(?:inity)?|nan))", re.IGNORECASE)


def atoi(text: str) -> int:
    """C's atoi: the leading integer of ``text``, or 0."""
    m = _ATOI.match(text)
    return int(m.group(1)) if m else 0


def atof(text: str) -> float:
    """C's strtod without an end pointer: the leading number of ``text``, or 0.0."""
    m = _ATOF.match(text)
    return float(m.group(1)) if m else 0.0


USAGE = f"""\
cacheflow-cli {__version__}

Usage: cacheflow-cli [OPTIONS] [cmd [arg [arg ...]]]
  -h <hostname>      Server hostname (default: 127.0.0.1).
  -p <port>          Server port (default: 6379).
  -s <socket>        Server socket (overrides hostname and port).
  -a <password>      Password to use when connecting to the server.
                     You can also use the REDISCLI_AUTH environment
                     variable to pass this password more safely
                     (if both are used, this argument takes precedence).
  --user <username>  Used to send ACL style 'AUTH username pass'. Needs -a.
  --pass <password>  Alias of -a for consistency with the new --user option.
  --askpass          Force user to input password with mask from STDIN.
                     If this argument is used, '-a' and REDISCLI_AUTH
                     environment variable will be ignored.
  -u <uri>           Server URI: redis://[[user]:password@]host[:port][/db].
  -r <repeat>        Execute specified command N times (-1: forever).
  -i <interval>      Wait <interval> seconds after each command.
                     It is possible to specify sub-second times like -i 0.1.
  -n <db>            Database number.
  -2                 Start session in RESP2 protocol mode.
  -3, --resp3        Start session in RESP3 protocol mode.
  -x                 Read last argument from STDIN.
  -X <tag>           Read <tag> argument from STDIN.
  -d <delimiter>     Delimiter between response bulks for raw formatting (default: \\n).
  -D <delimiter>     Delimiter between responses for raw formatting (default: \\n).
  -e                 Return exit error code when command execution fails.
  --raw              Use raw formatting for replies (default when STDOUT is
                     not a tty).
  --no-raw           Force formatted output even when STDOUT is not a tty.
  --quoted-input     Force input to be handled as quoted strings.
  --csv              Output in CSV format.
  --show-pushes <yn> Whether to print RESP3 PUSH messages.  Enabled by default when
                     STDOUT is a tty but can be overridden with --show-pushes no.
  --no-auth-warning  Don't show warning message when using password on command
                     line interface.
  --help             Output this help and exit.
  --version          Output version and exit.

Examples:
  cat /etc/passwd | cacheflow-cli -x set mypasswd
  cacheflow-cli -r 100 lpush mylist x
  cacheflow-cli -r 100 -i 1 info | grep used_memory_human:
  cacheflow-cli --quoted-input set '"null-\\x00-separated"' value

When no command is given, cacheflow-cli starts in interactive mode.
Type "help" in interactive mode for information on available commands.
"""
