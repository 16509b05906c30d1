"""Blocking list commands with several real clients, compared with the real redis-server.

Each scenario runs against one server and returns what every client received;
the same scenario runs against CacheFlow and Redis and the results must be
equal byte for byte.  Clients are put in a known order by waiting, after each
blocking command, until INFO reports one more blocked client; no test relies
on timing.
"""

from collections.abc import Callable, Iterator

import pytest
import redis
from servers import ServerProcess, wait_until
from wire import Wire


def info_field(w: Wire, section: str, name: str) -> str:
    text = w.call("INFO", section).decode()
    for line in text.split("\r\n"):
        if line.startswith(name + ":"):
            return line.split(":", 1)[1]
    raise AssertionError(f"{name} not in INFO {section}")


class Scene:
    """Clients of one server, opened on demand, plus an admin connection."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.admin = Wire(port)
        self.admin.call("FLUSHALL")
        self.clients: list[Wire] = []

    def client(self, proto: int = 2) -> Wire:
        w = Wire(self.port, proto)
        self.clients.append(w)
        return w

    def blocked(self) -> int:
        return int(info_field(self.admin, "clients", "blocked_clients"))

    def block(self, w: Wire, *command: str) -> None:
        """Send a command that blocks, and wait until the server has it blocked."""
        before = self.blocked()
        w.send(*command)
        wait_until(lambda: self.blocked() == before + 1, message=f"{command} to block")

    def close(self) -> None:
        for w in [self.admin, *self.clients]:
            w.close()


Scenario = Callable[[Scene], list[bytes]]


@pytest.fixture
def compare(cacheflow: ServerProcess, real_redis: ServerProcess) -> Iterator[Callable[[Scenario], list[bytes]]]:
    scenes: list[Scene] = []

    def run(scenario: Scenario) -> list[bytes]:
        results = []
        for port in (cacheflow.port, real_redis.port):
            scene = Scene(port)
            scenes.append(scene)
            results.append(scenario(scene))
        ours, theirs = results
        assert ours == theirs, f"CacheFlow {ours!r}\nRedis     {theirs!r}"
        return ours

    yield run
    for scene in scenes:
        scene.close()


def test_waiters_are_served_first_come_first_served(compare: Callable[[Scenario], list[bytes]]) -> None:
    def scenario(s: Scene) -> list[bytes]:
        a, b, c, d = (s.client() for _ in range(4))
        s.block(a, "BLPOP", "q", "0")
        s.block(b, "BRPOP", "other", "q", "0")
        s.block(c, "BLPOP", "q", "0")
        s.block(d, "BLMPOP", "0", "1", "q", "LEFT", "COUNT", "5")
        out = [s.admin.call("RPUSH", "q", "1", "2", "3")]
        out += [a.read_reply(), b.read_reply(), c.read_reply()]
        out.append(s.admin.call("LLEN", "q"))
        out.append(s.admin.call("INFO", "clients").split(b"blocked_clients:")[1].split(b"\r\n")[0])
        out.append(s.admin.call("RPUSH", "q", "4", "5"))
        out.append(d.read_reply())
        out.append(s.admin.call("EXISTS", "q"))
        return out

    assert compare(scenario)[1:4] == [
        b"*2\r\n$1\r\nq\r\n$1\r\n1\r\n",
        b"*2\r\n$1\r\nq\r\n$1\r\n3\r\n",
        b"*2\r\n$1\r\nq\r\n$1\r\n2\r\n",
    ]


def test_wake_ups_by_other_writes(compare: Callable[[Scenario], list[bytes]]) -> None:
    def scenario(s: Scene) -> list[bytes]:
        out = []
        w = s.client()
        s.admin.call("RPUSH", "src", "a", "b", "c", "d", "e")
        s.block(w, "BLPOP", "k1", "0")
        out.append(s.admin.call("LMOVE", "src", "k1", "LEFT", "RIGHT"))
        out.append(w.read_reply())
        s.block(w, "BLPOP", "k2", "0")
        out.append(s.admin.call("RPOPLPUSH", "src", "k2"))
        out.append(w.read_reply())
        s.block(w, "BLPOP", "k3", "0")
        s.admin.call("RPUSH", "tmp", "x")
        out.append(s.admin.call("RENAME", "tmp", "k3"))
        out.append(w.read_reply())
        s.block(w, "BRPOP", "k4", "0")
        s.admin.call("RPUSH", "tmp", "y")
        out.append(s.admin.call("COPY", "tmp", "k4"))
        out.append(w.read_reply())
        s.block(w, "BLPOP", "k5", "0")
        s.admin.call("SELECT", "1")
        s.admin.call("RPUSH", "k5", "z")
        out.append(s.admin.call("MOVE", "k5", "0"))
        out.append(w.read_reply())
        s.admin.call("SELECT", "0")
        s.block(w, "BLPOP", "k6", "0")
        out.append(s.admin.call("MULTI"))
        out.append(s.admin.call("RPUSH", "k6", "m1"))
        out.append(s.admin.call("RPUSH", "k6", "m2"))
        out.append(s.admin.call("LRANGE", "k6", "0", "-1"))
        out.append(s.admin.call("EXEC"))  # the client is served after the whole transaction
        out.append(w.read_reply())
        out.append(s.admin.call("LRANGE", "k6", "0", "-1"))
        return out

    compare(scenario)


def test_a_client_blocked_on_several_keys_takes_the_first_ready(compare: Callable[[Scenario], list[bytes]]) -> None:
    def scenario(s: Scene) -> list[bytes]:
        w = s.client()
        s.block(w, "BLPOP", "a", "b", "c", "0")
        s.admin.call("MULTI")
        s.admin.call("RPUSH", "c", "1")
        s.admin.call("RPUSH", "b", "2")
        s.admin.call("EXEC")
        return [w.read_reply(), s.admin.call("LRANGE", "b", "0", "-1"), s.admin.call("LRANGE", "c", "0", "-1")]

    assert compare(scenario)[0] == b"*2\r\n$1\r\nc\r\n$1\r\n1\r\n"


def test_blmove_serves_the_next_waiter_and_breaks_watches(compare: Callable[[Scenario], list[bytes]]) -> None:
    def scenario(s: Scene) -> list[bytes]:
        mover, popper, watcher = s.client(), s.client(), s.client()
        out = [watcher.call("WATCH", "dst2")]
        s.block(mover, "BLMOVE", "src", "dst", "RIGHT", "LEFT", "0")
        s.block(popper, "BRPOPLPUSH", "dst", "dst2", "0")
        out.append(s.admin.call("RPUSH", "src", "x"))
        out += [mover.read_reply(), popper.read_reply()]
        out += [watcher.call("MULTI"), watcher.call("PING"), watcher.call("EXEC")]
        out += [s.admin.call("EXISTS", "src", "dst"), s.admin.call("LRANGE", "dst2", "0", "-1")]
        return out

    assert compare(scenario)[-3] == b"*-1\r\n"


def test_blmove_onto_a_wrong_type_answers_the_error(compare: Callable[[Scenario], list[bytes]]) -> None:
    def scenario(s: Scene) -> list[bytes]:
        w = s.client()
        s.block(w, "BLMOVE", "src", "str", "LEFT", "LEFT", "0")
        s.admin.call("SET", "str", "x")
        s.admin.call("RPUSH", "src", "1")
        return [w.read_reply(), s.admin.call("LRANGE", "src", "0", "-1"), w.call("PING")]

    assert compare(scenario)[0].startswith(b"-WRONGTYPE")


def test_timeouts_including_sub_second(compare: Callable[[Scenario], list[bytes]]) -> None:
    def scenario(s: Scene) -> list[bytes]:
        w2, w3, wm, wl = s.client(), s.client(3), s.client(), s.client()
        w2.send("BLPOP", "q", "0.05")
        w3.send("BRPOP", "q", "0.1")
        wm.send("BLMOVE", "q", "d", "LEFT", "LEFT", "0.01")
        wl.send("BLMPOP", "0.2", "2", "q", "r", "RIGHT")
        out = [w2.read_reply(), w3.read_reply(), wm.read_reply(), wl.read_reply()]
        out += [w2.call("PING"), s.admin.call("EXISTS", "q", "d")]
        return out

    assert compare(scenario)[:4] == [b"*-1\r\n", b"_\r\n", b"*-1\r\n", b"*-1\r\n"]


def test_forever_and_client_unblock(compare: Callable[[Scenario], list[bytes]]) -> None:
    def scenario(s: Scene) -> list[bytes]:
        s.admin.call("CONFIG", "RESETSTAT")  # errorstats below: earlier tests' errors differ (CLIENT SETINFO is 7.2+)
        w = s.client()
        wid = w.call("CLIENT", "ID").decode()[1:-2]
        out = []
        s.block(w, "BLPOP", "q", "0")
        out.append(info_field(s.admin, "clients", "clients_in_timeout_table").encode())
        out.append(s.admin.call("CLIENT", "UNBLOCK", wid, "TIMEOUT"))
        out.append(w.read_reply())
        s.block(w, "BRPOPLPUSH", "q", "d", "100")
        out.append(info_field(s.admin, "clients", "clients_in_timeout_table").encode())
        out.append(s.admin.call("CLIENT", "UNBLOCK", wid, "error"))
        out.append(w.read_reply())
        out.append(s.admin.call("CLIENT", "UNBLOCK", wid))  # not blocked any more
        s.block(w, "BLMPOP", "0", "1", "q", "LEFT")
        out.append(s.admin.call("CLIENT", "UNBLOCK", wid))
        out.append(w.read_reply())
        out.append(s.admin.call("CLIENT", "UNBLOCK", wid, "nope"))
        out.append(s.admin.call("CLIENT", "UNBLOCK", "x"))
        out.append(s.admin.call("CLIENT", "UNBLOCK", "999999"))
        out.append(s.admin.call("CLIENT", "UNBLOCK", wid, "TIMEOUT", "extra"))
        out.append(s.admin.call("INFO", "errorstats"))
        return out

    assert compare(scenario)[2] == b"*-1\r\n"


def test_client_list_and_info_show_blocked_clients(compare: Callable[[Scenario], list[bytes]]) -> None:
    def scenario(s: Scene) -> list[bytes]:
        w = s.client()
        wid = w.call("CLIENT", "ID").decode()[1:-2]
        s.block(w, "BRPOP", "q", "0")
        line = s.admin.call("CLIENT", "LIST", "ID", wid).decode()
        fields = dict(f.split("=", 1) for f in line.split("\r\n")[1].split(" "))
        out = [fields["flags"].encode(), fields["cmd"].encode(), fields["db"].encode()]
        out.append(info_field(s.admin, "clients", "blocked_clients").encode())
        out.append(s.admin.call("RPUSH", "q", "v"))
        out.append(w.read_reply())
        line = s.admin.call("CLIENT", "LIST", "ID", wid).decode()
        fields = dict(f.split("=", 1) for f in line.split("\r\n")[1].split(" "))
        out += [fields["flags"].encode(), fields["cmd"].encode()]
        out.append(info_field(s.admin, "clients", "blocked_clients").encode())
        return out

    assert compare(scenario)[:2] == [b"b", b"brpop"]


def test_pipelined_requests_wait_for_the_unblock(compare: Callable[[Scenario], list[bytes]]) -> None:
    def scenario(s: Scene) -> list[bytes]:
        w = s.client()
        before = s.blocked()
        w.sock.sendall(
            b"*3\r\n$5\r\nBLPOP\r\n$1\r\nq\r\n$1\r\n0\r\n*1\r\n$4\r\nPING\r\n*2\r\n$4\r\nLLEN\r\n$1\r\nq\r\n"
        )
        wait_until(lambda: s.blocked() == before + 1)
        w.send("ECHO", "later")  # arrives while blocked: queued behind the rest
        out = [s.admin.call("RPUSH", "q", "a", "b")]
        out += [w.read_reply(), w.read_reply(), w.read_reply(), w.read_reply()]
        return out

    assert compare(scenario) == [
        b":2\r\n",
        b"*2\r\n$1\r\nq\r\n$1\r\na\r\n",
        b"+PONG\r\n",
        b":1\r\n",
        b"$5\r\nlater\r\n",
    ]


def test_a_client_that_disconnects_while_blocked_is_forgotten(compare: Callable[[Scenario], list[bytes]]) -> None:
    def scenario(s: Scene) -> list[bytes]:
        gone, killed, stays = s.client(), s.client(), s.client()
        killed_id = killed.call("CLIENT", "ID").decode()[1:-2]
        s.block(gone, "BLPOP", "q", "0")
        s.block(killed, "BLPOP", "q", "0")
        s.block(stays, "BLPOP", "q", "0")
        gone.close()
        wait_until(lambda: s.blocked() == 2)
        out = [s.admin.call("CLIENT", "KILL", "ID", killed_id)]
        wait_until(lambda: s.blocked() == 1)
        out.append(s.admin.call("RPUSH", "q", "a", "b"))
        out.append(stays.read_reply())
        out.append(s.admin.call("LRANGE", "q", "0", "-1"))
        return out

    compare(scenario)


def test_served_pops_replicate_as_plain_pops_in_commandstats(
    compare: Callable[[Scenario], list[bytes]],
) -> None:
    def scenario(s: Scene) -> list[bytes]:
        s.admin.call("CONFIG", "RESETSTAT")
        w = s.client()
        s.block(w, "BLPOP", "q", "0")
        s.admin.call("RPUSH", "q", "a")
        w.read_reply()
        stats = s.admin.call("INFO", "commandstats").decode()
        line = next(x for x in stats.split("\r\n") if x.startswith("cmdstat_blpop:"))
        return [line.split("calls=")[1].split(",")[0].encode(), line.split("failed_calls=")[1].encode()]

    assert compare(scenario) == [b"1", b"0"]


def test_redis_py_blocking_api(cacheflow: ServerProcess) -> None:
    """A real client library: redis-py's blpop/blmove with float timeouts."""
    client = cacheflow.client()
    pusher = cacheflow.client()
    try:
        client.flushall()
        assert client.blpop(["nothing"], timeout=0.05) is None
        assert client.blmove("nothing", "x", 0.05, "LEFT", "RIGHT") is None
        pusher.rpush("q", "v")
        assert client.blpop(["q"], timeout=1) == (b"q", b"v")
        pusher.rpush("q2", "1", "2")
        assert client.blmpop(1, 1, "q2", direction="RIGHT", count=5) == [b"q2", [b"2", b"1"]]
    finally:
        client.close()
        pusher.close()


def test_many_clients_fifo_against_redis(compare: Callable[[Scenario], list[bytes]]) -> None:
    def scenario(s: Scene) -> list[bytes]:
        waiters = [s.client() for _ in range(12)]
        for i, w in enumerate(waiters):
            s.block(w, "BLPOP" if i % 2 else "BRPOP", f"k{i % 3}", "k9", "0")
        s.admin.call("RPUSH", "k9", *[str(i) for i in range(6)])
        for i in range(3):
            s.admin.call("LPUSH", f"k{i}", "x", "y")
        return [w.read_reply() for w in waiters]

    compare(scenario)


def test_redis_py_client_sees_timeouts_as_none(r: redis.Redis) -> None:
    assert r.brpop(["a", "b"], timeout=0.01) is None
    assert r.brpoplpush("a", "b", timeout=0.01) is None


def test_a_waiter_is_served_before_the_pushers_next_pipelined_command(
    compare: Callable[[Scenario], list[bytes]],
) -> None:
    def scenario(s: Scene) -> list[bytes]:
        w = s.client()
        s.block(w, "BLPOP", "q", "0")
        s.admin.sock.sendall(b"*3\r\n$5\r\nLPUSH\r\n$1\r\nq\r\n$1\r\nx\r\n*2\r\n$4\r\nLLEN\r\n$1\r\nq\r\n")
        return [s.admin.read_replies(2), w.read_reply()]

    assert compare(scenario)[0] == b":1\r\n:0\r\n"
