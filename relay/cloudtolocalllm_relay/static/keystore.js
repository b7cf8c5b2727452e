// This browser's pairing: the desktop's pinned keys and this device's own key pair, kept in
// IndexedDB (a CryptoKey is stored as is: its private half stays non-extractable).

const DB_NAME = "cloudtolocalllm-remote";
const STORE = "pairing";
const KEY = "current";

function openDb() {
  return new Promise((resolve, reject) => {
    const request = indexedDB.open(DB_NAME, 1);
    request.onupgradeneeded = () => request.result.createObjectStore(STORE);
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error);
  });
}

async function run(mode, action) {
  const db = await openDb();
  try {
    return await new Promise((resolve, reject) => {
      const request = action(db.transaction(STORE, mode).objectStore(STORE));
      request.onsuccess = () => resolve(request.result);
      request.onerror = () => reject(request.error);
    });
  } finally {
    db.close();
  }
}

export const loadPairing = () => run("readonly", (store) => store.get(KEY));
export const savePairing = (pairing) => run("readwrite", (store) => store.put(pairing, KEY));
export const forgetPairing = () => run("readwrite", (store) => store.delete(KEY));
