"""The hub's own text frames are byte-for-byte what the websockets library would send (server side: unmasked),
and a uvicorn that is not the locked one is served through plain ASGI `send` instead of failing."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from websockets.frames import Frame, Opcode

from api.ws_wire import text_frame

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("size", [0, 1, 125, 126, 200, 65535, 65536, 70000])
def test_text_frame_matches_the_websockets_serializer(size: int) -> None:
    payload = b"x" * size
    assert text_frame(payload) == Frame(Opcode.TEXT, payload).serialize(mask=False, extensions=[])


class _Receive:
    """An ASGI receive bound to `protocol`, the way uvicorn hands its own out."""

    def __init__(self, protocol: object) -> None:
        self.__self__ = protocol


def test_a_protocol_missing_what_the_wire_uses_falls_back_to_asgi_send() -> None:
    from api import ws_wire

    if not ws_wire.SANSIO_PROTOCOLS:
        pytest.skip("this uvicorn has no websockets-sansio implementation")
    partial = object.__new__(ws_wire.SANSIO_PROTOCOLS[0])  # no attributes set: like a changed uvicorn
    assert ws_wire.direct_wire(_Receive(partial)) is None  # type: ignore[arg-type]
    assert ws_wire.direct_wire(_Receive(object())) is None  # type: ignore[arg-type]


def test_a_uvicorn_without_the_sansio_implementation_imports_and_serves_through_asgi() -> None:
    script = (
        "import sys\n"
        "sys.modules['uvicorn.protocols.websockets.websockets_sansio_impl'] = None  # as if uvicorn lacked it\n"
        "from api import ws_wire\n"
        "assert ws_wire.SANSIO_PROTOCOLS == () and ws_wire.UVICORN_WS == 'auto'\n"
        "class R:\n"
        "    __self__ = object()\n"
        "assert ws_wire.direct_wire(R()) is None\n"
        "import api.ws, tradeassist.cli\n"
    )
    done = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr


def test_the_locked_uvicorn_is_written_to_directly() -> None:
    from api import ws_wire

    assert ws_wire.UVICORN_WS == "websockets-sansio"
