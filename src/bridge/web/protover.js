// protover.js — relay subprotocol versions (dir-spec "proto" / "pr" lines: space-separated
// NAME=RANGES, RANGES a comma list of N or N-M) and what the client asks of them: ntor-v3
// needs "Relay=4" (tor-spec "Subprotocol versioning": Relay=4 is the ntor-v3 handshake).
const MAX_RANGE = 63; // dir-spec: versions above 63 are not allowed

// "Link=1-5 Relay=2,4" -> Map('Link' -> Set{1..5}, 'Relay' -> Set{2,4}); throws when malformed.
export function parseProtocols(s) {
  const out = new Map();
  for (const ent of String(s).trim().split(/\s+/).filter(Boolean)) {
    const m = /^([A-Za-z0-9-]+)=([0-9,-]*)$/.exec(ent);
    if (!m) throw new Error(`protocols: bad entry "${ent}"`);
    const set = new Set();
    for (const r of m[2] ? m[2].split(',') : []) {
      const mm = /^(\d+)(?:-(\d+))?$/.exec(r);
      if (!mm) throw new Error(`protocols: bad range "${r}"`);
      const lo = Number(mm[1]), hi = Number(mm[2] ?? mm[1]);
      if (lo > hi || hi > MAX_RANGE) throw new Error(`protocols: bad range "${r}"`);
      for (let v = lo; v <= hi; v++) set.add(v);
    }
    out.set(m[1], set);
  }
  return out;
}

// True if the protocol string lists version v of name; false when unknown or unparsable.
export function supportsProtocol(s, name, v) {
  if (!s) return false;
  try {
    return parseProtocols(s).get(name)?.has(v) ?? false;
  } catch {
    return false;
  }
}

// A relay may be extended to with ntor-v3: it offers Relay=4 and we know its Ed25519 identity.
export const offersNtorV3 = (protocols, edId) =>
  edId instanceof Uint8Array && edId.length === 32 && supportsProtocol(protocols, 'Relay', 4);
