"""cacheflow-cli's entry point: pick the mode the way redis-cli does.

A command on the command line runs once (or ``-r`` times) and exits; with no
command, lines are read from the terminal (interactive prompt) or from the
pipe on stdin.
"""

import asyncio
import getpass
import signal
import sys

from cacheflow import __version__
from cacheflow.cli.options import USAGE, Options, UsageError, parse_args
from cacheflow.cli.session import Exit, Session
from cacheflow.resp.inline import split_inline_args

AUTH_WARNING = "Warning: Using a password with '-a' or '-u' option on the command line interface may not be safe."


def main(argv: list[str] | None = None) -> int:
    try:
        opts = parse_args(sys.argv[1:] if argv is None else argv)
    except UsageError as exc:
        print(exc, file=sys.stderr)
        return 1
    if opts.show_help:
        sys.stdout.write(USAGE)
        return 0
    if opts.show_version:
        print(f"cacheflow-cli {__version__}")
        return 0
    if opts.askpass:
        opts.password = getpass.getpass("Please input password: ")
    elif opts.password_on_command_line and not opts.no_auth_warning:
        print(AUTH_WARNING, file=sys.stderr)
    try:
        return asyncio.run(_run(opts))
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        # redis-cli dies of SIGPIPE when its reader goes away (`... | head`); report the same status.
        return 128 + signal.SIGPIPE


async def _run(opts: Options) -> int:
    session = Session(opts, repl=not opts.command)
    task = asyncio.current_task()
    assert task is not None
    status: list[int] = []

    def on_sigint() -> None:
        code = session.interrupt()
        if code is not None:
            status.append(code)
            task.cancel()

    loop = asyncio.get_running_loop()
    loop.add_signal_handler(signal.SIGINT, on_sigint)
    try:
        if opts.command:
            return await _one_shot(session, opts)
        await session.connect()
        if sys.stdin.isatty():
            # prompt_toolkit is imported only here: the other modes start faster without it.
            from cacheflow.cli.repl import interactive

            await interactive(session)
        else:
            await _pipe_lines(session)
        return 0
    except Exit as exc:
        return exc.status
    except asyncio.CancelledError:
        if status:
            return status[0]
        raise
    finally:
        loop.remove_signal_handler(signal.SIGINT)
        if session.conn is not None:
            session.conn.close()


async def _pipe_lines(session: Session) -> None:
    """Lines from a non-terminal stdin, one command each, with no prompt and no history (linenoise's way)."""
    stdin = sys.stdin.buffer
    while raw := stdin.readline():
        await session.run_line(raw.removesuffix(b"\n").decode("utf-8", "surrogateescape"))


async def _one_shot(session: Session, opts: Options) -> int:
    await session.connect()
    if session.conn is None:
        return 1
    args = list(opts.command)
    if opts.quoted_input:
        unquoted = [split_inline_args(a) for a in args]
        if any(u is None or len(u) != 1 for u in unquoted):
            session.write(b"Invalid quoted string\n")
            return 1
        args = [u[0] for u in unquoted if u]
    if opts.stdin_last_arg:
        args.append(sys.stdin.buffer.read())
    elif opts.stdin_tag is not None:
        if opts.stdin_tag not in args:
            session.warn("Using -X option but stdin tag not match.")
            return 1
        args[args.index(opts.stdin_tag)] = sys.stdin.buffer.read()
    ok = await session.issue(args, opts.repeat)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
