"""A TCP proxy in front of ClickHouse that loses the answer to one insert.

Between one worker and ClickHouse it forwards every byte both ways until it is armed. Armed,
it lets the next insert into ``ingest_facts`` reach ClickHouse whole, waits until ClickHouse
has answered it (the insert ran to the end), throws the answer away and cuts the connection:
the worker cannot know that its insert landed. Then it refuses the worker's connections for
a while, so that the worker's retry comes only after whatever the other writers insert
meanwhile.
"""

from __future__ import annotations

import contextlib
import socket
import threading
import time

from tests.support import free_port

INSERT_MARKER = b"INSERT INTO ingest_facts"
ANSWER_WAIT_S = 1.0  # after the first bytes of the answer, the rest of it


class LostAnswerProxy:
    """Listens on 127.0.0.1 (``port``) and forwards to ``target_port`` on 127.0.0.1."""

    def __init__(self, target_port: int) -> None:
        self.target_port = target_port
        self.port = free_port()
        self.stolen = threading.Event()  # an insert's answer was thrown away
        self._armed = threading.Event()
        self._refuse_until = 0.0
        self._hold_s = 0.0
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._listener = socket.create_server(("127.0.0.1", self.port))
        self._listener.settimeout(0.2)
        self._thread = threading.Thread(target=self._accept, name="lost-answer", daemon=True)

    def __enter__(self) -> LostAnswerProxy:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        self._listener.close()

    def arm(self, hold_s: float) -> None:
        """Lose the answer to the next insert into ingest_facts, then refuse every connection
        for ``hold_s`` seconds."""
        self._hold_s = hold_s
        self._armed.set()

    def refusing(self) -> bool:
        return time.monotonic() < self._refuse_until

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                client, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            if self.refusing():
                client.close()  # the worker sees its connection reset
                continue
            try:
                server = socket.create_connection(("127.0.0.1", self.target_port), timeout=5)
            except OSError:
                client.close()
                continue
            _Connection(self, client, server).start()

    def _take_victim(self) -> bool:
        """Whether this insert is the one whose answer is lost (once per arming)."""
        with self._lock:
            if not self._armed.is_set():
                return False
            self._armed.clear()
            return True

    def _lost(self) -> None:
        self._refuse_until = time.monotonic() + self._hold_s
        self.stolen.set()


class _Connection:
    """One client connection: two pumps, the answer pump throwing away a victim's answer."""

    def __init__(self, proxy: LostAnswerProxy, client: socket.socket, server: socket.socket):
        self.proxy = proxy
        self.client = client
        self.server = server
        self.victim = threading.Event()

    def start(self) -> None:
        for target in (self._requests, self._answers):
            threading.Thread(target=target, daemon=True).start()

    def close(self) -> None:
        for s in (self.client, self.server):
            with contextlib.suppress(OSError):
                s.shutdown(socket.SHUT_RDWR)
            with contextlib.suppress(OSError):
                s.close()

    def _requests(self) -> None:
        tail = b""
        try:
            while data := self.client.recv(65536):
                if self.proxy.refusing():
                    break
                seen = tail + data
                if INSERT_MARKER in seen and not self.victim.is_set() and self.proxy._take_victim():
                    self.victim.set()
                tail = seen[-len(INSERT_MARKER) :]
                self.server.sendall(data)
        except OSError:
            pass
        if not self.victim.is_set():
            self.close()

    def _answers(self) -> None:
        try:
            while data := self.server.recv(65536):
                if self.victim.is_set():
                    # ClickHouse has answered the insert: it ran. Take the rest of the
                    # answer too, deliver none of it, and cut the worker off.
                    deadline = time.monotonic() + ANSWER_WAIT_S
                    self.server.settimeout(0.1)
                    while time.monotonic() < deadline:
                        with contextlib.suppress(TimeoutError):
                            if not self.server.recv(65536):
                                break
                    self.proxy._lost()
                    break
                if self.proxy.refusing():
                    break
                self.client.sendall(data)
        except OSError:
            pass
        self.close()
