// The phone's page: pair with a desktop and wait for its approval. Once the channel is up,
// the desktop's own UI takes over (served under /app/; its transport/tunnel.js opens the
// channel again with the pairing kept here), and comes back here if the pairing ends.

import { newStaticKey, unb64url } from "./crypto.js";
import { loadPairing, savePairing } from "./keystore.js";
import { TunnelLink } from "./link.js";

const $ = (id) => document.getElementById(id);
const VIEWS = ["welcome-view", "pair-view", "code-view"];
const APP_PAGE = "/app/";
const STATE_TEXT = {
  connecting: "Connecting…",
  reconnecting: "Reconnecting…",
  "desktop-offline": "Your desktop is offline or asleep",
  pending: "Waiting for approval on the desktop",
  online: "Connected",
  removed: "This device is no longer paired",
};

function show(view) {
  for (const id of VIEWS) $(id).hidden = id !== view;
}

function setState(text) {
  $("state").textContent = text;
}

/** The pairing offer from the URL's fragment (never sent to the relay), then forgotten. */
function takeOffer() {
  const fields = new URLSearchParams(location.hash.slice(1));
  if (!["d", "k", "p", "s"].every((name) => fields.get(name))) return null;
  history.replaceState(null, "", location.pathname);
  return Object.fromEntries(fields);
}

function askName() {
  show("pair-view");
  setState("Not paired yet");
  $("device-name").value = /Android|iPhone|iPad/.exec(navigator.userAgent)?.[0] || "My phone";
  return new Promise((resolve) => {
    $("pair-view").addEventListener(
      "submit",
      (event) => {
        event.preventDefault();
        resolve($("device-name").value.trim() || "My phone");
      },
      { once: true },
    );
  });
}

async function main() {
  const offer = takeOffer();
  const saved = await loadPairing();
  if (offer && !(saved && saved.desktopId === offer.d)) {
    const name = await askName();
    const pairing = { desktopId: offer.d, desktopStatic: offer.k, staticKey: await newStaticKey() };
    // Kept once the desktop has taken the request: a refused link leaves any old pairing be.
    const onPaired = () => savePairing(pairing);
    connect(pairing, { id: offer.p, secret: unb64url(offer.s), name }, onPaired);
  } else if (saved) {
    connect(saved, null);
  } else {
    show("welcome-view");
    setState("Not paired");
  }
}

function connect(saved, pairing, onPaired = null) {
  new TunnelLink({
    onPaired,
    desktopId: saved.desktopId,
    desktopStatic: unb64url(saved.desktopStatic),
    staticKey: saved.staticKey,
    pairing,
    onState,
  }).start();
}

function onState(state, detail) {
  setState(STATE_TEXT[state] || state);
  if (state === "pending") {
    show("code-view");
    $("short-code").textContent = detail || "";
  } else if (state === "online") {
    location.replace(APP_PAGE);
  }
}

main().catch((error) => setState(`Could not start: ${error.message}`));
