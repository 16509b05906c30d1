"""Compile the request path to C with mypyc, in place; ``make`` runs it whenever a source changes.

Why: the interpreter's per-request cost (attribute lookups, calls, bytecode
dispatch) was about half of a GET's instructions, and no amount of trimming
Python closed the gap to Redis (README "Performance").  mypyc compiles our own
type-hinted modules unchanged, so the Python source stays the one truth: the
package still runs interpreted when the extensions are absent, only slower.

The modules listed are those every request passes through, the data types
that redis-benchmark's LPUSH/SADD/HSET/LRANGE/ZADD tests exercise, and the
eviction policies (store/eviction.py, store/tinylfu.py), which run on every
write once maxmemory is reached.  They form one
group whose shared library lives inside the package (``cacheflow.native``),
so an editable install finds it from any working directory.  Invariant: an
extension must never be older than its source, or Python would import stale
code; the Makefile's stamp and tests/conftest.py both check that.
"""

import os
import sys
from pathlib import Path

from mypyc.build import mypycify
from setuptools import Extension, setup

NATIVE_MODULES = [
    "cacheflow/resp/encoder.py",
    "cacheflow/resp/packet.py",
    "cacheflow/store/keyspace.py",
    "cacheflow/store/eviction.py",
    "cacheflow/store/tinylfu.py",
    "cacheflow/store/idle_clock.py",
    "cacheflow/commands/context.py",
    "cacheflow/commands/errors.py",
    "cacheflow/commands/table.py",
    "cacheflow/commands/strings.py",
    "cacheflow/engine/effects.py",
    "cacheflow/engine/engine.py",
    "cacheflow/server/connection.py",
    "cacheflow/server/app.py",
    "cacheflow/store/hashes.py",
    "cacheflow/store/lists.py",
    "cacheflow/store/sets.py",
    "cacheflow/commands/hashes.py",
    "cacheflow/commands/lists.py",
    "cacheflow/commands/sets.py",
    "cacheflow/store/sorted_sets.py",
    "cacheflow/commands/sorted_sets.py",
    "cacheflow/persistence/frames.py",
    "cacheflow/persistence/aof.py",
]

# Hand-written C, for the one job where Python-level calls cost more than the work itself (the file says why).
C_EXTENSIONS = [
    Extension("cacheflow.persistence.frame_codec", ["cacheflow/persistence/frame_codec.c"], extra_compile_args=["-O2"]),
]

if __name__ == "__main__":
    if sys.argv[1:] == ["--list"]:
        print(" ".join(NATIVE_MODULES))
        sys.exit(0)
    setup(
        name="cacheflow-native",
        ext_modules=mypycify(NATIVE_MODULES, group_name="cacheflow.native", opt_level="3") + C_EXTENSIONS,
        script_args=["build_ext", "--inplace", "--build-temp", "build/native"],
    )
    # build_ext leaves an extension untouched when its generated C did not change (an edit to a
    # docstring, say); it is current all the same, so mark it as newer than its source.
    for module in NATIVE_MODULES + [source for ext in C_EXTENSIONS for source in ext.sources]:
        for ext in Path(module).parent.glob(Path(module).stem + ".*.so"):
            os.utime(ext)
