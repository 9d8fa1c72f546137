#!/usr/bin/env python3
# dos_attack.py — denial-of-service floods against a relay's ORPort for dos-test.sh, every
# connection from a given source address (127.0.0.2) so the relay's per-address limits see one
# client. A raw Tor-protocol client (link protocol 5, CREATE_FAST with tor-spec 5.2.1 KDF-TOR,
# tor1 relay crypto with AES-128-CTR and running SHA-1 digests) in the style of orport_hostile.py.
# Usage: dos_attack.py PORT SRC streams N       one circuit, N BEGINs: "streams: END reasons {..}
#                                               destroyed R"
#        dos_attack.py PORT SRC creates LINKS N N CREATE2 cells over LINKS links: "creates: DESTROY
#                                               reasons {...}"
#        dos_attack.py PORT SRC conns N         N concurrent connections: "conns: accepted A
#                                               closed C"
#        dos_attack.py PORT SRC churn N         N connections in turn: "churn: accepted A closed C"
# DOS_REPEAT=1 in the environment repeats the flood until SIGTERM (then: "repeat: R rounds, E cut
# short").
import hashlib
import os
import signal
import socket
import ssl
import struct
import sys
import time

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

PORT, SRC, MODE = int(sys.argv[1]), sys.argv[2], sys.argv[3]
CELL = 514  # link protocol 5: 4-byte circuit ID, command, 509-byte payload


def tcp(timeout=10):
    return socket.create_connection(("127.0.0.1", PORT), timeout=timeout, source_address=(SRC, 0))


def tls(timeout=10):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    return ctx.wrap_socket(tcp(timeout))


def fixed(circ, cmd, payload=b""):
    return struct.pack(">IB", circ, cmd) + payload.ljust(509, b"\0")


def recv_exact(s, n, buf):
    while len(buf) < n:
        b = s.recv(65536)
        if not b:
            raise EOFError("closed")
        buf += b
    return buf


def open_link():
    """VERSIONS (4, 5), the responder's VERSIONS .. NETINFO, our NETINFO."""
    s = tls()
    s.sendall(struct.pack(">HBH", 0, 7, 4) + struct.pack(">HH", 4, 5))
    buf = recv_exact(s, 5, b"")
    n = struct.unpack(">H", buf[3:5])[0]
    buf = recv_exact(s, 5 + n, buf)[5 + n:]
    while True:  # CERTS, AUTH_CHALLENGE (variable), then NETINFO (fixed)
        buf = recv_exact(s, 5, buf)
        if buf[4] >= 128:
            buf = recv_exact(s, 7, buf)
            n = struct.unpack(">H", buf[5:7])[0]
            buf = recv_exact(s, 7 + n, buf)[7 + n:]
        else:
            buf = recv_exact(s, CELL, buf)
            cmd, buf = buf[4], buf[CELL:]
            if cmd == 8:
                break
    s.sendall(fixed(0, 8, struct.pack(">IBB4sB", int(time.time()), 4, 4, bytes([127, 0, 0, 1]), 0)))
    return s, buf


def cells(s, buf, seconds, stop):
    """Yield (circ, cmd, payload) until stop() or `seconds` of silence or EOF."""
    s.settimeout(seconds)
    while not stop():
        try:
            buf = recv_exact(s, CELL, buf)
        except (OSError, EOFError):
            return
        c, buf = buf[:CELL], buf[CELL:]
        yield struct.unpack(">I", c[:4])[0], c[4], c[5:]


def kdf_tor(k0, n):
    out, i = b"", 0
    while len(out) < n:
        out += hashlib.sha1(k0 + bytes([i])).digest()
        i += 1
    return out[:n]


def streams(n):
    s, buf = open_link()
    circ = 0x80000001
    x = os.urandom(20)
    s.sendall(fixed(circ, 5, x))  # CREATE_FAST
    buf = recv_exact(s, CELL, buf)
    c, buf = buf[:CELL], buf[CELL:]
    if c[4] != 6:
        print("streams: no CREATED_FAST (command %d)" % c[4])
        return
    y, kh = c[5:25], c[25:45]
    k = kdf_tor(x + y, 92)
    if k[:20] != kh:
        print("streams: CREATED_FAST KH mismatch")
        return
    df, kf, kb = hashlib.sha1(k[20:40]), k[60:76], k[76:92]
    enc = Cipher(algorithms.AES(kf), modes.CTR(b"\0" * 16)).encryptor()
    dec = Cipher(algorithms.AES(kb), modes.CTR(b"\0" * 16)).decryptor()
    out = []

    def relay(cmd, sid, data):
        body = struct.pack(">BHHIH", cmd, 0, sid, 0, len(data)) + data
        body = body.ljust(509, b"\0")
        df.update(body)
        body = body[:5] + df.digest()[:4] + body[9:]
        out.append(struct.pack(">IB", circ, 3) + enc.update(body))

    for sid in range(1, n + 1):
        relay(1, sid, b"www.onionmesh.test:80\0")  # BEGIN
    relay(33, 0, os.urandom(20))  # ESTABLISH_RENDEZVOUS on this one-hop circuit: dropped
    s.sendall(b"".join(out))
    reasons, destroyed, seen = {}, None, [0]
    for cid, cmd, p in cells(s, buf, 10, lambda: seen[0] >= n or destroyed is not None):
        if cmd == 4:  # DESTROY
            destroyed = p[0]
            break
        if cmd == 3 and cid == circ:
            body = dec.update(p)
            if body[0] == 3:  # END
                seen[0] += 1
                reasons[body[11]] = reasons.get(body[11], 0) + 1
    print("streams: END reasons %s destroyed %s" % (sorted(reasons.items()), destroyed))


def creates(links, n):
    ls = [open_link() for _ in range(links)]
    for i in range(n):
        s, _ = ls[i % links]
        s.sendall(fixed(0x80000000 | (i + 1), 10, struct.pack(">HH", 2, 84) + os.urandom(84)))
    reasons, got = {}, [0]
    for s, buf in ls:
        for _, cmd, p in cells(s, buf, 5, lambda: got[0] >= n):
            if cmd == 4:
                got[0] += 1
                reasons[p[0]] = reasons.get(p[0], 0) + 1
    print("creates: DESTROY reasons %s" % sorted(reasons.items()))
    for s, _ in ls:
        s.close()


def conns(n):
    socks, accepted, closed = [], 0, 0
    for _ in range(n):
        try:
            s = tls(5)
            s.sendall(struct.pack(">HBH", 0, 7, 4) + struct.pack(">HH", 4, 5))
            s.settimeout(5)
            if s.recv(5):
                accepted += 1
                socks.append(s)
            else:
                closed += 1
        except (OSError, ssl.SSLError):
            closed += 1
    print("conns: accepted %d closed %d" % (accepted, closed))
    sys.stdout.flush()
    time.sleep(float(os.environ.get("DOS_HOLD", "2")))
    for s in socks:
        s.close()


def churn(n):
    """n connections one after the other, each closed after its TLS handshake."""
    accepted, closed = 0, 0
    for _ in range(n):
        try:
            s = tls(5)
            accepted += 1
            s.close()
        except (OSError, ssl.SSLError):
            closed += 1
    print("churn: accepted %d closed %d" % (accepted, closed))


def run_once():
    if MODE == "churn":
        churn(int(sys.argv[4]))
    elif MODE == "streams":
        streams(int(sys.argv[4]))
    elif MODE == "creates":
        creates(int(sys.argv[4]), int(sys.argv[5]))
    elif MODE == "conns":
        conns(int(sys.argv[4]))
    else:
        sys.exit("unknown mode " + MODE)


def repeat():
    """DOS_REPEAT=1: the same flood again and again until SIGTERM (tools/bench/bench-dos keeps one
    going for as long as a download lasts); a round the relay cuts short (closed link, refused
    connection) counts as an error and the next round starts at once."""
    rounds, errors = [0], [0]

    def stop(*_):
        print("repeat: %d rounds, %d cut short" % (rounds[0], errors[0]), flush=True)
        os._exit(0)

    signal.signal(signal.SIGTERM, stop)
    while True:
        try:
            run_once()
        except (OSError, EOFError, ssl.SSLError, struct.error):
            errors[0] += 1
            time.sleep(0.05)
        rounds[0] += 1
        sys.stdout.flush()


if os.environ.get("DOS_REPEAT") == "1":
    repeat()
else:
    run_once()
