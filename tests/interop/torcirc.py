# torcirc.py — a raw Tor-protocol client for the interop attack scripts (dos_attack.py,
# mem_flood.py): a link (TLS, link protocol 5, no authentication) from a chosen source address,
# a CREATE_FAST circuit (tor-spec 5.1.3, KDF-TOR 5.2.1), EXTEND2 with ntor (tor-spec 5.1.4,
# HKDF-SHA256 5.2.2), tor1 relay crypto (AES-128-CTR, running SHA-1 digests, tor-spec 6.1, 0.3)
# over any number of hops, and reading relay cells back through the layers. Import it; the
# scripts set nothing global here.
import base64
import hashlib
import hmac
import os
import socket
import ssl
import struct
import time

from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

CELL = 514  # link protocol 5: 4-byte circuit ID, command, 509-byte payload
CREATE_FAST, CREATED_FAST, RELAY, DESTROY, RELAY_EARLY = 5, 6, 3, 4, 9
BEGIN, DATA, END, CONNECTED, SENDME, EXTEND2, EXTENDED2, BEGIN_DIR = 1, 2, 3, 4, 5, 14, 15, 13


def fixed(circ, cmd, payload=b""):
    return struct.pack(">IB", circ, cmd) + payload.ljust(509, b"\0")


def tcp(port, src, timeout=10):
    return socket.create_connection(("127.0.0.1", port), timeout=timeout, source_address=(src, 0))


def tls(port, src, timeout=10):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    return ctx.wrap_socket(tcp(port, src, timeout))


def recv_exact(s, n, buf):
    while len(buf) < n:
        b = s.recv(65536)
        if not b:
            raise EOFError("closed")
        buf += b
    return buf


class Link:
    """VERSIONS (4, 5), the responder's VERSIONS .. NETINFO, our NETINFO. self.buf holds what
    was read past the handshake."""

    def __init__(self, port, src, timeout=10):
        s = self.sock = tls(port, src, timeout)
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
        s.sendall(fixed(0, 8, struct.pack(">IBB4sB", int(time.time()), 4, 4, bytes([127, 0, 0, 1]),
                                          0)))
        self.buf = buf

    def cell(self):
        """The next fixed cell (circ, cmd, payload); raises OSError/EOFError."""
        self.buf = recv_exact(self.sock, CELL, self.buf)
        c, self.buf = self.buf[:CELL], self.buf[CELL:]
        return struct.unpack(">I", c[:4])[0], c[4], c[5:]

    def cells(self, seconds, stop=lambda: False):
        """Yield cells until stop(), `seconds` of silence, or EOF."""
        self.sock.settimeout(seconds)
        while not stop():
            try:
                yield self.cell()
            except (OSError, EOFError):
                return


def kdf_tor(k0, n):
    out, i = b"", 0
    while len(out) < n:
        out += hashlib.sha1(k0 + bytes([i])).digest()
        i += 1
    return out[:n]


def hkdf_sha256(seed, info, n):
    out, prev, i = b"", b"", 1
    while len(out) < n:
        prev = hmac.new(seed, prev + info + bytes([i]), hashlib.sha256).digest()
        out += prev
        i += 1
    return out[:n]


class Hop:
    """One hop's tor1 layer from Df | Db | Kf | Kb."""

    def __init__(self, df, db, kf, kb):
        self.df, self.db = hashlib.sha1(df), hashlib.sha1(db)
        self.enc = Cipher(algorithms.AES(kf), modes.CTR(b"\0" * 16)).encryptor()
        self.dec = Cipher(algorithms.AES(kb), modes.CTR(b"\0" * 16)).decryptor()


NTOR = b"ntor-curve25519-sha256-1"


class Circuit:
    def __init__(self, link, circ_id):
        self.link, self.id, self.hops = link, circ_id, []

    @classmethod
    def create_fast(cls, link, circ_id):
        """A one-hop circuit; None if the relay does not answer CREATED_FAST (e.g. DESTROY)."""
        c = cls(link, circ_id)
        x = os.urandom(20)
        link.sock.sendall(fixed(circ_id, CREATE_FAST, x))
        for cid, cmd, p in link.cells(10):
            if cid != circ_id:
                continue
            if cmd != CREATED_FAST:
                return None
            k = kdf_tor(x + p[:20], 92)
            if k[:20] != p[20:40]:
                return None
            c.hops.append(Hop(k[20:40], k[40:60], k[60:76], k[76:92]))
            return c
        return None

    def cell_for(self, cmd, sid, data=b"", early=False):
        """The relay cell for the last hop, encrypted through every layer."""
        body = struct.pack(">BHHIH", cmd, 0, sid, 0, len(data)) + data
        body = body.ljust(509, b"\0")
        last = self.hops[-1]
        last.df.update(body)
        body = body[:5] + last.df.digest()[:4] + body[9:]
        for h in reversed(self.hops):
            body = h.enc.update(body)
        return struct.pack(">IB", self.id, RELAY_EARLY if early else RELAY) + body

    def send(self, cmd, sid, data=b"", early=False):
        self.link.sock.sendall(self.cell_for(cmd, sid, data, early))

    def decrypt(self, payload):
        """(hop index, relay command, stream, data) of a RELAY cell, or None if no hop
        recognizes it."""
        body = payload
        for i, h in enumerate(self.hops):
            body = h.dec.update(body)
            if body[1:3] != b"\0\0":
                continue
            d = h.db.copy()
            d.update(body[:5] + b"\0\0\0\0" + body[9:])
            if d.digest()[:4] == body[5:9]:
                h.db = d
                n = struct.unpack(">H", body[9:11])[0]
                return i, body[0], struct.unpack(">H", body[3:5])[0], body[11:11 + min(n, 498)]
        return None

    def extend_ntor(self, rsa_id, ntor_key, port, ip=b"\x7f\0\0\1"):
        """EXTEND2 (RELAY_EARLY) to the relay at ip:port with this RSA identity and ntor onion
        key (32 bytes); True once EXTENDED2 verifies."""
        x = X25519PrivateKey.generate()
        X = x.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
        hdata = rsa_id + ntor_key + X
        specs = bytes([2, 0, 6]) + ip + struct.pack(">H", port) + bytes([2, 20]) + rsa_id
        self.send(EXTEND2, 0, specs + struct.pack(">HH", 2, len(hdata)) + hdata, early=True)
        for cid, cmd, p in self.link.cells(15):
            if cid != self.id:
                continue
            if cmd != RELAY:
                return False
            m = self.decrypt(p)
            if not m or m[1] != EXTENDED2:
                return False
            Y, auth = m[3][2:34], m[3][34:66]
            si = (x.exchange(X25519PublicKey.from_public_bytes(Y)) +
                  x.exchange(X25519PublicKey.from_public_bytes(ntor_key)) + rsa_id + ntor_key +
                  X + Y + NTOR)
            seed = hmac.new(NTOR + b":key_extract", si, hashlib.sha256).digest()
            verify = hmac.new(NTOR + b":verify", si, hashlib.sha256).digest()
            ai = verify + rsa_id + ntor_key + Y + X + NTOR + b"Server"
            if hmac.new(NTOR + b":mac", ai, hashlib.sha256).digest() != auth:
                return False
            k = hkdf_sha256(seed, NTOR + b":key_expand", 72)
            self.hops.append(Hop(k[0:20], k[20:40], k[40:56], k[56:72]))
            return True
        return False


def ntor_key_of(descriptor_text):
    """The ntor-onion-key (32 bytes) of a server descriptor."""
    for line in descriptor_text.splitlines():
        if line.startswith("ntor-onion-key "):
            b = line.split()[1]
            return base64.b64decode(b + "=" * (-len(b) % 4))
    raise ValueError("no ntor-onion-key")
