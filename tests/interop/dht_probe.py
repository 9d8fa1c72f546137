#!/usr/bin/env python3
# dht_probe.py — raw DHT streams (doc/dht.md, "Transport") on a one-hop CREATE_FAST circuit from
# 127.0.0.2 (torcirc.py), for dht-test.sh:
#   dht_probe.py onionmesh ORPORT FINGERPRINT
#       PING answered by PONG naming FINGERPRINT; a frame of length 0, a bad version and an
#       unknown type each end only their stream with END TORPROTOCOL (reason 1); a PING on the
#       same circuit afterwards is still answered. Prints "ok NAME" / "not ok NAME: why".
#   dht_probe.py tor FIRST_ORPORT TOR_ORPORT TOR_FINGERPRINT AUTH_DIRPORT
#       a circuit through the relay at FIRST_ORPORT (one hop from a client is refused by tor
#       relays) to the tor relay: it answers BEGIN dht.onionmesh.invalid:1 with END (prints
#       "end REASON") and the circuit stays open (a BEGIN_DIR after it gets CONNECTED).
# Exit status 1 if a check failed.
import os
import struct
import sys
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import torcirc  # noqa: E402

HOST = b"dht.onionmesh.invalid:1\0"
failed = False


def result(name, ok, why=""):
    global failed
    print(("ok " if ok else "not ok ") + name + ("" if ok else ": " + why), flush=True)
    failed |= not ok


def replies(circ, sid, want_end=False, seconds=10):
    """(command, data) relay messages on stream sid until DATA (or END with want_end)."""
    for cid, cmd, payload in circ.link.cells(seconds):
        if cid != circ.id or cmd != torcirc.RELAY:
            if cmd == torcirc.DESTROY:
                return [("destroy", b"")]
            continue
        m = circ.decrypt(payload)
        if not m or m[2] != sid:
            continue
        yield (m[1], m[3])
        if m[1] == torcirc.END or (m[1] == torcirc.DATA and not want_end):
            return


def open_stream(circ, sid):
    circ.send(torcirc.BEGIN, sid, HOST)
    for cmd, data in replies(circ, sid, want_end=True):
        return cmd, data
    return None, b""


def ping(circ, sid, fp):
    cmd, _ = open_stream(circ, sid)
    if cmd != torcirc.CONNECTED:
        return "BEGIN answered with %s" % cmd
    circ.send(torcirc.DATA, sid, struct.pack(">HBBI", 6, 1, 0x01, 0x01020304))
    got = b""
    for cmd, data in replies(circ, sid):
        if cmd != torcirc.DATA:
            return "answered %s" % cmd
        got += data
    if len(got) != 2 + 26 or got[2:8] != bytes([1, 0x81, 1, 2, 3, 4]):
        return "not a PONG: %s" % got.hex()
    if got[8:28].hex().upper() != fp.upper():
        return "PONG names %s" % got[8:28].hex()
    circ.send(torcirc.END, sid, b"\x06")
    return None


def bad_frame(circ, sid, frame):
    cmd, _ = open_stream(circ, sid)
    if cmd != torcirc.CONNECTED:
        return "BEGIN answered with %s" % cmd
    circ.send(torcirc.DATA, sid, frame)
    for cmd, data in replies(circ, sid, want_end=True):
        if cmd == torcirc.END:
            return None if data[:1] == b"\x0d" else "END reason %d" % data[0]
    return "no END"


def onionmesh(port, fp):
    link = torcirc.Link(port, "127.0.0.2")
    circ = torcirc.Circuit.create_fast(link, 0x80000101)
    if not circ:
        result("dht_circuit", False, "no CREATED_FAST")
        return
    why = ping(circ, 1, fp)
    result("dht_ping_pong", why is None, why or "")
    for sid, name, frame in ((2, "dht_zero_length_frame", b"\0\0"),
                             (3, "dht_bad_version", struct.pack(">HBBI", 6, 9, 1, 7)),
                             (4, "dht_unknown_type", struct.pack(">HBBI", 6, 1, 0x33, 7)),
                             (5, "dht_truncated_find_node", struct.pack(">HBBI", 10, 1, 2, 7) +
                              b"\0" * 4)):
        why = bad_frame(circ, sid, frame)
        result(name + "_ends_stream", why is None, why or "")
    # A response sent as a request parses: it is answered with ERROR 2 (unknown type).
    cmd, _ = open_stream(circ, 7)
    circ.send(torcirc.DATA, 7, struct.pack(">HBBI", 26, 1, 0x81, 9) + b"\0" * 20)
    got = b"".join(d for c, d in replies(circ, 7) if c == torcirc.DATA)
    result("dht_response_as_request_gets_error", got == struct.pack(">HBBIB", 7, 1, 0xff, 9, 2),
           got.hex())
    why = ping(circ, 6, fp)
    result("dht_circuit_survives_bad_streams", why is None, why or "")


def tor(first_port, port, fp, dir_port):
    url = f"http://127.0.0.1:{dir_port}/tor/server/fp/{fp}"
    key = torcirc.ntor_key_of(urllib.request.urlopen(url, timeout=10).read().decode())
    link = torcirc.Link(first_port, "127.0.0.2")
    circ = torcirc.Circuit.create_fast(link, 0x80000102)
    if not circ or not circ.extend_ntor(bytes.fromhex(fp), key, port):
        result("tor_circuit", False, "no circuit to the tor relay")
        return
    cmd, data = open_stream(circ, 1)
    result("tor_relay_ends_dht_begin", cmd == torcirc.END, "answered %s" % cmd)
    if cmd == torcirc.END:
        print("end %d" % data[0], flush=True)
    circ.send(torcirc.BEGIN_DIR, 2)
    cmd = None
    for c, _ in replies(circ, 2, want_end=True):
        cmd = c
        break
    result("tor_circuit_still_open", cmd == torcirc.CONNECTED, "BEGIN_DIR answered %s" % cmd)


if __name__ == "__main__":
    if sys.argv[1] == "onionmesh":
        onionmesh(int(sys.argv[2]), sys.argv[3])
    else:
        tor(int(sys.argv[2]), int(sys.argv[3]), sys.argv[4], int(sys.argv[5]))
    sys.exit(1 if failed else 0)
