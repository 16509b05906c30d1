"""HyperLogLog values in Redis's own byte format: hashing, register updates, merging, estimation.

A HyperLogLog is an ordinary string value.  It starts with a 16-byte header:
the magic ``HYLL``, one encoding byte (0 dense, 1 sparse), three unused bytes
and the cached cardinality as a 64-bit little-endian integer whose most
significant bit, set, marks the cache invalid.  The registers follow:

- dense: 16384 registers of 6 bits packed from each byte's least significant
  bit upwards (12288 bytes, 12304 with the header);
- sparse: a run-length stream of opcodes, ZERO ``00xxxxxx`` (1-64 zero
  registers), XZERO ``01xxxxxx yyyyyyyy`` (1-16384 zero registers) and VAL
  ``1vvvvvxx`` (1-4 registers of value 1-32).

Values are byte-for-byte those of Redis: the same MurmurHash64A (seed
0xadc83b19) picks the register, sparse updates split and merge opcodes
exactly as Redis's ``hllSparseSet`` does (its encoding of a set of registers
depends on the order of the updates, so it is replayed, not recomputed),
and promotion to dense happens at the same points (a register above 32, or
growth past ``hll-sparse-max-bytes``).  A value copied from a real
redis-server therefore counts the same here and stays identical after the
same additions.

Whole-register work (counting, merging, converting) runs on a "raw" form:
16384 bytes, one register per byte, built from the packed forms with slicing
and ``bytes.translate`` rather than per-register Python loops.  Maxima of raw
forms are taken eight bits per lane on big integers.

Nothing here does I/O or knows about commands; a corrupt value is reported
by return values (None, -1), and the caller answers Redis's errors.
"""

import math
import re
import struct
from bisect import bisect_left, bisect_right
from collections import Counter
from collections.abc import Callable
from itertools import accumulate

HLL_P = 14
REGISTERS = 1 << HLL_P  # 16384
_P_MASK = REGISTERS - 1
HLL_Q = 64 - HLL_P  # bits of the hash left for the run of zeroes
HEADER_SIZE = 16
DENSE = 0
SPARSE = 1
MAX_ENCODING = SPARSE
DENSE_SIZE = HEADER_SIZE + REGISTERS * 6 // 8  # 12304
MAGIC = b"HYLL"
SPARSE_VAL_MAX_VALUE = 32
SPARSE_VAL_MAX_LEN = 4
SPARSE_ZERO_MAX_LEN = 64
_ALPHA_INF = 0.721347520444481703680  # 0.5 / ln(2)
_CACHE_INVALID = 0x80  # in the last byte of the cached cardinality

# -- MurmurHash64A, as Redis hashes elements -----------------------------------------

_M = 0xC6A4A7935BD1E995
_MASK64 = (1 << 64) - 1
SEED = 0xADC83B19
_H0 = [(SEED ^ (n * _M)) & _MASK64 for n in range(256)]
_BLOCKS: dict[int, struct.Struct] = {}


def _blocks(n: int) -> struct.Struct:
    """A little-endian reader of ``n`` 64-bit words (cached: element lengths repeat)."""
    reader = _BLOCKS.get(n)
    if reader is None:
        reader = struct.Struct("<%dQ" % n)
        if len(_BLOCKS) < 512:
            _BLOCKS[n] = reader
    return reader


def murmurhash64a(data: bytes | bytearray, seed: int = SEED) -> int:
    """MurmurHash2's 64-bit variant in Redis's endian-neutral form (words read little-endian)."""
    n = len(data)
    h = _H0[n] if n < 256 and seed == SEED else (seed ^ (n * _M)) & _MASK64
    words = n >> 3
    if words:
        for k in _blocks(words).unpack_from(data):
            k = (k * _M) & _MASK64
            k ^= k >> 47
            h = ((h ^ ((k * _M) & _MASK64)) * _M) & _MASK64
    if n & 7:
        h = ((h ^ int.from_bytes(data[n & ~7 :], "little")) * _M) & _MASK64
    h ^= h >> 47
    h = (h * _M) & _MASK64
    return h ^ (h >> 47)


# Hashing a batch at once: each element's 64-bit state sits in its own 128-bit lane of
# one big integer, so a product by the constant never carries into the next lane and
# one multiplication serves every element.  Lanes whose element has no word at that
# position keep their state through a selection mask.
_LANE_BITS = b"\xff" * 8 + bytes(8)
_NO_LANE = bytes(16)
_H0_LANES = [h.to_bytes(16, "little") for h in _H0]
BATCH_MIN = 32  # below this, hashing one element at a time is faster


def _lanes(parts: list[bytes]) -> int:
    return int.from_bytes(b"".join(parts), "little")


def murmurhash64a_many(elements: list[bytes]) -> list[int]:
    """murmurhash64a of every element (seed 0xadc83b19), computed lane-parallel on big integers."""
    n = len(elements)
    if not n:
        return []
    lane = _lanes([_LANE_BITS] * n)
    lens = [len(e) for e in elements]
    h = _lanes([_H0_LANES[k] if k < 256 else ((SEED ^ (k * _M)) & _MASK64).to_bytes(16, "little") for k in lens])
    shortest = min(lens)
    for start in range(0, max(lens) & ~7, 8):
        end = start + 8
        k = _lanes([e[start:end] + _NO_LANE[:8] if m >= end else _NO_LANE for e, m in zip(elements, lens)])
        k = (k * _M) & lane
        k ^= (k >> 47) & lane
        k = (k * _M) & lane
        updated = ((h ^ k) * _M) & lane
        if shortest >= end:
            h = updated
        else:
            chosen = _lanes([_LANE_BITS if m >= end else _NO_LANE for m in lens])
            h = (updated & chosen) | (h & ~chosen)
    tails = [m & 7 for m in lens]
    if any(tails):
        t = _lanes([e[m - r :].ljust(16, b"\0") for e, m, r in zip(elements, lens, tails)])
        updated = ((h ^ t) * _M) & lane
        if all(tails):
            h = updated
        else:
            chosen = _lanes([_LANE_BITS if r else _NO_LANE for r in tails])
            h = (updated & chosen) | (h & ~chosen)
    h ^= (h >> 47) & lane
    h = (h * _M) & lane
    h ^= (h >> 47) & lane
    return list(struct.unpack("<" + "Q8x" * n, h.to_bytes(16 * n, "little")))


def hashes(elements: list[bytes]) -> list[int]:
    if len(elements) >= BATCH_MIN:
        return murmurhash64a_many(elements)
    return [murmurhash64a(e) for e in elements]


def pattern(element: bytes | bytearray) -> tuple[int, int]:
    """(register index, length of the 0...01 run) an element maps to, as Redis's hllPatLen."""
    h = murmurhash64a(element)
    rest = (h >> HLL_P) | (1 << HLL_Q)
    return h & _P_MASK, (rest & -rest).bit_length()


# -- header ----------------------------------------------------------------------------


def is_hll(value: bytes | bytearray) -> bool:
    """Whether Redis would accept this string as a HyperLogLog (isHLLObjectOrReply)."""
    if len(value) < HEADER_SIZE or value[:4] != MAGIC:
        return False
    encoding = value[4]
    if encoding > MAX_ENCODING:
        return False
    return encoding != DENSE or len(value) == DENSE_SIZE


def new_sparse() -> bytearray:
    """An empty HyperLogLog as Redis creates it: sparse, one XZERO over every register."""
    return bytearray(MAGIC + bytes((SPARSE, 0, 0, 0)) + bytes(8) + bytes((0x7F, 0xFF)))


def cached_cardinality(value: bytes | bytearray) -> int | None:
    """The cached cardinality, or None when the cache is marked invalid."""
    if value[15] & _CACHE_INVALID:
        return None
    return int.from_bytes(value[8:16], "little")


def store_cardinality(value: bytearray, card: int) -> None:
    value[8:16] = card.to_bytes(8, "little")


def invalidate_cache(value: bytearray) -> None:
    value[15] |= _CACHE_INVALID


# -- raw registers (one byte each) <-> dense packing ------------------------------------


def _table(fn: Callable[[int], int]) -> bytes:
    return bytes(fn(b) & 0xFF for b in range(256))


_AND63 = _table(lambda b: b & 63)
_SHR6 = _table(lambda b: b >> 6)
_AND15_SHL2 = _table(lambda b: (b & 15) << 2)
_SHR4 = _table(lambda b: b >> 4)
_AND3_SHL4 = _table(lambda b: (b & 3) << 4)
_SHR2 = _table(lambda b: b >> 2)
_AND3_SHL6 = _table(lambda b: (b & 3) << 6)
_AND15_SHL4 = _table(lambda b: (b & 15) << 4)
_SHL2 = _table(lambda b: b << 2)
_NONZERO = _table(lambda b: 1 if b else 0)


def _or(a: bytes, b: bytes) -> bytes:
    """Bytewise OR of two equal-length strings whose set bits never overlap."""
    return (int.from_bytes(a, "big") + int.from_bytes(b, "big")).to_bytes(len(a), "big")


def dense_to_raw(value: bytes | bytearray) -> bytearray:
    """The 16384 registers of a dense value, one byte each.

    Every 3 bytes hold 4 registers: r0 = b0 & 63, r1 = b0 >> 6 | (b1 & 15) << 2,
    r2 = b1 >> 4 | (b2 & 3) << 4, r3 = b2 >> 2.
    """
    regs = value[HEADER_SIZE:DENSE_SIZE]
    b0, b1, b2 = bytes(regs[0::3]), bytes(regs[1::3]), bytes(regs[2::3])
    raw = bytearray(REGISTERS)
    raw[0::4] = b0.translate(_AND63)
    raw[1::4] = _or(b0.translate(_SHR6), b1.translate(_AND15_SHL2))
    raw[2::4] = _or(b1.translate(_SHR4), b2.translate(_AND3_SHL4))
    raw[3::4] = b2.translate(_SHR2)
    return raw


def raw_to_dense_registers(raw: bytes | bytearray) -> bytearray:
    """Pack 16384 register bytes (each below 64) into the dense 12288-byte form."""
    r0, r1, r2, r3 = bytes(raw[0::4]), bytes(raw[1::4]), bytes(raw[2::4]), bytes(raw[3::4])
    regs = bytearray(REGISTERS * 6 // 8)
    regs[0::3] = _or(r0, r1.translate(_AND3_SHL6))
    regs[1::3] = _or(r1.translate(_SHR2), r2.translate(_AND15_SHL4))
    regs[2::3] = _or(r2.translate(_SHR4), r3.translate(_SHL2))
    return regs


# -- sparse opcodes ---------------------------------------------------------------------
#
# Decoded, a sparse value is a list of opcode ints: the byte itself for ZERO and
# VAL, and the two bytes read big-endian (0x4000-0x7fff) for XZERO, so that
# ``op >= _XZERO`` tells an XZERO.  Decoding and encoding run in C (list(),
# bytes.translate, bytes()) except around the few XZEROs: a byte in 0x40-0x7f
# starts an XZERO unless it is the second byte of the one before.
#
# Every opcode covers at least one register, so a valid sparse value has at
# most 16384 of them, 32768 bytes.  A longer one is corrupt whatever it holds;
# it is refused up front rather than decoded into lists of its size.

_XZERO = 0x4000
MAX_SPARSE_BODY = 2 * REGISTERS
_XZERO_FIRST = re.compile(rb"[\x40-\x7f]")
_SINGLE_SPAN = bytes(((b & 3) + 1) if b & 0x80 else ((b & 0x3F) + 1) for b in range(256))


def _span(op: int) -> int:
    if op >= _XZERO:
        return (op & 0x3FFF) + 1
    if op & 0x80:
        return (op & 3) + 1
    return (op & 0x3F) + 1


def _zeros(n: int) -> int:
    """The opcode Redis writes for a run of n zero registers."""
    return _XZERO | (n - 1) if n > SPARSE_ZERO_MAX_LEN else n - 1


def _val(value: int, n: int) -> int:
    return 0x80 | ((value - 1) << 2) | (n - 1)


class Decoded:
    """A sparse value's opcodes, the first register each covers, and where its XZEROs are.

    ``xzeros`` lists (in order) the indexes in ``ops`` of the XZERO opcodes;
    there are few, and they are what keeps encoding a matter of C-level copies.
    ``truncated``: the value ends one byte into its last XZERO (a corrupt value
    Redis still reads, taking its NUL terminator as the missing byte).
    """

    __slots__ = ("ops", "starts", "xzeros", "truncated")

    def __init__(self, ops: list[int], starts: list[int], xzeros: list[int], truncated: bool) -> None:
        self.ops = ops
        self.starts = starts
        self.xzeros = xzeros
        self.truncated = truncated

    def encode(self) -> bytes:
        ops = self.ops
        if not self.xzeros:
            body = bytes(ops)
        else:
            parts: list[bytes] = []
            previous = 0
            for at in self.xzeros:
                parts.append(bytes(ops[previous:at]))
                op = ops[at]
                parts.append(bytes((op >> 8, op & 0xFF)))
                previous = at + 1
            parts.append(bytes(ops[previous:]))
            body = b"".join(parts)
        if self.truncated and body:
            body = body[:-1]  # Redis's string still ends one byte short of its last XZERO
        return body


def _decode_body(body: bytes) -> tuple[list[int], list[int], list[int], bool]:
    """(opcodes, registers each covers, indexes of the XZEROs, truncated) of a sparse body."""
    ops = list(body)
    spans = list(body.translate(_SINGLE_SPAN))
    firsts: list[int] = []
    previous = -2
    for match in _XZERO_FIRST.finditer(body):
        at = match.start()
        if at != previous + 1:
            firsts.append(at)
            previous = at
    truncated = False
    n = len(body)
    for at in reversed(firsts):
        if at + 1 < n:
            op = (body[at] << 8) | body[at + 1]
        else:
            op = body[at] << 8
            truncated = True
        ops[at : at + 2] = [op]
        spans[at : at + 2] = [(op & 0x3FFF) + 1]
    # Each earlier XZERO took two bytes for one opcode.
    xzeros = [at - k for k, at in enumerate(firsts)]
    return ops, spans, xzeros, truncated


# The last sparse value an editor finished with, decoded, keyed by its body: a run of
# PFADDs on one key then decodes it once, not once per command.  Taken entries are
# removed, since the editor changes the lists in place.
_memo: tuple[bytes, Decoded] | None = None


def decode(value: bytes | bytearray) -> Decoded:
    """The decoded opcodes of a sparse value, for the caller to modify."""
    global _memo
    body = bytes(value[HEADER_SIZE:])
    memo = _memo
    if memo is not None and memo[0] == body:
        _memo = None
        return memo[1]
    ops, spans, xzeros, truncated = _decode_body(body)
    return Decoded(ops, list(accumulate(spans, initial=0))[:-1], xzeros, truncated)


def _remember(body: bytes, decoded: Decoded) -> None:
    global _memo
    _memo = (body, decoded)


def _ops_of(value: bytes | bytearray) -> list[int]:
    """Opcodes for reading only (the memo's when it matches)."""
    body = bytes(value[HEADER_SIZE:])
    memo = _memo
    if memo is not None and memo[0] == body:
        return memo[1].ops
    return _decode_body(body)[0]


class _Runs(dict[int, bytes]):
    """Register bytes an opcode stands for; XZERO runs are made on demand rather than stored."""

    def __missing__(self, op: int) -> bytes:
        return bytes((op & 0x3FFF) + 1)


_RUNS = _Runs(
    (b, bytes((((b >> 2) & 31) + 1,)) * ((b & 3) + 1) if b & 0x80 else bytes((b & 0x3F) + 1))
    for b in range(256)
    if b & 0xC0 != 0x40
)


def sparse_to_raw(value: bytes | bytearray) -> bytearray | None:
    """Registers of a sparse value, one byte each; None when the opcodes do not cover exactly 16384.

    Redis's hllMerge/hllSparseToDense also stop at a VAL run passing the last
    register; that can only happen when the total is wrong, which is checked
    first (it also bounds the memory a corrupt value can make us allocate).
    """
    if len(value) - HEADER_SIZE > MAX_SPARSE_BODY:
        return None
    ops = _ops_of(value)
    if sum(map(_span, ops)) != REGISTERS:
        return None
    return bytearray(b"".join(map(_RUNS.__getitem__, ops)))


def registers_raw(value: bytes | bytearray) -> bytearray | None:
    """Raw registers of a valid-looking HLL (see is_hll); None when a sparse one is corrupt."""
    if value[4] == DENSE:
        return dense_to_raw(value)
    return sparse_to_raw(value)


# Lane-wise maximum of raw registers, eight bits per register, on one big integer.
_HIGH = int.from_bytes(b"\x80" * REGISTERS, "little")


def raw_to_lanes(raw: bytes | bytearray) -> int:
    return int.from_bytes(raw, "little")


def lanes_to_raw(lanes: int) -> bytes:
    return lanes.to_bytes(REGISTERS, "little")


def lanes_max(a: int, b: int) -> int:
    """Per-register maximum: lane i of (a | 0x80..) - b keeps bit 7 exactly when a_i >= b_i (values < 128)."""
    keep_a = ((((a | _HIGH) - b) & _HIGH) >> 7) * 0xFF
    return (a & keep_a) | (b & ~keep_a)


# -- estimation ----------------------------------------------------------------------------


def _sigma(x: float) -> float:
    if x == 1.0:
        return math.inf
    y = 1.0
    z = x
    while True:
        x *= x
        previous = z
        z += x * y
        y += y
        if previous == z:
            return z


def _tau(x: float) -> float:
    if x == 0.0 or x == 1.0:
        return 0.0
    y = 1.0
    z = 1 - x
    while True:
        x = math.sqrt(x)
        previous = z
        y *= 0.5
        z -= math.pow(1 - x, 2) * y
        if previous == z:
            return z / 3


def estimate(histogram: list[int]) -> int:
    """Redis's cardinality from a register histogram (Ertl's estimator, as hllCount since Redis 5).

    Same double arithmetic in the same order, and llroundl's rounding (half
    away from zero); the result is the unsigned 64-bit value Redis stores.
    """
    m = float(REGISTERS)
    z = m * _tau((m - histogram[HLL_Q + 1]) / m)
    for j in range(HLL_Q, 0, -1):
        z += histogram[j]
        z *= 0.5
    z += m * _sigma(histogram[0] / m)
    if z == 0.0:
        return 1 << 63  # C: llroundl(inf) gives LLONG_MIN
    e = _ALPHA_INF * m * m / z
    if e != e or e >= 2.0**63:
        return 1 << 63
    floor = math.floor(e)
    return int(floor) + (1 if e - floor >= 0.5 else 0)


def raw_histogram(raw: bytes | bytearray) -> list[int]:
    """Registers per value, counted in C one value at a time until all 16384 are accounted for.

    Register values rarely pass 20, so this stops long before 64 passes.
    """
    hist = [0] * 64
    count = raw.count
    seen = 0
    for v in range(64):
        n = count(v)
        hist[v] = n
        seen += n
        if seen >= len(raw):
            break
    return hist


def sparse_histogram(value: bytes | bytearray) -> list[int] | None:
    """Histogram of a sparse value's registers; None when they do not add up to 16384 (hllSparseRegHisto)."""
    if len(value) - HEADER_SIZE > MAX_SPARSE_BODY:
        return None
    ops = _ops_of(value)
    hist = [0] * 64
    for op, times in Counter(ops).items():
        if op >= _XZERO:
            hist[0] += ((op & 0x3FFF) + 1) * times
        elif op & 0x80:
            hist[((op >> 2) & 0x1F) + 1] += ((op & 3) + 1) * times
        else:
            hist[0] += ((op & 0x3F) + 1) * times
    return hist if sum(hist) == REGISTERS else None


def count(value: bytes | bytearray) -> int | None:
    """The estimated cardinality of a valid-looking HLL's registers (ignoring the cache); None if corrupt."""
    if value[4] == DENSE:
        return estimate(raw_histogram(dense_to_raw(value)))
    hist = sparse_histogram(value)
    return None if hist is None else estimate(hist)


# -- editing -----------------------------------------------------------------------------
#
# While a command edits a sparse value, its opcodes live in a list, with the
# index of the first register each covers in a parallel list, so the opcode
# holding a register is found by bisection and a split is a list splice.


class HllEditor:
    """A HyperLogLog value being modified by one command; ``value()`` gives the result.

    The bytearray is edited in place.  For a sparse value the opcodes are
    also decoded into lists on the first update (or taken from the memo), to
    find registers by bisection; ``value()`` hands the lists back to the memo.
    Every update follows Redis's hllSparseSet / hllDenseSet step for step, so
    the bytes come out identical.
    """

    __slots__ = ("buf", "decoded", "size", "sparse_max_bytes", "dirty")

    def __init__(self, value: bytearray, sparse_max_bytes: int) -> None:
        self.buf = value
        self.sparse_max_bytes = sparse_max_bytes
        self.decoded: Decoded | None = None
        self.size = len(value)
        self.dirty = False

    @property
    def encoding(self) -> int:
        return self.buf[4]

    def value(self) -> bytearray:
        """The edited value (the same bytearray, changed in place; a truncated one is re-encoded here)."""
        decoded = self.decoded
        if decoded is not None:
            if self.dirty:
                body = decoded.encode()
                del self.buf[HEADER_SIZE:]
                self.buf += body
                self.dirty = False
            else:
                body = bytes(self.buf[HEADER_SIZE:])
            _remember(body, decoded)
            self.decoded = None
        return self.buf

    # -- updates -------------------------------------------------------------------------

    def add(self, element: bytes) -> int:
        """hllAdd: 1 when a register grew, 0 when not, -1 when the value is corrupt."""
        index, run = pattern(element)
        return self.set(index, run)

    def add_many(self, elements: list[bytes]) -> tuple[int, bool]:
        """(registers updated, whether a corrupt value stopped it) for PFADD's loop."""
        updated = 0
        buf = self.buf
        for h in hashes(elements):
            rest = (h >> HLL_P) | (1 << HLL_Q)
            run = (rest & -rest).bit_length()
            if buf[4] != DENSE:
                r = self._sparse_set(h & _P_MASK, run)
                if r < 0:
                    return updated, True
                updated += r
                continue
            # The dense update inlined: with hashing, this loop is PFADD's cost per element.
            bit = (h & _P_MASK) * 6
            pos = HEADER_SIZE + (bit >> 3)
            fb = bit & 7
            if fb <= 2:
                b = buf[pos]
                if run > (b >> fb) & 63:
                    buf[pos] = (b & ~(63 << fb) & 0xFF) | (run << fb)
                    updated += 1
            else:
                w = buf[pos] | (buf[pos + 1] << 8)
                if run > (w >> fb) & 63:
                    w = (w & ~(63 << fb)) | (run << fb)
                    buf[pos] = w & 0xFF
                    buf[pos + 1] = w >> 8
                    updated += 1
        return updated, False

    def set(self, index: int, run: int) -> int:
        if self.buf[4] == DENSE:
            return _dense_set(self.buf, index, run)
        return self._sparse_set(index, run)

    def to_dense(self) -> bool:
        """hllSparseToDense: False when the sparse opcodes are corrupt (the value is left as it was)."""
        if self.buf[4] == DENSE:
            return True
        raw = sparse_to_raw(self.value())
        if raw is None:
            return False
        header = bytearray(self.buf[:HEADER_SIZE])
        header[4] = DENSE
        self.buf[:] = header + raw_to_dense_registers(raw)
        self.size = len(self.buf)
        return True

    def merge_lanes(self, lanes: int) -> None:
        """Raise every register to at least the given one (PFMERGE's write), in Redis's update order."""
        if self.buf[4] != DENSE:
            raw = lanes_to_raw(lanes)
            # Visit the nonzero registers in order, finding each with a C-level search.
            find = raw.translate(_NONZERO).find
            index = find(1)
            while index >= 0:
                if self._sparse_set(index, raw[index]) < 0:
                    return
                if self.buf[4] == DENSE:
                    break
                index = find(1, index + 1)
            else:
                return
        current = raw_to_lanes(dense_to_raw(self.buf))
        merged = lanes_max(current, lanes)
        if merged != current:
            self.buf[HEADER_SIZE:] = raw_to_dense_registers(lanes_to_raw(merged))

    def _promote(self, index: int, run: int) -> int:
        if not self.to_dense():
            return -1
        return _dense_set(self.buf, index, run)

    def _sparse_set(self, index: int, run: int) -> int:
        """hllSparseSet, step for step (its opcode layout depends on it)."""
        if run > SPARSE_VAL_MAX_VALUE:
            return self._promote(index, run)
        decoded = self.decoded
        if decoded is None:
            if len(self.buf) - HEADER_SIZE > MAX_SPARSE_BODY:
                return -1
            decoded = self.decoded = decode(self.buf)
        ops = decoded.ops
        starts = decoded.starts
        i = bisect_right(starts, index) - 1
        if i < 0:
            return -1
        op = ops[i]
        first = starts[i]
        span = _span(op)
        if index >= first + span:
            return -1  # the opcodes end before this register: corrupt
        is_xzero = op >= _XZERO
        if not is_xzero and op & 0x80 and ((op >> 2) & 0x1F) + 1 >= run:
            return 0
        # The bytes are edited along with the lists (the position of opcode i is i plus the
        # XZEROs before it), except in a truncated value, which is re-encoded at the end.
        in_place = not decoded.truncated
        buf = self.buf
        if span == 1 and not is_xzero:
            # A VAL or ZERO of one register becomes a VAL of the new value.
            ops[i] = _val(run, 1)
            if in_place:
                buf[HEADER_SIZE + i + bisect_left(decoded.xzeros, i)] = ops[i]
        else:
            last = first + span - 1
            seq: list[int] = []
            seq_starts: list[int] = []
            if not is_xzero and op & 0x80:
                current = ((op >> 2) & 0x1F) + 1
                if index != first:
                    seq.append(_val(current, index - first))
                    seq_starts.append(first)
                seq.append(_val(run, 1))
                seq_starts.append(index)
                if index != last:
                    seq.append(_val(current, last - index))
                    seq_starts.append(index + 1)
            else:
                if index != first:
                    seq.append(_zeros(index - first))
                    seq_starts.append(first)
                seq.append(_val(run, 1))
                seq_starts.append(index)
                if index != last:
                    seq.append(_zeros(last - index))
                    seq_starts.append(index + 1)
            new_xzeros = [i + k for k, s in enumerate(seq) if s >= _XZERO]
            grown = len(seq) + len(new_xzeros) - (2 if is_xzero else 1)
            if grown > 0 and self.size + grown > self.sparse_max_bytes:
                return self._promote(index, run)
            xzeros = decoded.xzeros
            if in_place:
                at = HEADER_SIZE + i + bisect_left(xzeros, i)
                buf[at : at + (2 if is_xzero else 1)] = _op_bytes(seq)
            ops[i : i + 1] = seq
            starts[i : i + 1] = seq_starts
            self.size += grown
            if is_xzero or new_xzeros or (xzeros and xzeros[-1] > i):
                at = bisect_right(xzeros, i - 1)
                later = [x + len(seq) - 1 for x in xzeros[at:] if x != i]
                xzeros[at:] = new_xzeros + later
        # Merge adjacent VALs of equal value, scanning up to 5 opcodes from the previous one.
        p = i - 1 if i > 0 else 0
        scan = 5
        while p < len(ops) and scan:
            scan -= 1
            op = ops[p]
            if op >= _XZERO or not op & 0x80:
                p += 1
                continue
            if p + 1 < len(ops):
                nxt = ops[p + 1]
                if nxt < _XZERO and nxt & 0x80 and (nxt >> 2) & 0x1F == (op >> 2) & 0x1F:
                    total = (op & 3) + (nxt & 3) + 2
                    if total <= SPARSE_VAL_MAX_LEN:
                        merged = _val(((op >> 2) & 0x1F) + 1, total)
                        xzeros = decoded.xzeros
                        if in_place:
                            at = HEADER_SIZE + p + bisect_left(xzeros, p)
                            buf[at : at + 2] = bytes((merged,))
                        ops[p + 1] = merged
                        del ops[p]
                        del starts[p + 1]
                        self.size -= 1
                        if xzeros and xzeros[-1] > p:
                            at = bisect_right(xzeros, p)
                            xzeros[at:] = [x - 1 for x in xzeros[at:]]
                        continue
            p += 1
        if not in_place:
            self.dirty = True
        invalidate_cache(buf)
        return 1


def _op_bytes(ops: list[int]) -> bytes:
    return b"".join(bytes((op >> 8, op & 0xFF)) if op >= _XZERO else bytes((op,)) for op in ops)


def _dense_set(buf: bytearray, index: int, run: int) -> int:
    bit = index * 6
    pos = HEADER_SIZE + (bit >> 3)
    fb = bit & 7
    if fb <= 2:
        b = buf[pos]
        if run > (b >> fb) & 63:
            buf[pos] = (b & ~(63 << fb) & 0xFF) | (run << fb)
            return 1
        return 0
    w = buf[pos] | (buf[pos + 1] << 8)
    if run > (w >> fb) & 63:
        w = (w & ~(63 << fb)) | (run << fb)
        buf[pos] = w & 0xFF
        buf[pos + 1] = w >> 8
        return 1
    return 0


# -- PFDEBUG ---------------------------------------------------------------------------------


def decode_sparse(value: bytes | bytearray) -> bytes:
    """PFDEBUG DECODE's text: ``z:len``, ``Z:len`` and ``v:value,len`` per opcode."""
    parts: list[bytes] = []
    i = HEADER_SIZE
    n = len(value)
    while i < n:
        b = value[i]
        if b & 0x80:
            parts.append(b"v:%d,%d" % (((b >> 2) & 31) + 1, (b & 3) + 1))
            i += 1
        elif b & 0x40:
            low = value[i + 1] if i + 1 < n else 0
            parts.append(b"Z:%d" % ((((b & 0x3F) << 8) | low) + 1))
            i += 2
        else:
            parts.append(b"z:%d" % ((b & 0x3F) + 1))
            i += 1
    return b" ".join(parts)


def self_test() -> str | None:
    """A quick check of register packing and of sparse/dense agreement; an error text on failure."""
    raw = bytes((i * 7 + (i >> 5)) & 63 for i in range(REGISTERS))
    if bytes(dense_to_raw(bytes(HEADER_SIZE) + raw_to_dense_registers(raw))) != raw:
        return "TESTFAILED Register packing does not round-trip"
    sparse = HllEditor(new_sparse(), 1 << 30)
    dense = HllEditor(new_sparse(), 1 << 30)
    dense.to_dense()
    elements = [b"%d" % i for i in range(2000)]
    sparse.add_many(elements)
    dense.add_many(elements)
    a = sparse_to_raw(sparse.value())
    if a is None or a != dense_to_raw(dense.value()):
        return "TESTFAILED Sparse and dense representations disagree"
    card = count(dense.value())
    if card is None or abs(card - 2000) > 2000 * 0.05:
        return "TESTFAILED Too big error. card:%d abs:%d" % (card or 0, 2000)
    return None
