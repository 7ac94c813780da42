"""Direct frame writes for `/ws` under uvicorn's `websockets-sansio` implementation (its `ws="auto"` choice).

Going through ASGI `send` costs, per client and per event, a coroutine, Starlette's send wrapper, a websockets
`Frame` object and its serializer before the one `transport.write` that matters. Server frames are unmasked, so
without an extension (permessage-deflate off, as `tradeassist run` configures uvicorn) a text frame is just a
header and the payload: the hub builds it itself and writes it straight to the connection's transport. The wire
is found through the ASGI `receive` callable, a bound method of uvicorn's protocol; any other server, or a
connection that negotiated an extension, gets `None` and is served through plain ASGI `send`.
"""

from __future__ import annotations

import struct

from starlette.types import Receive
from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol
from websockets.protocol import State

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

    def __init__(self, protocol: WebSocketsSansIOProtocol) -> None:
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
    protocol = getattr(receive, "__self__", None)
    if not isinstance(protocol, WebSocketsSansIOProtocol) or protocol.conn.extensions:
        return None
    return DirectWire(protocol)
