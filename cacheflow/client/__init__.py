"""An asyncio RESP client used by the CLI and the proxy."""

from cacheflow.client.connection import (
    Address,
    Arg,
    ConnectFailed,
    Connection,
    ConnectionClosed,
    ServerError,
    encode_command,
)
from cacheflow.client.reader import NOT_READY, HiredisReader, NotReady, ReplyProtocolError, TypedReader
from cacheflow.client.reply import (
    BigNumber,
    Double,
    ErrorReply,
    Push,
    Reply,
    RespMap,
    RespSet,
    SimpleString,
    Verbatim,
    pairs,
    text,
)

__all__ = [
    "NOT_READY",
    "Address",
    "Arg",
    "BigNumber",
    "ConnectFailed",
    "Connection",
    "ConnectionClosed",
    "Double",
    "ErrorReply",
    "HiredisReader",
    "NotReady",
    "Push",
    "Reply",
    "ReplyProtocolError",
    "RespMap",
    "RespSet",
    "ServerError",
    "SimpleString",
    "TypedReader",
    "Verbatim",
    "encode_command",
    "pairs",
    "text",
]
