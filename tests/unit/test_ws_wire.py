"""The hub's own text frames are byte-for-byte what the websockets library would send (server side: unmasked)."""

from __future__ import annotations

import pytest
from websockets.frames import Frame, Opcode

from api.ws_wire import text_frame


@pytest.mark.parametrize("size", [0, 1, 125, 126, 200, 65535, 65536, 70000])
def test_text_frame_matches_the_websockets_serializer(size: int) -> None:
    payload = b"x" * size
    assert text_frame(payload) == Frame(Opcode.TEXT, payload).serialize(mask=False, extensions=[])
