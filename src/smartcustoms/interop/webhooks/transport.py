"""A lean HTTP/1.1 client connection for webhook POSTs.

Why not ``http.client``: it writes the head and the body in two ``sendall`` calls and parses
every answer's headers with the ``email`` package; at thousands of deliveries a second those
two costs dominated the deliverer's time (measured with ``bench/outbox.py``). This connection
writes each request in one call and reads only what it needs of the answer: the status, the
framing (``content-length`` or ``chunked``) and whether the server keeps the connection.

It is deliberately small: POST only, no redirects (a 3xx is a failed delivery, as the
Standard Webhooks guidance advises), no proxies. An answer body is read and discarded, up to
:data:`MAX_ANSWER` bytes; anything longer, or framed by the connection's end, closes it.
"""

from __future__ import annotations

import socket
import ssl
from urllib.parse import SplitResult

__all__ = ["MAX_ANSWER", "Connection", "ProtocolError"]

MAX_ANSWER = 64 * 1024
_MAX_LINE = 8 * 1024
_MAX_HEADERS = 100


class ProtocolError(OSError):
    """The receiver answered something that is not HTTP/1.x."""


class Connection:
    """One kept-alive connection to one origin (``scheme://host:port``)."""

    def __init__(self, url: SplitResult, timeout: float) -> None:
        self.scheme = url.scheme
        self.host = url.hostname or ""
        self.port = url.port or (443 if url.scheme == "https" else 80)
        default = (self.scheme == "https" and self.port == 443) or (
            self.scheme == "http" and self.port == 80
        )
        host = f"[{self.host}]" if ":" in self.host else self.host
        self.host_header = host if default else f"{host}:{self.port}"
        self.timeout = timeout
        self._sock: socket.socket | None = None
        self._buf = b""
        self.used = False  # a request went over it already (a stale keep-alive may fail)

    def _connect(self) -> socket.socket:
        sock = socket.create_connection((self.host, self.port), timeout=self.timeout)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        if self.scheme == "https":
            context = ssl.create_default_context()
            sock = context.wrap_socket(sock, server_hostname=self.host)
        return sock

    def close(self) -> None:
        if self._sock is not None:
            self._sock.close()
        self._sock = None
        self._buf = b""
        self.used = False

    def post(self, target: str, headers: dict[str, str], body: bytes) -> int:
        """Send one POST and read its answer; return the status. Raises OSError (including
        timeouts and :class:`ProtocolError`); the connection is then closed."""
        try:
            if self._sock is None:
                self._sock = self._connect()
            head = [f"POST {target} HTTP/1.1", f"host: {self.host_header}"]
            head += [f"{k}: {v}" for k, v in headers.items()]
            head.append(f"content-length: {len(body)}")
            self._sock.sendall(("\r\n".join(head) + "\r\n\r\n").encode("latin-1") + body)
            self.used = True
            status, keep = self._answer()
        except BaseException:
            self.close()
            raise
        if not keep:
            self.close()
        return status

    # -- reading the answer --------------------------------------------------------------------

    def _fill(self) -> None:
        assert self._sock is not None
        data = self._sock.recv(65536)
        if not data:
            raise ConnectionResetError("the receiver closed the connection")
        self._buf += data

    def _line(self) -> bytes:
        while True:
            end = self._buf.find(b"\r\n")
            if end >= 0:
                line, self._buf = self._buf[:end], self._buf[end + 2 :]
                return line
            if len(self._buf) > _MAX_LINE:
                raise ProtocolError("an answer line is too long")
            self._fill()

    def _take(self, n: int) -> None:
        while len(self._buf) < n:
            self._fill()
        self._buf = self._buf[n:]

    def _answer(self) -> tuple[int, bool]:
        while True:
            status_line = self._line().decode("latin-1")
            parts = status_line.split(" ", 2)
            if len(parts) < 2 or not parts[0].startswith("HTTP/1.") or not parts[1].isdigit():
                raise ProtocolError(f"not an HTTP answer: {status_line[:60]!r}")
            status = int(parts[1])
            fields: dict[str, str] = {}
            for _ in range(_MAX_HEADERS + 1):
                line = self._line()
                if not line:
                    break
                name, _, value = line.decode("latin-1").partition(":")
                fields[name.strip().lower()] = value.strip().lower()
            else:
                raise ProtocolError("too many answer headers")
            if 100 <= status < 200:
                continue  # an interim answer (100 Continue); the real one follows
            break
        keep = parts[0] == "HTTP/1.1" and "close" not in fields.get("connection", "")
        if status in (204, 304) or 100 <= status < 200:
            return status, keep
        if "chunked" in fields.get("transfer-encoding", ""):
            self._chunks()
            return status, keep
        length = fields.get("content-length")
        if length is None or not length.isdigit():
            return status, False  # framed by the connection's end: don't wait for it
        if int(length) > MAX_ANSWER:
            return status, False
        self._take(int(length))
        return status, keep

    def _chunks(self) -> None:
        total = 0
        while True:
            size_line = self._line().split(b";", 1)[0].strip()
            try:
                size = int(size_line, 16)
            except ValueError as exc:
                raise ProtocolError("a malformed chunk size") from exc
            if size == 0:
                while self._line():  # trailers, up to the blank line
                    pass
                return
            total += size
            if total > MAX_ANSWER:
                raise ProtocolError("the answer is longer than the deliverer reads")
            self._take(size + 2)
