"""The interactive prompt, on prompt_toolkit: history, completion and hints.

Lines go to ``Session.run_line``, as piped lines do; only a terminal gets a
prompt, history, completion and hints, as with redis-cli.
"""

from collections.abc import Callable, Iterable

from prompt_toolkit import PromptSession
from prompt_toolkit.completion import CompleteEvent, Completer, Completion
from prompt_toolkit.document import Document
from prompt_toolkit.layout.processors import Processor, Transformation, TransformationInput
from prompt_toolkit.styles import Style

from cacheflow.cli.docs import CommandHelp, help_groups, hint_for
from cacheflow.cli.history import LineHistory, history_path
from cacheflow.cli.session import Session

# linenoise draws hints in colour 90 (bright black).
STYLE = Style.from_dict({"hint": "ansibrightblack"})


class CommandCompleter(Completer):
    """Tab completion of command names (``CLIENT KILL`` as one name), and of help topics after ``help``."""

    def __init__(self, entries: Callable[[], list[CommandHelp]]) -> None:
        self._entries = entries

    def get_completions(self, document: Document, complete_event: CompleteEvent) -> Iterable[Completion]:
        line = document.text_before_cursor
        start = 0
        entries = self._entries()
        candidates = [e.name for e in entries]
        if line[:5].lower() == "help ":
            start = 5
            while start < len(line) and line[start].isspace():
                start += 1
            candidates = help_groups(entries) + candidates
        typed = line[start:].lower()
        for name in candidates:
            if name.lower().startswith(typed):
                yield Completion(name, start_position=-(len(line) - start))


class HintProcessor(Processor):
    """Shows the argument hint after the typed text without making it part of the input."""

    def __init__(self, hint: Callable[[str], str | None]) -> None:
        self._hint = hint

    def apply_transformation(self, transformation_input: TransformationInput) -> Transformation:
        ti = transformation_input
        if ti.lineno != ti.document.line_count - 1:
            return Transformation(ti.fragments)
        hint = self._hint(ti.document.text)
        if not hint:
            return Transformation(ti.fragments)
        return Transformation([*ti.fragments, ("class:hint", hint)])


async def interactive(session: Session) -> None:
    """Prompt, run, repeat, until quit, Ctrl-C or Ctrl-D at the prompt."""
    entries: list[CommandHelp] = []

    def current_entries() -> list[CommandHelp]:
        return entries

    def hint(text: str) -> str | None:
        return hint_for(text, entries) if session.hints and entries else None

    prompt: PromptSession[str] = PromptSession(
        history=LineHistory(history_path()),
        completer=CommandCompleter(current_entries),
        complete_while_typing=False,
        input_processors=[HintProcessor(hint)],
        style=STYLE,
        enable_system_prompt=False,
        enable_suspend=True,
        reserve_space_for_menu=0,
    )
    if session.connected:
        entries = await session.load_help()
    while True:
        try:
            line = await prompt.prompt_async(session.prompt(), handle_sigint=False)
        except (KeyboardInterrupt, EOFError):
            return
        if not entries and session.connected:
            entries = await session.load_help()
        await session.run_line(line)
