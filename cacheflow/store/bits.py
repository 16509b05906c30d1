"""Bit-level work on string values for the bitmap commands (pure functions, no I/O).

Bits are numbered as SETBIT numbers them: bit 0 is the most significant bit
of byte 0.  Positions past the end of a string read as zero.  Whole ranges
are handled by C-level primitives (``int.from_bytes`` with ``int.bit_count``,
``bytes.lstrip``, big-integer bitwise operators) in chunks of at most
``CHUNK`` bytes, so a count or a search over a 512 MB bitmap neither loops
per bit in Python nor copies the whole value at once.
"""

CHUNK = 1 << 20

Buffer = bytes | bytearray


def popcount(data: Buffer, start: int, end: int) -> int:
    """Set bits in ``data[start:end]``."""
    total = 0
    for lo in range(start, end, CHUNK):
        total += int.from_bytes(data[lo : min(lo + CHUNK, end)], "big").bit_count()
    return total


def count_range(data: Buffer, first_bit: int, last_bit: int) -> int:
    """Set bits from ``first_bit`` to ``last_bit`` inclusive (both within the string)."""
    first_byte = first_bit >> 3
    last_byte = last_bit >> 3
    total = popcount(data, first_byte, last_byte + 1)
    head = first_bit & 7
    if head:
        total -= (data[first_byte] >> (8 - head)).bit_count()
    tail = 7 - (last_bit & 7)
    if tail:
        total -= (data[last_byte] & ((1 << tail) - 1)).bit_count()
    return total


def find_bit(data: Buffer, bit: int, first_bit: int, last_bit: int) -> int:
    """Position of the first ``bit`` (0 or 1) from ``first_bit`` to ``last_bit`` inclusive, or -1."""
    flip = 0 if bit else 0xFF
    first_byte = first_bit >> 3
    last_byte = last_bit >> 3
    head_mask = 0xFF >> (first_bit & 7)
    tail_mask = (0xFF << (7 - (last_bit & 7))) & 0xFF
    if first_byte == last_byte:
        found = (data[first_byte] ^ flip) & head_mask & tail_mask
        return first_byte * 8 + 8 - found.bit_length() if found else -1
    found = (data[first_byte] ^ flip) & head_mask
    if found:
        return first_byte * 8 + 8 - found.bit_length()
    skip = bytes((flip,))
    for lo in range(first_byte + 1, last_byte, CHUNK):
        hi = min(lo + CHUNK, last_byte)
        segment = data[lo:hi]
        rest = segment.lstrip(skip)
        if rest:
            index = lo + len(segment) - len(rest)
            return index * 8 + 8 - (rest[0] ^ flip).bit_length()
    found = (data[last_byte] ^ flip) & tail_mask
    return last_byte * 8 + 8 - found.bit_length() if found else -1


def get_field(data: Buffer, offset: int, bits: int) -> int:
    """The unsigned ``bits``-wide field at bit ``offset``, reading zeros past the end."""
    first = offset >> 3
    width = ((offset + bits - 1) >> 3) - first + 1
    chunk = bytes(data[first : first + width])
    if len(chunk) < width:
        chunk += bytes(width - len(chunk))
    shift = width * 8 - (offset & 7) - bits
    return (int.from_bytes(chunk, "big") >> shift) & ((1 << bits) - 1)


def set_field(data: bytearray, offset: int, bits: int, value: int) -> None:
    """Store the low ``bits`` bits of ``value`` at bit ``offset`` (the string must be long enough)."""
    first = offset >> 3
    width = ((offset + bits - 1) >> 3) - first + 1
    shift = width * 8 - (offset & 7) - bits
    mask = ((1 << bits) - 1) << shift
    current = int.from_bytes(data[first : first + width], "big")
    data[first : first + width] = ((current & ~mask) | ((value << shift) & mask)).to_bytes(width, "big")


def bitop(op: bytes, values: list[Buffer]) -> bytearray:
    """AND, OR, XOR or NOT of strings, the shorter ones padded with zero bytes."""
    length = max(len(v) for v in values)
    if not length:
        return bytearray()
    out = bytearray()
    for lo in range(0, length, CHUNK):
        hi = min(lo + CHUNK, length)
        size = hi - lo
        parts = [int.from_bytes(bytes(v[lo:hi]).ljust(size, b"\0"), "big") for v in values]
        acc = parts[0]
        if op == b"and":
            for p in parts[1:]:
                acc &= p
        elif op == b"or":
            for p in parts[1:]:
                acc |= p
        elif op == b"xor":
            for p in parts[1:]:
                acc ^= p
        else:
            acc ^= (1 << (8 * size)) - 1
        out += acc.to_bytes(size, "big")
    return out
