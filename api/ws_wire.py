"""Direct frame writes for `/ws` under uvicorn's `websockets-sansio` implementation (its `ws="auto"` choice).

Going through ASGI `send` costs, per client and per event, a coroutine, Starlette's send wrapper, a websockets
`Frame` object and its serializer before the one `transport.write` that matters. Server frames are unmasked, so
without an extension (permessage-deflate off, as `tradeassist run` configures uvicorn) a text frame is just a
header and the payload: the hub builds it itself and writes it straight to the connection's transport. The wire
is found through the ASGI `receive` callable, a bound method of uvicorn's protocol; any other server, a
connection that negotiated an extension, or a uvicorn whose protocol lacks what this module uses (another
version than the one the lock pins) gets `None` and is served through plain ASGI `send`.
"""

from __future__ import annotations

import struct
from typing import Any

from starlette.types import Receive
from websockets.protocol import State

try:
    from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol
except ImportError:  # a uvicorn without this implementation: every client goes through ASGI `send`
    SANSIO_PROTOCOLS: tuple[type, ...] = ()
else:
    SANSIO_PROTOCOLS = (WebSocketsSansIOProtocol,)

# What `tradeassist` asks uvicorn for: the implementation this module writes to, when this uvicorn has it.
UVICORN_WS = "websockets-sansio" if SANSIO_PROTOCOLS else "auto"
# The protocol attributes DirectWire reads; a protocol missing any of them is not written to directly.
_USED = ("writable", "conn", "close_sent", "transport")  # conn: a websockets ServerProtocol (state, extensions)

_TEXT = 0x81  # FIN + opcode 1 (text); RSV bits clear, no mask (server -> client)


def text_frame(payload: bytes) -> bytes:
    """One unfragmented, unmasked WebSocket text frame (RFC 6455 §5.2) carrying `payload`."""
    size = len(payload)
    if size < 126:
        return bytes((_TEXT, size)) + payload
    if size < 1 << 16:
        return struct.pack("!BBH", _TEXT, 126, size) + payload
    return struct.pack("!BBQ", _TEXT, 127, size) + payload


class DirectWire:
    """The connection's transport, written to only while uvicorn considers the WebSocket open."""

    __slots__ = ("_protocol",)

    def __init__(self, protocol: Any) -> None:
        self._protocol = protocol

    def writable(self) -> bool:
        """False while the transport's buffer is above its high-water mark (the client is not keeping up)."""
        return self._protocol.writable.is_set()

    async def wait_writable(self) -> None:
        await self._protocol.writable.wait()

    def write(self, frames: bytes) -> None:
        """Write whole frames; dropped silently once the connection is closing (the ASGI receive reports it)."""
        protocol = self._protocol
        if protocol.conn.state is State.OPEN and not protocol.close_sent and not protocol.transport.is_closing():
            protocol.transport.write(frames)


def direct_wire(receive: Receive) -> DirectWire | None:
    """The wire of an accepted connection, or None when frames must go through ASGI `send`."""
    protocol: Any = getattr(receive, "__self__", None)
    if not _writable_directly(protocol) or protocol.conn.extensions:
        return None
    return DirectWire(protocol)


def _writable_directly(protocol: object) -> bool:
    return isinstance(protocol, SANSIO_PROTOCOLS) and all(hasattr(protocol, name) for name in _USED)
