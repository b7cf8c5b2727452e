// The end-to-end channel's primitives in WebCrypto: X25519, HKDF-SHA256, AES-256-GCM.
// The same handshake as backend/core/remote/channel.py (see docs/remote-access.md).

const encoder = new TextEncoder();
const decoder = new TextDecoder();
const PROTOCOL = encoder.encode("cloudtolocalllm-e2e-v1");
const PHONE_TO_DESKTOP = encoder.encode("p2d");
const DESKTOP_TO_PHONE = encoder.encode("d2p");

export function b64url(bytes) {
  let text = "";
  for (const byte of bytes) text += String.fromCharCode(byte);
  return btoa(text).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

export function unb64url(text) {
  const plain = atob(text.replace(/-/g, "+").replace(/_/g, "/"));
  return Uint8Array.from(plain, (c) => c.charCodeAt(0));
}

function concat(...parts) {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}

/** A static key pair whose private half never leaves WebCrypto (not extractable). */
export function newStaticKey() {
  return crypto.subtle.generateKey({ name: "X25519" }, false, ["deriveBits"]);
}

export async function rawPublic(keyPair) {
  return new Uint8Array(await crypto.subtle.exportKey("raw", keyPair.publicKey));
}

async function dh(privateKey, publicRaw) {
  const publicKey = await crypto.subtle.importKey("raw", publicRaw, { name: "X25519" }, true, []);
  const params = { name: "X25519", public: publicKey };
  return new Uint8Array(await crypto.subtle.deriveBits(params, privateKey, 256));
}

async function hkdf(ikm, salt, info, length) {
  const key = await crypto.subtle.importKey("raw", ikm, "HKDF", false, ["deriveBits"]);
  const params = { name: "HKDF", hash: "SHA-256", salt, info };
  return new Uint8Array(await crypto.subtle.deriveBits(params, key, length * 8));
}

function aesKey(raw, usage) {
  return crypto.subtle.importKey("raw", raw, { name: "AES-GCM" }, false, [usage]);
}

function nonce(counter) {
  const iv = new Uint8Array(12);
  new DataView(iv.buffer).setBigUint64(4, BigInt(counter));
  return iv;
}

/** One session's frames: sealed and opened strictly in order (the counter is the nonce). */
class FrameCipher {
  constructor(sendKey, recvKey) {
    this.sendKey = sendKey;
    this.recvKey = recvKey;
    this.sent = 0;
    this.received = 0;
  }

  async seal(frame) {
    const iv = nonce(this.sent++);
    const plain = encoder.encode(JSON.stringify(frame));
    const params = { name: "AES-GCM", iv, additionalData: PHONE_TO_DESKTOP };
    return b64url(new Uint8Array(await crypto.subtle.encrypt(params, this.sendKey, plain)));
  }

  /** The frame, or a rejected promise if it fails authentication (the session must end). */
  async open(data) {
    const iv = nonce(this.received++);
    const params = { name: "AES-GCM", iv, additionalData: DESKTOP_TO_PHONE };
    const plain = await crypto.subtle.decrypt(params, this.recvKey, unb64url(data));
    return JSON.parse(decoder.decode(plain));
  }
}

/**
 * The phone's half of the handshake. `hello()` gives the first message; `finish(welcome)`
 * gives the cipher and the short code shown on both screens while pairing.
 */
export class Handshake {
  constructor(desktopStatic, staticKey, pairingId = null, pairingSecret = null) {
    this.desktopStatic = desktopStatic;
    this.staticKey = staticKey;
    this.pairingId = pairingId;
    this.pairingSecret = pairingSecret;
  }

  async hello() {
    this.ephemeral = await crypto.subtle.generateKey({ name: "X25519" }, false, ["deriveBits"]);
    this.ephemeralPublic = await rawPublic(this.ephemeral);
    this.staticPublic = await rawPublic(this.staticKey);
    const shared = await dh(this.ephemeral.privateKey, this.desktopStatic);
    const info = concat(encoder.encode("hello"), this.desktopStatic, this.ephemeralPublic);
    const key = await aesKey(await hkdf(shared, PROTOCOL, info, 32), "encrypt");
    const inner = encoder.encode(
      JSON.stringify({ s: b64url(this.staticPublic), pairing: this.pairingId }),
    );
    const params = { name: "AES-GCM", iv: nonce(0), additionalData: PROTOCOL };
    const box = new Uint8Array(await crypto.subtle.encrypt(params, key, inner));
    return { t: "hello", v: 1, e: b64url(this.ephemeralPublic), box: b64url(box) };
  }

  async finish(welcome) {
    if (!welcome || welcome.t !== "welcome") throw new Error("not a welcome");
    const desktopEphemeral = unb64url(welcome.e);
    const terms = [
      await dh(this.ephemeral.privateKey, desktopEphemeral),
      await dh(this.ephemeral.privateKey, this.desktopStatic),
      await dh(this.staticKey.privateKey, desktopEphemeral),
    ];
    const transcript = concat(
      PROTOCOL,
      this.desktopStatic,
      this.staticPublic,
      this.ephemeralPublic,
      desktopEphemeral,
    );
    const salt = new Uint8Array(await crypto.subtle.digest("SHA-256", transcript));
    const ikm = concat(...terms, this.pairingSecret || new Uint8Array(0));
    const okm = await hkdf(ikm, salt, encoder.encode("session"), 64);
    const codeBytes = await hkdf(ikm, salt, encoder.encode("short-code"), 4);
    const code = new DataView(codeBytes.buffer).getUint32(0) % 1_000_000;
    const cipher = new FrameCipher(
      await aesKey(okm.slice(0, 32), "encrypt"),
      await aesKey(okm.slice(32), "decrypt"),
    );
    return { cipher, code: String(code).padStart(6, "0") };
  }
}
