// consensus_cache.js — where a verified consensus is kept between page loads: an IndexedDB
// object store in the browser (idbCache), a Map in node tests (memoryCache); both hold, per
// flavour, {flavor, validAfter, validUntil, freshUntil, consensus (bytes), certs (bytes of the
// /tor/keys/ answer)}. Nothing read back is trusted: directory.js verifies a cached consensus
// again with its certificates and the pinned authorities before using it.

export function memoryCache() {
  const m = new Map();
  return {
    async get(flavor) {
      return m.get(flavor);
    },
    async put(entry) {
      m.set(entry.flavor, entry);
    },
    async delete(flavor) {
      m.delete(flavor);
    },
    map: m,
  };
}

const req = (r) => new Promise((resolve, reject) => {
  r.onsuccess = () => resolve(r.result);
  r.onerror = () => reject(r.error);
});

// IndexedDB database `name`, object store "consensus" keyed by flavour.
export function idbCache(name = 'onionmesh-dir', idb = globalThis.indexedDB) {
  if (!idb) throw new Error('cache: no IndexedDB here');
  let dbp = null;
  const db = () => {
    if (!dbp) {
      const open = idb.open(name, 1);
      open.onupgradeneeded = () =>
        open.result.createObjectStore('consensus', { keyPath: 'flavor' });
      dbp = req(open);
    }
    return dbp;
  };
  const store = async (mode) =>
    (await db()).transaction('consensus', mode).objectStore('consensus');
  return {
    async get(flavor) {
      return req((await store('readonly')).get(flavor));
    },
    async put(entry) {
      const s = await store('readwrite');
      const done = new Promise((resolve, reject) => {
        s.transaction.oncomplete = resolve;
        s.transaction.onerror = s.transaction.onabort = () => reject(s.transaction.error);
      });
      s.put(entry);
      await done; // committed, not only queued
    },
    async delete(flavor) {
      await req((await store('readwrite')).delete(flavor));
    },
  };
}
