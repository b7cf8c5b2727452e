// The phone's page: pair with a desktop, then chat with its models through the relay.
// Everything it shows arrives through the end-to-end channel; model output is shown as
// text (textContent), never parsed as HTML.

import { newStaticKey, unb64url } from "./crypto.js";
import { loadPairing, savePairing } from "./keystore.js";
import { TunnelLink } from "./link.js";

const $ = (id) => document.getElementById(id);
const VIEWS = ["welcome-view", "pair-view", "code-view", "chat-view"];
const STATE_TEXT = {
  connecting: "Connecting…",
  reconnecting: "Reconnecting…",
  "desktop-offline": "Your desktop is offline or asleep",
  pending: "Waiting for approval on the desktop",
  online: "Connected",
  removed: "This device is no longer paired",
};
const ENDINGS = new Set(["complete", "cancelled", "error"]);

const chat = { link: null, conversationId: null, replies: new Map(), streaming: null };

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
  chat.link = new TunnelLink({
    onPaired,
    desktopId: saved.desktopId,
    desktopStatic: unb64url(saved.desktopStatic),
    staticKey: saved.staticKey,
    pairing,
    onState,
    onFrame,
    onReset: reload,
  }).start();
}

function onState(state, detail) {
  setState(STATE_TEXT[state] || state);
  if (state === "pending") {
    show("code-view");
    $("short-code").textContent = detail || "";
  } else if (state === "online") {
    show("chat-view");
  }
}

// Conversations and models, through REST.

async function api(method, path, body) {
  const answer = await chat.link.request(method, path, body);
  if (answer.status >= 400) throw new Error(answer.body?.error?.message || `HTTP ${answer.status}`);
  return answer.body;
}

async function reload() {
  chat.replies.clear();
  await Promise.all([loadModels(), loadConversations()]);
  if (chat.conversationId) await openConversation(chat.conversationId);
}

async function loadModels() {
  let models = [];
  try {
    models = (await api("GET", "/api/models")).models;
  } catch {
    models = []; // Ollama down: the desktop's default model is used
  }
  $("model").replaceChildren(
    ...models.map((model) => new Option(model.name, model.name)),
  );
}

async function loadConversations() {
  const { conversations } = await api("GET", "/api/conversations");
  const options = conversations.map((c) => new Option(c.title || "Untitled", c.id));
  $("conversations").replaceChildren(new Option("New chat", ""), ...options);
  $("conversations").value = chat.conversationId || "";
}

async function openConversation(id) {
  chat.conversationId = id || null;
  $("messages").replaceChildren();
  if (!id) return;
  const conversation = await api("GET", `/api/conversations/${encodeURIComponent(id)}`);
  for (const message of conversation.messages) {
    const item = addMessage(message.role, message.content);
    if (message.status === "streaming") chat.replies.set(message.id, item);
  }
  chat.link.send({ type: "conversation.watch", conversation_id: id });
}

function addMessage(role, text) {
  const item = document.createElement("li");
  item.className = `message ${role}`;
  item.textContent = text;
  $("messages").append(item);
  item.scrollIntoView({ block: "end" });
  return item;
}

// The app's /ws frames.

function onFrame(frame) {
  if (frame.type === "start") {
    startReply(frame);
  } else if (frame.type === "chunk" && chat.replies.has(frame.message_id)) {
    const item = chat.replies.get(frame.message_id);
    item.textContent += frame.delta;
    item.scrollIntoView({ block: "end" });
  } else if (ENDINGS.has(frame.type) && chat.replies.has(frame.message_id)) {
    endReply(frame);
  } else if (frame.type === "error" && !frame.message_id) {
    setState(frame.message);
  } else if (frame.type === "conversation.created" || frame.type === "conversation.updated") {
    loadConversations().catch(() => {});
  }
}

function startReply(frame) {
  if (chat.conversationId && frame.conversation_id !== chat.conversationId) return;
  if (!chat.conversationId) {
    chat.conversationId = frame.conversation_id;
    loadConversations().catch(() => {});
  }
  // A watched reply restarts from its text so far: reuse its bubble, emptied.
  const item = chat.replies.get(frame.message_id) || addMessage("assistant", "");
  item.textContent = "";
  chat.replies.set(frame.message_id, item);
  chat.streaming = frame.message_id;
  $("stop").hidden = false;
}

function endReply(frame) {
  const item = chat.replies.get(frame.message_id);
  chat.replies.delete(frame.message_id);
  if (typeof frame.content === "string") item.textContent = frame.content;
  if (frame.type !== "complete") item.classList.add(frame.type);
  if (chat.streaming === frame.message_id) {
    chat.streaming = null;
    $("stop").hidden = true;
  }
}

function send(event) {
  event.preventDefault();
  const content = $("prompt").value.trim();
  if (!content || !chat.link) return;
  const frame = {
    type: "chat.send",
    request_id: crypto.randomUUID(),
    conversation_id: chat.conversationId,
    content,
  };
  if ($("model").value) frame.model = $("model").value;
  if (chat.link.send(frame)) {
    addMessage("user", content);
    $("prompt").value = "";
  }
}

$("composer").addEventListener("submit", send);
$("stop").addEventListener("click", () => {
  if (chat.streaming) chat.link.send({ type: "chat.cancel", message_id: chat.streaming });
});
$("new-chat").addEventListener("click", () => {
  $("conversations").value = "";
  openConversation(null);
});
$("conversations").addEventListener("change", (event) => {
  openConversation(event.target.value).catch((error) => setState(error.message));
});

main().catch((error) => setState(`Could not start: ${error.message}`));
