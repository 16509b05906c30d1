"""Which modules run compiled (mypyc, see scripts/build_native.py) and whether any is stale.

Python imports an extension module in preference to the source next to it,
so an extension older than its source would silently run old code.  The
server logs this at start-up and the test suite refuses to run with it.
"""

import importlib.machinery
import os
from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent.parent
_SUFFIXES = tuple(importlib.machinery.EXTENSION_SUFFIXES)


def compiled_modules() -> list[tuple[str, bool]]:
    """(module name, stale) for every compiled module of the package."""
    found: list[tuple[str, bool]] = []
    for ext in sorted(_PACKAGE.rglob("*.so")):
        if not ext.name.endswith(_SUFFIXES):
            continue
        stem = ext.name.split(".", 1)[0]
        source = ext.with_name(stem + ".py")
        if not source.exists():
            source = ext.with_name(stem + ".c")  # a hand-written extension
        if not source.exists():
            continue  # the group's shared runtime library has no source of its own
        stale = os.stat(source).st_mtime_ns > os.stat(ext).st_mtime_ns
        module = ".".join(source.relative_to(_PACKAGE.parent).with_suffix("").parts)
        found.append((module, stale))
    return found
