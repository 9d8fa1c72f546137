#!/usr/bin/env python3
# relay_vector.py — how the tor1 vector in relay_crypto.test.mjs was made, independently of the
# JS code (Python hashlib and the `cryptography` module's AES-CTR). Prints per cell: the full
# running digest, SHA-256 of the ciphertext, its first 32 bytes.
# Independent tor1 vector: keys[j] = 7*j+1 (72 bytes); three forward cells, each a RELAY_DATA
# payload p[0]=2, stream 1, Length 100, bytes (seq*13+i)&0xff from 11; digest set from the
# running SHA-1 seeded with Df, then AES-128-CTR (IV 0) with Kf over the concatenation.
import hashlib
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
keys = bytes((7 * j + 1) & 0xff for j in range(72))
Df, Db, Kf, Kb = keys[:20], keys[20:40], keys[40:56], keys[56:72]
d = hashlib.sha1(); d.update(Df)
enc = Cipher(algorithms.AES(Kf), modes.CTR(bytes(16))).encryptor()
out = []
for seq in range(3):
    p = bytearray(509); p[0] = 2; p[4] = 1; p[10] = 100
    for i in range(11, 509): p[i] = (seq * 13 + i) & 0xff
    d.update(bytes(p)); dig = d.copy().digest(); p[5:9] = dig[:4]
    out.append((dig.hex(), enc.update(bytes(p)).hex()))
for dig, c in out: print(dig, hashlib.sha256(bytes.fromhex(c)).hexdigest(), c[:64])
