"""The one exception every RDB decoding failure raises.

A corrupt or unsupported file, DUMP payload or blob is reported with the byte
offset where the decoder stopped and what it found wrong there, so that
``cacheflow-check-rdb``, the server's startup log and RESTORE can all say the
same precise thing.  Decoders never let another exception escape: whatever
goes wrong inside them (a short read, an impossible length) becomes an
``RdbError``.
"""


class RdbError(Exception):
    """Bad or unsupported RDB data at byte ``offset`` (from the start of the file or payload)."""

    def __init__(self, offset: int, message: str) -> None:
        super().__init__(f"{message} (at offset {offset})")
        self.offset = offset
        self.message = message


class EmptyValueError(RdbError):
    """A collection with no elements: a snapshot skips the key as Redis does, RESTORE refuses it."""


class BlobError(ValueError):
    """A malformed listpack, ziplist, intset or zipmap: ``offset`` is within the blob.

    The value decoder turns it into an ``RdbError`` at the blob's place in the file.
    """

    def __init__(self, offset: int, message: str) -> None:
        super().__init__(f"{message} at byte {offset} of the blob")
        self.offset = offset
        self.message = message
