#!/usr/bin/env python3
# mem_flood.py — memory floods against a relay's ORPort, from 127.0.0.2 (used by
# mem-flood-test.sh). Each mode prints one "mode: ..." summary line; exit 0.
#   create2 LINKS MB  LINKS links each send MB MiB of CREATE2 cells (an unknown handshake type,
#                     each answered with DESTROY) and never read the answers; held for HOLD s
#   halfopen N        N TCP connections that never start TLS, held for HOLD s
# Usage: mem_flood.py PORT MODE ARGS...   (HOLD: environment, default 15)
import os
import socket
import ssl
import struct
import sys
import time

PORT = int(sys.argv[1])
HOLD = float(os.environ.get("HOLD", "15"))
SRC = ("127.0.0.2", 0)


def tcp():
    return socket.create_connection(("127.0.0.1", PORT), timeout=10, source_address=SRC)


def tls():
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    return ctx.wrap_socket(tcp())


def fixed(circ, cmd, payload=b""):
    return struct.pack(">IB", circ, cmd) + payload.ljust(509, b"\0")


def read_handshake(s):
    """Read until the responder's NETINFO (link protocol 5): VERSIONS, CERTS, AUTH_CHALLENGE."""
    buf, first = b"", True
    s.settimeout(10)
    while True:
        b = s.recv(65536)
        if not b:
            raise EOFError("closed during handshake")
        buf += b
        while True:
            if first:
                if len(buf) < 5 or len(buf) < 5 + struct.unpack(">H", buf[3:5])[0]:
                    break
                buf, first = buf[5 + struct.unpack(">H", buf[3:5])[0]:], False
                continue
            if len(buf) < 7:
                break
            cmd = buf[4]
            n = 7 + struct.unpack(">H", buf[5:7])[0] if cmd >= 128 else 514
            if len(buf) < n:
                break
            buf = buf[n:]
            if cmd == 8:
                return


def open_link():
    s = tls()
    s.sendall(struct.pack(">HBH", 0, 7, 4) + struct.pack(">HH", 4, 5))
    read_handshake(s)
    s.sendall(fixed(0, 8, struct.pack(">IBB4sB", int(time.time()), 4, 4, bytes([127, 0, 0, 1]), 0)))
    return s


def create2(links, mb):
    """Push CREATE2 cells on every link, never reading, until MB MiB each or the relay stops
    reading (sends time out); returns the bytes the relay took."""
    socks = []
    for _ in range(links):
        try:
            socks.append(open_link())
        except (OSError, EOFError):
            pass
    chunk = b"".join(fixed(0x80000000 | (i + 1), 10, struct.pack(">HH", 0xFFFF, 84) + b"\x02" * 84)
                     for i in range(128))
    sent = [0] * len(socks)
    want = mb << 20
    end = time.time() + 60
    for s in socks:
        s.settimeout(0.2)
    while time.time() < end and any(n < want for n in sent):
        progress = False
        for i, s in enumerate(socks):
            if sent[i] >= want or s is None:
                continue
            try:
                sent[i] += s.send(chunk)
                progress = True
            except (socket.timeout, ssl.SSLWantWriteError):
                pass
            except OSError:
                socks[i] = None
        if not progress:
            break  # every link is stuck: the relay stopped reading (or closed them)
    time.sleep(HOLD)
    alive = sum(1 for s in socks if s is not None)
    for s in socks:
        if s is not None:
            s.close()
    print(f"create2: {len(socks)} links, {sum(sent) >> 20} MiB sent, {alive} still open "
          f"after {HOLD:.0f} s")


def halfopen(n):
    socks = []
    for _ in range(n):
        try:
            socks.append(tcp())
        except OSError:
            break
    time.sleep(HOLD)
    closed = 0
    for s in socks:
        s.setblocking(False)
        try:
            closed += s.recv(1) == b""
        except BlockingIOError:
            pass
        except OSError:
            closed += 1
        s.close()
    print(f"halfopen: {len(socks)} connections, {closed} closed by the relay within {HOLD:.0f} s")


mode = sys.argv[2]
if mode == "create2":
    create2(int(sys.argv[3]), int(sys.argv[4]))
elif mode == "halfopen":
    halfopen(int(sys.argv[3]))
else:
    sys.exit("unknown mode " + mode)
