"""A process that writes a Raft log with sync=True forever and prints each index once it is durable.

Run by test_crash.py, which kills it with SIGKILL at an arbitrary moment and then
checks that every index printed (acknowledged after fsync returned) survived.
Usage: python crash_writer.py DIR SEED
"""

import random
import sys

from cacheflow.raft.core.types import ConfState, Entry, HardState
from cacheflow.raft.storage import FileStorage


def payload(index: int) -> bytes:
    """The data of entry ``index``: its number, then a size that varies so tears fall anywhere."""
    return b"%d|" % index + bytes([index % 251]) * (index * 7919 % 300)


def main() -> None:
    directory, seed = sys.argv[1], int(sys.argv[2])
    rng = random.Random(seed)
    st = FileStorage.open(directory, segment_bytes=32 * 1024)
    index = st.last_index()
    term = max(st.hard_state.term, 1)
    while True:
        n = rng.randint(1, 40)
        batch = [Entry(term=term, index=i, data=payload(i)) for i in range(index + 1, index + n + 1)]
        index += n
        st.save(HardState(term=term, vote=1, commit=index), batch, None, sync=True)
        sys.stdout.write(f"{index}\n")
        sys.stdout.flush()
        if index - st.snapshot().metadata.index > 2000:
            at = index - 100
            st.create_snapshot(at, ConfState(voters=(1,)), b"upto%d" % at)
            st.compact(at)


if __name__ == "__main__":
    main()
