#!/usr/bin/env python3
# tools/bench/bench_bridge_links.py — the link-level client of tools/bench/bench-bridge: opens
# Tor links as a client does (tor-spec 4: VERSIONS out; VERSIONS, CERTS, AUTH_CHALLENGE,
# NETINFO in; NETINFO out), over TLS to an ORPort or over a WebSocket (RFC 6455, masked binary
# frames, subprotocol tor-cells.onionmesh; doc/bridge.md) to a WebSocketPort. Python standard
# library only (asyncio, ssl). Two commands:
#   hold N TARGET  open N links (CONC at a time, source addresses spread over SRC_NET.1..254),
#                  print "opened K of N in S s", then keep them (reading and dropping what comes,
#                  answering WebSocket PINGs) until stdin closes;
#   setup N TARGET...  N link set-ups per target, targets alternating, one at a time; prints
#                  per target the median and p99 of connect + (TLS or WebSocket upgrade) + link
#                  handshake, in ms.
# TARGET: tls:HOST:PORT (TLS 1.3 or what the server picks), tls12:HOST:PORT (TLS 1.2 at most) or
# ws:HOST:PORT/PATH. Options (environment): SRC_NET (default 127.0.1),
# CONC (default 64).
import asyncio
import base64
import os
import socket
import ssl
import statistics
import struct
import sys
import time

SRC_NET = os.environ.get("SRC_NET", "127.0.1")
CONC = int(os.environ.get("CONC", "64"))
VERSIONS = struct.pack(">HBH", 0, 7, 6) + struct.pack(">HHH", 3, 4, 5)
SSL_CTX = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
SSL_CTX.check_hostname = False
SSL_CTX.verify_mode = ssl.CERT_NONE
SSL_CTX12 = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)  # "tls12:": TLS 1.2 at most
SSL_CTX12.check_hostname = False
SSL_CTX12.verify_mode = ssl.CERT_NONE
SSL_CTX12.maximum_version = ssl.TLSVersion.TLSv1_2


def netinfo(peer_ip):
    """A client's NETINFO (link protocol >= 4: 4-byte circuit ID, fixed 514-byte cell)."""
    body = struct.pack(">IBB", 0, 4, 4) + bytes(int(x) for x in peer_ip.split(".")) + b"\x00"
    return struct.pack(">IB", 0, 8) + body + bytes(509 - len(body))


def ws_frame(payload, opcode=0x2):
    """A masked client frame."""
    m = os.urandom(4)
    n = len(payload)
    if n < 126:
        head = bytes([0x80 | opcode, 0x80 | n])
    elif n < 65536:
        head = bytes([0x80 | opcode, 0x80 | 126]) + struct.pack(">H", n)
    else:
        head = bytes([0x80 | opcode, 0x80 | 127]) + struct.pack(">Q", n)
    mm = (m * (n // 4 + 1))[:n]
    return head + m + (int.from_bytes(payload, "big") ^ int.from_bytes(mm, "big")).to_bytes(n, "big")


class Link:
    """One client link; .cells() yields the bytes of the cell stream (WebSocket frames undone)."""

    def __init__(self, target, src):
        self.kind, rest = target.split(":", 1)
        hostport, _, path = rest.partition("/")
        self.host, port = hostport.rsplit(":", 1)
        self.port, self.path, self.src = int(port), "/" + path, src
        self.buf = b""  # the cell stream read so far

    async def open(self):
        if self.kind.startswith("tls"):
            ctx = SSL_CTX12 if self.kind == "tls12" else SSL_CTX
            self.r, self.w = await asyncio.open_connection(
                self.host, self.port, ssl=ctx, server_hostname="", local_addr=(self.src, 0))
        else:
            self.r, self.w = await asyncio.open_connection(self.host, self.port,
                                                           local_addr=(self.src, 0))
            key = base64.b64encode(os.urandom(16)).decode()
            self.w.write((f"GET {self.path} HTTP/1.1\r\nHost: {self.host}:{self.port}\r\n"
                          "Upgrade: websocket\r\nConnection: Upgrade\r\n"
                          f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n"
                          "Sec-WebSocket-Protocol: tor-cells.onionmesh\r\n\r\n").encode())
            head = await self.r.readuntil(b"\r\n\r\n")
            if not head.startswith(b"HTTP/1.1 101"):
                raise ConnectionError("upgrade refused: %r" % head[:40])
        sock = self.w.get_extra_info("socket")
        if sock is not None:  # our writes go out at once: the client adds no Nagle delay
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.send(VERSIONS)
        await self.need(5)
        n = struct.unpack(">H", self.buf[3:5])[0]
        await self.need(5 + n)
        if self.buf[2] != 7:
            raise ConnectionError("first cell not VERSIONS")
        theirs = struct.unpack(">%dH" % (n // 2), self.buf[5:5 + n])
        if max(v for v in theirs if v in (3, 4, 5)) < 4:
            raise ConnectionError("link protocol < 4")
        self.buf = self.buf[5 + n:]
        seen = set()
        while 8 not in seen:  # CERTS (129), AUTH_CHALLENGE (130), VPADDING..., NETINFO (8)
            await self.need(5)
            cmd = self.buf[4]
            if cmd == 7 or cmd >= 128:
                await self.need(7)
                ln = 7 + struct.unpack(">H", self.buf[5:7])[0]
            else:
                ln = 514
            await self.need(ln)
            self.buf = self.buf[ln:]
            seen.add(cmd)
        if not {129, 130} <= seen:
            raise ConnectionError("no CERTS or AUTH_CHALLENGE before NETINFO")
        self.send(netinfo(self.host))
        await self.w.drain()

    def send(self, data):
        self.w.write(ws_frame(data) if self.kind == "ws" else data)

    async def need(self, n):
        while len(self.buf) < n:
            await self.more()

    async def more(self):
        """Read the next chunk of the cell stream (for WebSockets: the next data frame)."""
        if self.kind.startswith("tls"):
            d = await self.r.read(65536)
            if not d:
                raise ConnectionError("closed")
            self.buf += d
            return
        while True:
            h = await self.r.readexactly(2)
            op, n = h[0] & 0x0F, h[1] & 0x7F
            if n == 126:
                n = struct.unpack(">H", await self.r.readexactly(2))[0]
            elif n == 127:
                n = struct.unpack(">Q", await self.r.readexactly(8))[0]
            p = await self.r.readexactly(n)  # server frames are not masked
            if op in (0, 1, 2):
                self.buf += p
                return
            if op == 8:
                raise ConnectionError("WebSocket close")
            if op == 9:
                self.w.write(ws_frame(p, 0xA))

    async def idle(self):
        """Keep the link: drop what comes (padding), answer PINGs, until it closes."""
        try:
            while True:
                await self.more()
                self.buf = b""
        except (ConnectionError, asyncio.IncompleteReadError, OSError):
            return False

    def close(self):
        try:
            self.w.close()
        except Exception:
            pass


def src_addr(i):
    return f"{SRC_NET}.{1 + i % 254}"


async def hold(n, target):
    links, errors = [], {}
    sem = asyncio.Semaphore(CONC)
    t0 = time.monotonic()

    async def one(i):
        async with sem:
            ln = Link(target, src_addr(i))
            try:
                await asyncio.wait_for(ln.open(), 60)
                links.append(ln)
            except Exception as e:  # counted and reported, not fatal
                k = type(e).__name__ + ": " + str(e)[:60]
                errors[k] = errors.get(k, 0) + 1
                ln_w = getattr(ln, "w", None)
                if ln_w:
                    ln.close()
    await asyncio.gather(*(one(i) for i in range(n)))
    dt = time.monotonic() - t0
    print(f"opened {len(links)} of {n} in {dt:.1f} s", flush=True)
    for k, v in sorted(errors.items(), key=lambda x: -x[1])[:5]:
        print(f"  failed {v}: {k}", flush=True)
    tasks = [asyncio.ensure_future(ln.idle()) for ln in links]
    loop = asyncio.get_running_loop()
    await loop.run_in_executor(None, sys.stdin.read)  # until the script closes our stdin
    alive = sum(1 for t in tasks if not t.done())
    print(f"still open at the end: {alive} of {len(links)}", flush=True)
    for t in tasks:
        t.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    for ln in links:
        ln.close()


async def setup(n, targets):
    times = {t: [] for t in targets}
    fails = {t: 0 for t in targets}
    for i in range(n):
        for j in range(len(targets)):
            t = targets[(i + j) % len(targets)]  # who goes first rotates
            ln = Link(t, src_addr(i))
            t0 = time.perf_counter()
            try:
                await asyncio.wait_for(ln.open(), 30)
                times[t].append((time.perf_counter() - t0) * 1000)
            except Exception:
                fails[t] += 1
            if getattr(ln, "w", None):
                ln.close()
    for t in targets:
        v = sorted(times[t])
        if not v:
            print(f"setup {t} none ok, failed {fails[t]}")
            continue
        p99 = v[min(len(v) - 1, int(round(0.99 * len(v))) - 1)]
        print(f"setup {t} median {statistics.median(v):.2f} p99 {p99:.2f} ms n {len(v)} "
              f"failed {fails[t]}")


def main():
    if len(sys.argv) < 4 or sys.argv[1] not in ("hold", "setup"):
        sys.exit(__doc__ or "usage: bench_bridge_links.py hold|setup N TARGET...")
    n = int(sys.argv[2])
    if sys.argv[1] == "hold":
        asyncio.run(hold(n, sys.argv[3]))
    else:
        asyncio.run(setup(n, sys.argv[3:]))


if __name__ == "__main__":
    main()
