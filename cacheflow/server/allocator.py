"""MEMORY PURGE's one job: ask the C allocator to give its free pages back to the OS.

Redis asks jemalloc to purge dirty pages.  Here the large allocations (dict
tables, big strings, lists of keys) come from glibc's malloc, which keeps freed
memory in its heap; ``malloc_trim(0)`` returns what it can, top of heap and
whole free pages inside it.  pymalloc's small-object arenas are returned by
CPython itself once empty, so there is nothing more to ask for.  On a libc
without ``malloc_trim`` (musl, macOS) purging does nothing, as Redis's does on
allocators other than jemalloc.
"""

import ctypes
from collections.abc import Callable


def _find_malloc_trim() -> Callable[[int], int] | None:
    try:
        trim = ctypes.CDLL(None).malloc_trim
    except (OSError, AttributeError):
        return None
    trim.argtypes = [ctypes.c_size_t]
    trim.restype = ctypes.c_int
    return trim  # type: ignore[no-any-return]


_MALLOC_TRIM = _find_malloc_trim()


def purge() -> bool:
    """Trim the heap; False when this libc cannot."""
    if _MALLOC_TRIM is None:
        return False
    _MALLOC_TRIM(0)
    return True
