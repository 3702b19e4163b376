// Sealed cases in the browser: HPKE (RFC 9180) to readers' X25519 keys, the requester's
// link key, the passphrase-locked reader key and its IndexedDB store. The wire formats are
// krov/core/sealing.py's (Python `cryptography`); tests/core/test_sealed_js.py checks both.
//
// No home-made cryptography: HPKE comes from @hpke/core over WebCrypto (X25519, HKDF-SHA256,
// AES-256-GCM); scrypt from @noble/hashes; HKDF and AES-GCM for the link key from WebCrypto.
// Both libraries are vendored in one file built by bin/vendor-js. Nothing here logs.
import {
  Aes256Gcm,
  CipherSuite,
  DhkemX25519HkdfSha256,
  HkdfSha256,
  scryptAsync,
} from "./vendor/krov-crypto-vendor.js";

const subtle = globalThis.crypto.subtle;
const utf8 = new TextEncoder();
const strictUtf8 = new TextDecoder("utf-8", { fatal: true });

const SEALED_PREFIX = "k1.";
const SYMMETRIC_PREFIX = "s1.";
const KEY_SIZE = 32;
const NONCE_SIZE = 12;
const TAG_SIZE = 16;
const X25519 = { name: "X25519" };
// PKCS#8 header of an X25519 private key (RFC 8410): the raw 32-byte scalar follows it.
const PKCS8_X25519 = Uint8Array.of(
  0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06,
  0x03, 0x2b, 0x65, 0x6e, 0x04, 0x22, 0x04, 0x20,
);
const BASE_POINT = Uint8Array.from({ length: KEY_SIZE }, (_, i) => (i === 0 ? 9 : 0));

/** The scrypt cost written into new recovery files: N = 2^17, r = 8, p = 1 (128 MiB). */
export const SCRYPT_PARAMS = Object.freeze({ N: 131072, r: 8, p: 1 });
// A recovery file is read from the user's disk: refuse costs that would hang the tab.
const SCRYPT_LIMITS = { minLogN: 14, maxLogN: 18, maxR: 8, maxP: 4 };
const READER_KEY_AAD = "krov/v1/reader-key/";
const REQUESTER_INFO = "krov/v1/requester/";

/** Every failure to open, unwrap or unlock is a SealedError with a message fit for people. */
export class SealedError extends Error {
  constructor(message, options) {
    super(message, options);
    this.name = "SealedError";
  }
}

let suiteInstance = null;
function suite() {
  suiteInstance ??= new CipherSuite({
    kem: new DhkemX25519HkdfSha256(),
    kdf: new HkdfSha256(),
    aead: new Aes256Gcm(),
  });
  return suiteInstance;
}

// --- bytes ------------------------------------------------------------------------------

/** base64url without padding. */
export function b64urlEncode(bytes) {
  const view = bytes instanceof Uint8Array ? bytes : new Uint8Array(bytes);
  let binary = "";
  for (let i = 0; i < view.length; i += 0x8000) {
    binary += String.fromCharCode(...view.subarray(i, i + 0x8000));
  }
  return btoa(binary).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

/** Strict base64url without padding: anything else throws a SealedError. */
export function b64urlDecode(text) {
  if (typeof text !== "string" || !/^[A-Za-z0-9_-]*$/.test(text) || text.length % 4 === 1) {
    throw new SealedError("Not base64url.");
  }
  const binary = atob(text.replace(/-/g, "+").replace(/_/g, "/"));
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
}

/** Overwrite a byte array with zeros (for raw keys once they are no longer needed). */
export function zero(bytes) {
  if (bytes instanceof Uint8Array) bytes.fill(0);
  else if (bytes instanceof ArrayBuffer) new Uint8Array(bytes).fill(0);
}

function asBytes(data) {
  if (typeof data === "string") return utf8.encode(data);
  if (data instanceof Uint8Array) return data;
  if (data instanceof ArrayBuffer) return new Uint8Array(data);
  throw new TypeError("Expected a string, a Uint8Array or an ArrayBuffer.");
}

function concat(a, b) {
  const out = new Uint8Array(a.length + b.length);
  out.set(a, 0);
  out.set(b, a.length);
  return out;
}

function randomBytes(n) {
  return crypto.getRandomValues(new Uint8Array(n));
}

function checkRaw(raw, what) {
  if (!(raw instanceof Uint8Array) || raw.length !== KEY_SIZE) {
    throw new SealedError(`${what} must be ${KEY_SIZE} bytes.`);
  }
}

function decodeText(bytes) {
  try {
    return strictUtf8.decode(bytes);
  } catch (error) {
    throw new SealedError("The opened content is not text.", { cause: error });
  }
}

// --- reader keys ------------------------------------------------------------------------

async function importPrivate(raw, extractable) {
  const pkcs8 = concat(PKCS8_X25519, raw);
  try {
    return await subtle.importKey("pkcs8", pkcs8, X25519, extractable, ["deriveBits"]);
  } finally {
    pkcs8.fill(0);
  }
}

async function publicFromPrivate(privateKey) {
  const basePoint = await subtle.importKey("raw", BASE_POINT, X25519, true, []);
  const bits = await subtle.deriveBits({ ...X25519, public: basePoint }, privateKey, 256);
  return new Uint8Array(bits);
}

/**
 * A new X25519 reader key pair, made in this browser.
 * Returns {publicKey: base64url string, privateKey: Uint8Array(32)}; lock the private key with
 * lockKey() and zero() it.
 */
export async function generateReaderKey() {
  const pair = await subtle.generateKey(X25519, true, ["deriveBits"]);
  const publicRaw = new Uint8Array(await subtle.exportKey("raw", pair.publicKey));
  const pkcs8 = new Uint8Array(await subtle.exportKey("pkcs8", pair.privateKey));
  try {
    if (pkcs8.length !== PKCS8_X25519.length + KEY_SIZE) {
      throw new SealedError("Unexpected private key encoding.");
    }
    return { publicKey: b64urlEncode(publicRaw), privateKey: pkcs8.slice(PKCS8_X25519.length) };
  } finally {
    pkcs8.fill(0);
  }
}

async function pairFromRaw(raw) {
  const privateKey = await importPrivate(raw, false);
  const publicRaw = await publicFromPrivate(privateKey);
  const publicKey = await subtle.importKey("raw", publicRaw, X25519, true, []);
  return { privateKey, publicKey, publicB64: b64urlEncode(publicRaw) };
}

/**
 * Turn a raw private key into a non-extractable WebCrypto key pair for open()/openBytes(),
 * so that the page holds no key bytes while it reads. Zeroes `privateRaw`.
 * Returns {privateKey: CryptoKey, publicKey: CryptoKey, publicB64: string}.
 */
export async function importReaderKey(privateRaw) {
  checkRaw(privateRaw, "A private key");
  try {
    return await pairFromRaw(privateRaw);
  } finally {
    zero(privateRaw);
  }
}

/** The base64url public key of a raw private key (the raw bytes are left as they are). */
export async function publicKeyOf(privateRaw) {
  checkRaw(privateRaw, "A private key");
  return b64urlEncode(await publicFromPrivate(await importPrivate(privateRaw, false)));
}

// --- HPKE: seal to a public key, open with the private one --------------------------------

async function importPublic(publicB64) {
  const raw = b64urlDecode(publicB64);
  checkRaw(raw, "A public key");
  return await subtle.importKey("raw", raw, X25519, true, []);
}

/**
 * Seal bytes to a reader's public key: "k1." + base64url(enc(32) || ciphertext).
 * `info` is the context string the value belongs to, e.g. "krov/v1/content/<case>/message".
 */
export async function sealBytes(bytes, publicB64, info) {
  const { ct, enc } = await suite().seal(
    { recipientPublicKey: await importPublic(publicB64), info: utf8.encode(info) },
    asBytes(bytes),
  );
  return SEALED_PREFIX + b64urlEncode(concat(new Uint8Array(enc), new Uint8Array(ct)));
}

/** Seal a string (UTF-8) to a reader's public key; see sealBytes(). */
export async function seal(plaintext, publicB64, info) {
  if (typeof plaintext !== "string") throw new TypeError("seal() takes a string.");
  return await sealBytes(plaintext, publicB64, info);
}

/**
 * Open a "k1." value with a reader key: either the raw private key (Uint8Array(32), left as it
 * is: zero it when done) or what importReaderKey() returned. Returns a Uint8Array; a wrong
 * key, a wrong `info` or damaged data throw a SealedError.
 */
export async function openBytes(sealed, readerKey, info) {
  if (typeof sealed !== "string" || !sealed.startsWith(SEALED_PREFIX)) {
    throw new SealedError("Not a sealed value.");
  }
  const data = b64urlDecode(sealed.slice(SEALED_PREFIX.length));
  if (data.length < KEY_SIZE + TAG_SIZE) throw new SealedError("Sealed value too short.");
  let recipientKey = readerKey;
  if (readerKey instanceof Uint8Array) {
    checkRaw(readerKey, "A private key");
    recipientKey = await pairFromRaw(readerKey);
  } else if (!readerKey || !readerKey.privateKey || !readerKey.publicKey) {
    throw new TypeError("openBytes() takes a raw private key or importReaderKey()'s result.");
  }
  try {
    const plain = await suite().open(
      {
        recipientKey: { privateKey: recipientKey.privateKey, publicKey: recipientKey.publicKey },
        enc: data.slice(0, KEY_SIZE),
        info: utf8.encode(info),
      },
      data.slice(KEY_SIZE),
    );
    return new Uint8Array(plain);
  } catch (error) {
    throw new SealedError(
      "This content cannot be opened with this key (wrong key, wrong place, or damaged).",
      { cause: error },
    );
  }
}

/** Open a "k1." value holding text; see openBytes(). */
export async function open(sealed, readerKey, info) {
  return decodeText(await openBytes(sealed, readerKey, info));
}

// --- the requester's link key -----------------------------------------------------------

/**
 * The requester's key, derived from the secret link's token:
 * HKDF-SHA256(ikm = token, salt = empty, info = "krov/v1/requester/<case uuid>", 32 bytes),
 * as a non-extractable AES-256-GCM CryptoKey.
 */
export async function requesterKey(token, caseUuid) {
  const ikm = await subtle.importKey("raw", utf8.encode(token), "HKDF", false, ["deriveKey"]);
  return await subtle.deriveKey(
    {
      name: "HKDF",
      hash: "SHA-256",
      salt: new Uint8Array(0),
      info: utf8.encode(REQUESTER_INFO + caseUuid),
    },
    ikm,
    { name: "AES-GCM", length: 256 },
    false,
    ["encrypt", "decrypt"],
  );
}

/** "s1." + base64url(nonce(12) || AES-256-GCM(key, nonce, data, aad = case uuid)). */
export async function wrapSymmetric(data, key, caseUuid) {
  const nonce = randomBytes(NONCE_SIZE);
  const ct = await subtle.encrypt(
    { name: "AES-GCM", iv: nonce, additionalData: utf8.encode(caseUuid) },
    key,
    asBytes(data),
  );
  return SYMMETRIC_PREFIX + b64urlEncode(concat(nonce, new Uint8Array(ct)));
}

/** Unwrap an "s1." value; returns a Uint8Array (zero it if it is a key). */
export async function unwrapSymmetric(wrapped, key, caseUuid) {
  if (typeof wrapped !== "string" || !wrapped.startsWith(SYMMETRIC_PREFIX)) {
    throw new SealedError("Not a wrapped value.");
  }
  const data = b64urlDecode(wrapped.slice(SYMMETRIC_PREFIX.length));
  if (data.length < NONCE_SIZE + TAG_SIZE) throw new SealedError("Wrapped value too short.");
  try {
    const plain = await subtle.decrypt(
      { name: "AES-GCM", iv: data.slice(0, NONCE_SIZE), additionalData: utf8.encode(caseUuid) },
      key,
      data.slice(NONCE_SIZE),
    );
    return new Uint8Array(plain);
  } catch (error) {
    throw new SealedError("This link cannot open this content.", { cause: error });
  }
}

/** unwrapSymmetric() for text. */
export async function unwrapSymmetricText(wrapped, key, caseUuid) {
  return decodeText(await unwrapSymmetric(wrapped, key, caseUuid));
}

// --- the passphrase-locked reader key (IndexedDB and the recovery file) -------------------

async function passphraseKey(passphrase, salt, { N, r, p }) {
  const secret = utf8.encode(passphrase.normalize("NFKC"));
  const derived = await scryptAsync(secret, salt, { N, r, p, dkLen: KEY_SIZE, maxmem: 2 ** 29 });
  secret.fill(0);
  try {
    return await subtle.importKey("raw", derived, "AES-GCM", false, ["encrypt", "decrypt"]);
  } finally {
    derived.fill(0);
  }
}

/**
 * Lock a raw private key under a passphrase. Returns the recovery object (JSON-ready):
 * {krov: "reader-key", v: 1, kdf: "scrypt", N, r, p, salt, nonce, ct, public, label}.
 * `privateRaw` is left as it is; zero it when done.
 */
export async function lockKey(privateRaw, publicB64, passphrase, label) {
  checkRaw(privateRaw, "A private key");
  if (typeof passphrase !== "string" || passphrase.length === 0) {
    throw new SealedError("A passphrase is needed.");
  }
  if ((await publicKeyOf(privateRaw)) !== publicB64) {
    throw new SealedError("This public key does not belong to this private key.");
  }
  const salt = randomBytes(16);
  const nonce = randomBytes(NONCE_SIZE);
  const key = await passphraseKey(passphrase, salt, SCRYPT_PARAMS);
  const ct = await subtle.encrypt(
    { name: "AES-GCM", iv: nonce, additionalData: utf8.encode(READER_KEY_AAD + publicB64) },
    key,
    privateRaw,
  );
  return {
    krov: "reader-key",
    v: 1,
    kdf: "scrypt",
    ...SCRYPT_PARAMS,
    salt: b64urlEncode(salt),
    nonce: b64urlEncode(nonce),
    ct: b64urlEncode(ct),
    public: publicB64,
    label: String(label ?? ""),
  };
}

function checkLocked(locked) {
  const isInt = (n, lo, hi) => Number.isInteger(n) && n >= lo && n <= hi;
  const logN = Math.log2(locked?.N);
  if (
    !locked ||
    locked.krov !== "reader-key" ||
    locked.v !== 1 ||
    locked.kdf !== "scrypt" ||
    !isInt(logN, SCRYPT_LIMITS.minLogN, SCRYPT_LIMITS.maxLogN) ||
    !isInt(locked.r, 1, SCRYPT_LIMITS.maxR) ||
    !isInt(locked.p, 1, SCRYPT_LIMITS.maxP) ||
    typeof locked.public !== "string"
  ) {
    throw new SealedError("This is not a Krov key file.");
  }
}

/**
 * Unlock a recovery object (or its JSON text) with the passphrase. Returns the raw private
 * key, Uint8Array(32) (pass it to importReaderKey(), which zeroes it). A wrong passphrase
 * throws a SealedError.
 */
export async function unlockKey(recoveryJson, passphrase) {
  let locked = recoveryJson;
  if (typeof recoveryJson === "string") {
    try {
      locked = JSON.parse(recoveryJson);
    } catch (error) {
      throw new SealedError("This is not a Krov key file.", { cause: error });
    }
  }
  checkLocked(locked);
  const salt = b64urlDecode(locked.salt);
  const nonce = b64urlDecode(locked.nonce);
  const ct = b64urlDecode(locked.ct);
  if (salt.length < 16 || nonce.length !== NONCE_SIZE || ct.length !== KEY_SIZE + TAG_SIZE) {
    throw new SealedError("This is not a Krov key file.");
  }
  if (typeof passphrase !== "string") throw new SealedError("A passphrase is needed.");
  const key = await passphraseKey(passphrase, salt, locked);
  let raw;
  try {
    raw = new Uint8Array(
      await subtle.decrypt(
        { name: "AES-GCM", iv: nonce, additionalData: utf8.encode(READER_KEY_AAD + locked.public) },
        key,
        ct,
      ),
    );
  } catch (error) {
    throw new SealedError("Wrong passphrase (or a damaged key file).", { cause: error });
  }
  if ((await publicKeyOf(raw)) !== locked.public) {
    zero(raw);
    throw new SealedError("This key file is damaged.");
  }
  return raw;
}

// --- IndexedDB: the locked key on this device ----------------------------------------------

const DB_NAME = "krov-keys";
const STORE = "keys";
const READER = "reader";
// Panic deletes every key store of this origin: this one and the unlocked key pair that
// aid/keys.js keeps (non-extractable CryptoKeys) in its own database.
const WIPED_DBS = [DB_NAME, "krov-unlocked"];

function request(req) {
  return new Promise((resolve, reject) => {
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error);
  });
}

function openDb() {
  const req = indexedDB.open(DB_NAME, 1);
  req.onupgradeneeded = () => req.result.createObjectStore(STORE);
  return request(req).then((db) => {
    db.onversionchange = () => db.close(); // let wipe() in another tab delete the database
    return db;
  });
}

async function withStore(mode, action) {
  const db = await openDb();
  try {
    const tx = db.transaction(STORE, mode);
    const done = new Promise((resolve, reject) => {
      tx.oncomplete = resolve;
      tx.onerror = () => reject(tx.error);
      tx.onabort = () => reject(tx.error);
    });
    const [result] = await Promise.all([request(action(tx.objectStore(STORE))), done]);
    return result;
  } finally {
    db.close();
  }
}

/** Keep the locked key (lockKey()'s object) on this device. */
export async function saveLockedKey(locked) {
  checkLocked(locked);
  await withStore("readwrite", (store) => store.put(locked, READER));
}

/** The locked key kept on this device, or null. */
export async function loadLockedKey() {
  return (await withStore("readonly", (store) => store.get(READER))) ?? null;
}

function deleteDb(name) {
  return new Promise((resolve, reject) => {
    const req = indexedDB.deleteDatabase(name);
    req.onsuccess = () => resolve();
    req.onerror = () => reject(req.error);
    // onblocked: another tab still has it open; it closes on versionchange, then success.
  });
}

/** Delete this device's key databases, whole (panic). Resolves once they are gone. */
export async function wipe() {
  await Promise.all(WIPED_DBS.map(deleteDb));
}
