#!/usr/bin/env python3
# orport_hostile.py — hostile input for a relay's ORPort (used by relay-network-test.sh): each
# case opens its own connection, sends something a relay must refuse, and reports whether the
# relay closed that connection (and only that one: the caller checks the relay keeps serving).
# Usage: orport_hostile.py PORT   prints "case: closed|open|answered N" lines; exit 0.
import socket
import ssl
import struct
import sys
import time

PORT = int(sys.argv[1])


def tls():
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    raw = socket.create_connection(("127.0.0.1", PORT), timeout=10)
    return ctx.wrap_socket(raw)


def closed_within(s, seconds=10):
    """True if the peer closes the connection (EOF or reset) within `seconds`."""
    s.settimeout(seconds)
    end = time.time() + seconds
    try:
        while time.time() < end:
            b = s.recv(65536)
            if not b:
                return True
    except (ConnectionResetError, ssl.SSLError, OSError) as e:
        return not isinstance(e, socket.timeout)
    return False


def versions_cell():
    return struct.pack(">HBH", 0, 7, 4) + struct.pack(">HH", 4, 5)


def read_handshake(s):
    """Read the responder's VERSIONS, CERTS, AUTH_CHALLENGE and NETINFO (link protocol 5)."""
    buf = b""
    s.settimeout(10)
    got = []
    while "NETINFO" not in got:
        b = s.recv(65536)
        if not b:
            raise EOFError("closed during handshake")
        buf += b
        while True:
            if not got:  # VERSIONS: 2-byte circuit ID
                if len(buf) < 5:
                    break
                n = struct.unpack(">H", buf[3:5])[0]
                if len(buf) < 5 + n:
                    break
                buf = buf[5 + n:]
                got.append("VERSIONS")
                continue
            if len(buf) < 5:
                break
            cmd = buf[4]
            if cmd >= 128:
                if len(buf) < 7:
                    break
                n = struct.unpack(">H", buf[5:7])[0]
                if len(buf) < 7 + n:
                    break
                buf = buf[7 + n:]
                got.append(str(cmd))
            else:
                if len(buf) < 514:
                    break
                buf = buf[514:]
                got.append("NETINFO" if cmd == 8 else str(cmd))
    return got


def fixed(circ, cmd, payload=b""):
    return struct.pack(">IB", circ, cmd) + payload.ljust(509, b"\0")


def netinfo():
    # timestamp, other address (IPv4 127.0.0.1), 0 of our addresses
    return fixed(0, 8, struct.pack(">IBB4sB", int(time.time()), 4, 4, bytes([127, 0, 0, 1]), 0))


def open_link():
    s = tls()
    s.sendall(versions_cell())
    read_handshake(s)
    s.sendall(netinfo())
    return s


def count_destroys(s, want, seconds=10):
    s.settimeout(seconds)
    buf, n, reasons = b"", 0, {}
    end = time.time() + seconds
    try:
        while n < want and time.time() < end:
            b = s.recv(65536)
            if not b:
                break
            buf += b
            while len(buf) >= 514:
                cell, buf = buf[:514], buf[514:]
                if cell[4] == 4:
                    n += 1
                    reasons[cell[5]] = reasons.get(cell[5], 0) + 1
    except OSError:
        pass
    return n, reasons


results = []
# 1. plain TCP garbage instead of TLS
raw = socket.create_connection(("127.0.0.1", PORT), timeout=10)
raw.sendall(b"GET / HTTP/1.0\r\n\r\n" + bytes(range(256)) * 4)
results.append(("tcp_garbage", "closed" if closed_within(raw) else "open"))
# 2. garbage after the TLS handshake
s = tls()
s.sendall(b"\xff" * 600)
results.append(("tls_garbage", "closed" if closed_within(s) else "open"))
# 3. a VERSIONS cell with an odd (bad) length
s = tls()
s.sendall(struct.pack(">HBH", 0, 7, 3) + b"\x00\x04\x00")
results.append(("versions_bad_length", "closed" if closed_within(s) else "open"))
# 4. a var cell longer than anything the link allows before VERSIONS (CERTS first)
s = tls()
s.sendall(struct.pack(">HBH", 0, 129, 65535) + b"\0" * 1000)
results.append(("certs_before_versions", "closed" if closed_within(s) else "open"))
# 5. an open link: unknown cell commands are dropped, the link stays
s = open_link()
for cmd in (42, 99, 127):
    s.sendall(fixed(0x80000001, cmd, b"junk"))
s.sendall(fixed(0x80000002, 10, struct.pack(">HH", 2, 84) + b"\x01" * 84))  # CREATE2 ntor, wrong id
n, _ = count_destroys(s, 1)
results.append(("unknown_commands_then_create2", "answered %d" % n))
# 6. CREATE2 flood on one link: every one refused (not our key), beyond the per-link rate
#    with RESOURCELIMIT; the link itself survives
s = open_link()
N = 400
s.sendall(b"".join(fixed(0x80000000 | (i + 1), 10, struct.pack(">HH", 2, 84) + b"\x02" * 84)
                   for i in range(N)))
n, reasons = count_destroys(s, N)
results.append(("create2_flood", "answered %d reasons %s" % (n, sorted(reasons.items()))))
for name, r in results:
    print(f"{name}: {r}")
