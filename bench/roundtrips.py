"""Count round trips to PostgreSQL: a loopback TCP proxy that counts the client's turns.

A statement counter cannot tell round trips apart once statements share one
(a psycopg pipeline, a CTE): this counts what the network sees.  Each time
the client sends after the server last spoke (or first on a connection), the
client is starting a new round trip.  Counts repeat exactly from run to run,
where times on a shared machine do not.
"""

from __future__ import annotations

import select
import socket
import threading
from urllib.parse import urlsplit, urlunsplit


class RoundTripProxy:
    """Forward 127.0.0.1:<port> to ``url``'s server; ``count`` is the round trips so far."""

    def __init__(self, url: str) -> None:
        parts = urlsplit(url)
        self.target = (parts.hostname or "127.0.0.1", parts.port or 5432)
        self.listener = socket.create_server(("127.0.0.1", 0))
        port = self.listener.getsockname()[1]
        auth = parts.netloc.rpartition("@")[0]
        netloc = f"{auth}@127.0.0.1:{port}" if auth else f"127.0.0.1:{port}"
        self.url = urlunsplit(parts._replace(netloc=netloc))
        self.count = 0
        self._lock = threading.Lock()
        self._closed = False
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while not self._closed:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            server = socket.create_connection(self.target)
            for sock in (client, server):
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            threading.Thread(target=self._pump, args=(client, server), daemon=True).start()

    def _pump(self, client: socket.socket, server: socket.socket) -> None:
        """Both directions of one connection; a client chunk after a server chunk counts."""
        client_turn_counted = False
        try:
            while True:
                readable, _, _ = select.select([client, server], [], [], 1.0)
                for sock in readable:
                    data = sock.recv(65536)
                    if not data:
                        return
                    if sock is client:
                        if not client_turn_counted:
                            with self._lock:
                                self.count += 1
                            client_turn_counted = True
                        server.sendall(data)
                    else:
                        client_turn_counted = False
                        client.sendall(data)
        except OSError:
            return
        finally:
            client.close()
            server.close()

    def close(self) -> None:
        self._closed = True
        self.listener.close()
