"""``cacheflow-server [config-file] [--name value ...]``: start a server the way redis-server starts.

The configuration file is read first, then command-line ``--name value...``
overrides, exactly as redis-server treats them (an override's arguments run
until the next ``--``).  A bad directive prints Redis's fatal-config report and
exits with status 1.
"""

import asyncio
import contextlib
import logging
import os
import signal
import sys

from cacheflow import REDIS_COMPAT_VERSION, __version__
from cacheflow.config.file import ConfigFileError, Directive, parse_directives
from cacheflow.config.schema import PARAMS, Config, ConfigError, lookup, quote
from cacheflow.persistence.recovery import LoadError
from cacheflow.server import logging_setup
from cacheflow.server.app import Server
from cacheflow.server.native import compiled_modules

log = logging.getLogger("cacheflow")
# Where redis-server writes its pid when daemonized without a pidfile.
_DEFAULT_PIDFILE = "/var/run/redis.pid"

USAGE = """Usage: cacheflow-server [/path/to/redis.conf] [options] [-]
       cacheflow-server - (read config from stdin)
       cacheflow-server -v or --version
       cacheflow-server -h or --help

Examples:
       cacheflow-server (run the server with default config)
       cacheflow-server /etc/redis/6379.conf
       cacheflow-server --port 7777
       cacheflow-server /etc/myredis.conf --loglevel verbose -
"""


def _overrides(args: list[str]) -> str:
    """Turn ``--port 7000 --save 900 1`` into config-file text, as redis-server does.

    Like redis-server, every option starts a new line, every argument is
    quoted (a bad override is reported as ``>>> 'maxmemory "abc"'``), and the
    options follow the file after one newline.
    """
    options = ""
    for arg in args:
        if arg.startswith("--") and len(arg) > 2:
            if options:
                options += "\n"
            options += arg[2:] + " "
        else:
            options += quote(arg) + " "
    return "\n" + options if options else ""


def load_config(argv: list[str]) -> Config:
    config = Config()
    text = ""
    rest = argv
    if rest and not rest[0].startswith("--") and rest[0] != "-":
        config.config_file = os.path.abspath(rest[0])
        with open(rest[0], encoding="utf-8", errors="surrogateescape") as f:
            text = f.read()
        rest = rest[1:]
    if "-" in rest:
        rest = [a for a in rest if a != "-"]
        text += "\n" + sys.stdin.read()
    text += _overrides(rest)
    loaded: set[str] = set()
    for d in parse_directives(text):
        _apply_directive(config, d, loaded)
    config.dir = os.getcwd()  # CONFIG GET dir shows the absolute working directory, as Redis does
    return config


def _apply_directive(config: Config, d: Directive, loaded: set[str]) -> None:
    """One directive, with redis-server's checks and wording.

    ``save`` lines accumulate (the first one in the file replaces the default
    points); every other parameter takes the last value given.
    """
    param = lookup(d.name)
    if param is None:
        raise ConfigFileError(d.lineno, d.line, "Bad directive or wrong number of arguments")
    if not param.multi_arg and len(d.args) != 1:
        raise ConfigFileError(d.lineno, d.line, "wrong number of arguments")
    try:
        parsed = config.set_many([(d.name.encode(), d.value)], at_startup=True)
    except ConfigError as e:
        reason = str(e)
        if " - " in reason:
            reason = reason.split(" - ", 1)[1]
        raise ConfigFileError(d.lineno, d.line, reason) from None
    if param.name == "save" and "save" in loaded and parsed["save"]:
        parsed["save"] = config.save + parsed["save"]
    if param.name == "dir":
        try:
            os.chdir(parsed["dir"])
        except OSError as e:
            raise ConfigFileError(d.lineno, d.line, e.strerror or str(e)) from None
        parsed["dir"] = os.getcwd()
    loaded.add(param.name)
    config.apply(parsed)


def _fatal(e: ConfigFileError) -> None:
    sys.stderr.write(
        f"\n*** FATAL CONFIG FILE ERROR (Redis {REDIS_COMPAT_VERSION}) ***\n"
        f"Reading the configuration file, at line {e.lineno}\n>>> '{e.line}'\n{e.reason}\n"
    )


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if args and args[0] in ("-v", "--version"):
        print(f"CacheFlow server v={__version__} redis_compat={REDIS_COMPAT_VERSION} bits=64")
        return 0
    if args and args[0] in ("-h", "--help"):
        print(USAGE)
        return 0
    try:
        config = load_config(args)
    except ConfigFileError as e:
        _fatal(e)
        return 1
    except OSError as e:
        record = logging.LogRecord(
            "cacheflow",
            logging.WARNING,
            "",
            0,
            f"Fatal error, can't open config file '{args[0]}': {e.strerror}",
            (),
            None,
        )
        sys.stdout.write(logging_setup.RedisFormatter("C").format(record) + "\n")  # redis-server logs it
        return 1
    if config.daemonize:
        _daemonize()
    logging_setup.configure(config.loglevel, config.logfile)
    try:
        import uvloop

        uvloop.install()
    except ImportError:
        pass
    log.warning("oO0OoO0OoO0Oo CacheFlow is starting oO0OoO0OoO0Oo")
    log.warning(
        "CacheFlow version=%s, redis_compat=%s, bits=64, pid=%d, just started",
        __version__,
        REDIS_COMPAT_VERSION,
        os.getpid(),
    )
    if not config.config_file:
        log.warning("Warning: no config file specified, using the default config.")
    _warn_inert(config)
    server = Server(config)
    pidfile = config.pidfile or (_DEFAULT_PIDFILE if config.daemonize else "")
    rc = asyncio.run(_run(server, pidfile))
    if rc == 0:
        if pidfile:
            log.info("Removing the pid file.")
            with contextlib.suppress(OSError):
                os.unlink(pidfile)
        log.warning("Redis is now ready to exit, bye bye...")
    return rc


def _daemonize() -> None:
    """Detach as redis-server does: the parent exits, the child gets a new session and /dev/null for stdio."""
    if os.fork() != 0:
        os._exit(0)
    os.setsid()
    fd = os.open(os.devnull, os.O_RDWR)
    for target in (0, 1, 2):
        os.dup2(fd, target)
    if fd > 2:
        os.close(fd)


def _warn_inert(config: Config) -> None:
    """Say which settings from the file or command line CacheFlow accepts but does not act on yet."""
    for param in PARAMS:
        if param.inert and param.name in config.explicit and getattr(config, param.attr) != param.default:
            log.warning("'%s' is accepted for compatibility but has no effect in CacheFlow yet.", param.name)


def _write_pidfile(path: str) -> None:
    """Written beside the target and renamed into place, so that whoever sees the file
    (a supervisor, a test) reads the whole pid, never an empty file that is still being written."""
    tmp = f"{path}.{os.getpid()}.tmp"
    try:
        with open(tmp, "w", encoding="ascii") as f:
            f.write(f"{os.getpid()}\n")
        os.replace(tmp, path)
    except OSError as e:
        log.warning("Failed to write PID file: %s", e.strerror or e)
        with contextlib.suppress(OSError):
            os.unlink(tmp)


async def _run(server: Server, pidfile: str = "") -> int:
    loop = asyncio.get_running_loop()

    def on_signal(signame: str) -> None:
        log.warning("Received %s scheduling shutdown...", signame)
        if server.loop is None:
            server.stop()
        elif server.request_shutdown(None, False, False) is not None:  # saves first when save points are set
            log.warning(
                "%s received but errors trying to shut down the server, check the logs for more information", signame
            )

    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, on_signal, sig.name)
    try:
        await server.start()
    except OSError:
        return 1
    except LoadError as e:  # a damaged AOF: refuse to start, naming the file and offset
        log.warning("%s (file %s, offset %d)", e, e.path, e.offset)
        return 1
    if pidfile:
        _write_pidfile(pidfile)
    log.info("Server initialized")
    compiled = compiled_modules()
    stale = [name for name, is_stale in compiled if is_stale]
    if stale:
        log.warning("Compiled modules older than their source, running stale code: %s (run make)", ", ".join(stale))
    log.info(
        "Request path: %s", f"compiled ({len(compiled)} modules)" if compiled else "interpreted (run make to compile)"
    )
    log.info("Ready to accept connections tcp (port %d)", server.config.port)
    assert server.stopped is not None
    await server.stopped
    return 0


if __name__ == "__main__":
    sys.exit(main())
