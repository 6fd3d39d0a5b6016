"""Readers of the dashboard without browsers: Streamlit's own websocket protocol, many at once.

A reader is what a browser tab is to the server: a websocket session on ``/_stcore/stream``
that asks for a page (``rerun_script`` with the page's name) and receives the page's elements
until the server says the script finished. The time from the request to that message is the
server's page draw: every query, every chart built and sent; what the browser then paints is
not in it (the browser benchmark measures that). Twenty readers are twenty such sessions in
one asyncio loop, so the load generator costs almost nothing beside the server.
"""

from __future__ import annotations

import asyncio
import time
import urllib.request
from dataclasses import dataclass, field
from typing import Any

import websockets
from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg


@dataclass
class Draw:
    """One page drawn for one reader."""

    page: str
    seconds: float
    elements: int
    exceptions: list[str] = field(default_factory=list)


def _xsrf_cookie(base: str) -> tuple[str, str]:
    """The XSRF token the server hands a browser (cookie ``_streamlit_xsrf``), if any."""
    with urllib.request.urlopen(f"{base}/", timeout=10) as answer:
        cookies = answer.headers.get_all("Set-Cookie") or []
    for cookie in cookies:
        name, _, rest = cookie.partition("=")
        if name.strip() == "_streamlit_xsrf":
            value = rest.split(";", 1)[0]
            return value, f"_streamlit_xsrf={value}"
    return "", ""


class Reader:
    """One reader: a websocket session kept open, as a browser tab keeps it while its reader
    moves between pages (``async with Reader(base) as reader: await reader.draw("voice")``)."""

    def __init__(self, base: str) -> None:
        self.base = base
        self._socket: Any = None

    async def __aenter__(self) -> Reader:
        token, cookie = await asyncio.to_thread(_xsrf_cookie, self.base)
        self._socket = await websockets.connect(
            self.base.replace("http://", "ws://") + "/_stcore/stream",
            subprotocols=(["streamlit", token] if token else ["streamlit"]),  # type: ignore[arg-type]
            additional_headers={"Cookie": cookie} if cookie else {},
            max_size=None,
            origin=self.base,  # type: ignore[arg-type]
        )
        return self

    async def __aexit__(self, *_: object) -> None:
        await self._socket.close()

    async def send(self, message: BackMsg) -> None:
        await self._socket.send(message.SerializeToString())

    async def draw(self, page: str, timeout: float = 120.0) -> Draw:
        """Ask for ``page`` (``""`` is the default page) and wait until it is drawn;
        exceptions the page showed are collected."""
        message = BackMsg()
        message.rerun_script.page_name = page
        message.rerun_script.query_string = ""
        started = time.perf_counter()
        await self.send(message)
        elements = 0
        exceptions: list[str] = []
        deadline = started + timeout
        while True:
            left = max(0.1, deadline - time.perf_counter())
            raw = await asyncio.wait_for(self._socket.recv(), left)
            forward = ForwardMsg()
            forward.ParseFromString(raw if isinstance(raw, bytes) else raw.encode())
            kind = forward.WhichOneof("type")
            if kind == "delta":
                elements += 1
                element = forward.delta.new_element
                if element.WhichOneof("type") == "exception":
                    exceptions.append(element.exception.message)
            elif kind == "script_finished":
                status = ForwardMsg.ScriptFinishedStatus.Name(forward.script_finished)
                if status == "FINISHED_SUCCESSFULLY":
                    return Draw(page, time.perf_counter() - started, elements, exceptions)


async def draw(base: str, page: str) -> Draw:
    """``page`` drawn for a reader who just arrived (a new session)."""
    async with Reader(base) as reader:
        return await reader.draw(page)


async def draw_together(base: str, page: str, readers: int) -> list[Draw]:
    """``readers`` new sessions asking for ``page`` at the same moment."""
    return list(await asyncio.gather(*(draw(base, page) for _ in range(readers))))


def clear_cache(base: str) -> None:
    """Empty the dashboard's shared caches (a session may ask that, as the menu's 'Clear
    cache' does), so the next draw runs its queries."""

    async def run() -> None:
        async with Reader(base) as reader:
            message = BackMsg()
            message.clear_cache = True
            await reader.send(message)
            await asyncio.sleep(0.2)

    asyncio.run(run())
