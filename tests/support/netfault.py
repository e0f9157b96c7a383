"""A TCP proxy that can cut the network between clients and a server (for tests)."""

from __future__ import annotations

import contextlib
import select
import socket
import threading

from tests.support.server import free_port


class TcpProxy:
    """Forwards 127.0.0.1:<port> to a server; ``cut()`` drops every connection.

    Each connection is served by one thread that owns both sockets and checks the
    proxy's generation between reads, so a cut always closes what it should.
    """

    def __init__(self, target_port: int) -> None:
        self.target_port = target_port
        self.port = free_port()
        self._open = True
        self._generation = 0
        self._listener = socket.create_server(("127.0.0.1", self.port))
        self._listener.settimeout(0.1)
        self._running = True
        self._thread = threading.Thread(target=self._accept_loop, daemon=True)
        self._thread.start()

    @property
    def url(self) -> str:
        """Base URL through the proxy."""
        return f"http://127.0.0.1:{self.port}"

    def cut(self) -> None:
        """Drop every proxied connection and refuse new ones until ``restore``."""
        self._open = False
        self._generation += 1

    def restore(self, target_port: int | None = None) -> None:
        """Accept connections again (optionally forwarding to another server)."""
        if target_port is not None:
            self.target_port = target_port
        self._open = True

    def close(self) -> None:
        """Stop the proxy."""
        self._running = False
        self.cut()
        self._thread.join(2)
        self._listener.close()

    def _accept_loop(self) -> None:
        while self._running:
            try:
                client, _ = self._listener.accept()
            except (TimeoutError, OSError):
                continue
            if not self._open:
                client.close()
                continue
            try:
                upstream = socket.create_connection(("127.0.0.1", self.target_port))
            except OSError:
                client.close()
                continue
            threading.Thread(
                target=self._serve,
                args=(client, upstream, self._generation),
                daemon=True,
            ).start()

    def _serve(
        self, client: socket.socket, upstream: socket.socket, generation: int
    ) -> None:
        peers = {client: upstream, upstream: client}
        try:
            while self._running and self._generation == generation:
                readable, _, _ = select.select(list(peers), [], [], 0.05)
                for sock in readable:
                    chunk = sock.recv(65536)
                    if not chunk:
                        return
                    peers[sock].sendall(chunk)
        except OSError:
            pass
        finally:
            for sock in (client, upstream):
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)
                sock.close()
