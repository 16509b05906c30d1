"""The server's garbage-collector policy (server/app.py): what survives a full collection is frozen.

Run in a child interpreter: freezing is process-wide and must not touch the test process.
"""

import subprocess
import sys
import textwrap

CHILD = textwrap.dedent(
    """
    import gc
    import weakref
    from cacheflow.server.app import freeze_after_full_collection

    class Node:
        pass

    gc.callbacks.append(freeze_after_full_collection)
    kept = [[i] for i in range(1000)]  # tracked objects that stay alive
    before = gc.get_freeze_count()
    gc.collect(0)
    gc.collect(1)
    assert gc.get_freeze_count() == before, "young collections freeze nothing"
    garbage = Node()
    garbage.self = garbage  # unreachable in a cycle: the full collection frees it, nothing freezes it
    gone = weakref.ref(garbage)
    del garbage
    gc.collect(2)
    assert gone() is None
    assert gc.get_freeze_count() >= before + len(kept)
    assert gc.get_count() == (0, 0, 0) and not gc.get_objects(2)
    print("ok")
    """
)


def test_a_full_collection_frees_its_garbage_then_freezes_the_survivors() -> None:
    done = subprocess.run([sys.executable, "-c", CHILD], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "ok"
