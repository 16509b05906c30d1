"""kill -9 a real process that writes with sync=True: every entry it acknowledged must survive."""

import os
import signal
import subprocess
import sys
from pathlib import Path

from cacheflow.raft.storage import FileStorage

from .crash_writer import payload

REPO = Path(__file__).resolve().parents[3]
WRITER = Path(__file__).resolve().parent / "crash_writer.py"


def run_and_kill(directory: Path, seed: int, acks: int) -> int:
    """Start the writer, read ``acks`` acknowledgements, SIGKILL it; the highest index acknowledged."""
    env = dict(os.environ, PYTHONPATH=str(REPO))
    proc = subprocess.Popen(
        [sys.executable, str(WRITER), str(directory), str(seed)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
    )
    assert proc.stdout is not None
    acked = 0
    try:
        for _ in range(acks):
            line = proc.stdout.readline()
            assert line, f"writer died: {proc.stderr.read().decode() if proc.stderr else ''}"
            acked = int(line)
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
        proc.stdout.close()
        if proc.stderr:
            proc.stderr.close()
    assert proc.returncode == -signal.SIGKILL
    return acked


def test_acknowledged_entries_survive_sigkill(tmp_path: Path) -> None:
    directory = tmp_path / "node"
    acked = 0
    repaired = 0
    for round_, acks in enumerate([1, 7, 60, 150, 3, 400, 90, 250]):
        acked = max(acked, run_and_kill(directory, seed=round_, acks=acks))
        with FileStorage.open(str(directory)) as st:
            repaired += st.repaired is not None
            snap = st.snapshot().metadata.index
            first, last = st.first_index(), st.last_index()
            assert last >= acked, f"round {round_}: acknowledged {acked}, only {last} survived"
            assert first == snap + 1
            if snap:
                assert st.snapshot().data == b"upto%d" % snap
            got = st.entries(first, last + 1)
            assert [e.index for e in got] == list(range(first, last + 1))
            assert all(e.data == payload(e.index) for e in got)
            hs = st.hard_state
            assert acked <= hs.commit <= last
            acked = last  # what survived is the next round's floor: it may never shrink
    assert snap > 0  # the rounds went through snapshots and compactions (every 2000 entries)
