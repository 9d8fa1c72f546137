#!/usr/bin/env python3
"""http_fixture.py — the HTTP/1.1 server behind the exit in browser-fetch-test.sh, on 127.0.0.1.
GET /file: FILE with Content-Length. GET /chunked: FILE with Transfer-Encoding: chunked, chunks
of varied sizes, some with chunk extensions, and a trailer field (http.server cannot send that).
POST /upload: the SHA-256 and length of the request body.
Every response says who connected: X-Peer-Port, and X-Peer-Pid / X-Peer-Comm, the process that
owns the client end of the TCP connection (from `ss -tnp` while the connection is open), so the
test can tell that the exit was one of the testnet's tor relays.
Usage: http_fixture.py PORT FILE"""
import hashlib
import http.server
import random
import re
import socketserver
import subprocess
import sys

PORT = int(sys.argv[1])
DATA = open(sys.argv[2], "rb").read()


def peer_process(peer_port):
    out = subprocess.run(["ss", "-Htnp", "state", "established",
                          f"( sport = :{peer_port} and dport = :{PORT} )"],
                         capture_output=True, text=True).stdout
    m = re.search(r'users:\(\("([^"]+)",pid=(\d+)', out)
    return (m.group(2), m.group(1)) if m else ("", "")


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def who(self):
        pid, comm = peer_process(self.client_address[1])
        self.send_header("X-Peer-Port", str(self.client_address[1]))
        self.send_header("X-Peer-Pid", pid)
        self.send_header("X-Peer-Comm", comm)
        self.send_header("Connection", "close")

    def do_POST(self):
        """POST /upload: answers with the SHA-256 and length of the request body."""
        n = int(self.headers.get("Content-Length", "0"))
        body = b""
        while len(body) < n:
            chunk = self.rfile.read(n - len(body))
            if not chunk:
                break
            body += chunk
        reply = ("%s %d\n" % (hashlib.sha256(body).hexdigest(), len(body))).encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(reply)))
        self.who()
        self.end_headers()
        self.wfile.write(reply)
        self.close_connection = True

    def do_GET(self):
        if self.path == "/file":
            self.send_response(200)
            self.send_header("Content-Type", "application/octet-stream")
            self.send_header("Content-Length", str(len(DATA)))
            self.who()
            self.end_headers()
            self.wfile.write(DATA)
        elif self.path == "/chunked":
            self.send_response(200)
            self.send_header("Content-Type", "application/octet-stream")
            self.send_header("Transfer-Encoding", "chunked")
            self.send_header("Trailer", "X-Checksum-Note")
            self.who()
            self.end_headers()
            rnd = random.Random(7)
            off = n = 0
            while off < len(DATA):
                size = min(len(DATA) - off, rnd.choice([1, 17, 498, 1000, 4096, 65536, 100000]))
                ext = ";note=x%d" % n if n % 3 == 0 else ""
                self.wfile.write(b"%x%s\r\n" % (size, ext.encode()) + DATA[off:off + size] + b"\r\n")
                off += size
                n += 1
            self.wfile.write(b"0\r\nX-Checksum-Note: %d chunks\r\n\r\n" % n)
        else:
            self.send_response(404)
            self.send_header("Content-Length", "0")
            self.who()
            self.end_headers()
        self.close_connection = True


class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True


Server(("127.0.0.1", PORT), Handler).serve_forever()
