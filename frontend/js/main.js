// Entry point: picks the transport, wires the modules together and connects.
// Over 300 lines on purpose: the one place every module is wired to the others.
import { createApi } from "./api.js";
import { Chat } from "./chat.js";
import { Composer } from "./composer.js";
import { renderEmptyState } from "./emptystate.js";
import { FrameRouter } from "./frames.js";
import { bindImageDrop, configureImages } from "./images.js";
import { bindShortcuts } from "./keys.js";
import { rawTextOf } from "./messages.js";
import { Models } from "./models.js";
import { showMenu } from "./menu.js";
import { otherServerSetup } from "./otherserver.js";
import { Panels } from "./panels.js";
import { Search } from "./search.js";
import { clearHit, revealMessage } from "./searchhit.js";
import { Sidebar } from "./sidebar.js";
import { StatusPill } from "./status.js";
import { draftKey, load, save } from "./localstore.js";
import { toast, toastError } from "./toast.js";
import { exportConversation, saveBlob } from "./transfer.js";
import { parseRoute, showRoute, watchRoute } from "./route.js";
import { pickTransport } from "./transport/pick.js";
import { copyText, debounce, flashCopied } from "./util.js";

// The page's token may first have to be traded for a launch code (see session.js).
const transport = await pickTransport();
const api = createApi(transport);
const router = new FrameRouter();
const NARROW = window.matchMedia("(max-width: 760px)"); // matches the CSS breakpoint
// replaceRoute: the next chat shown takes the place of the address's history entry.
const ui = { everOpened: false, hasConversations: true, conversations: [], replaceRoute: false };
// Every app event group this UI follows; the socket subscribes once per connection.
const EVENTS = ["conversations", "models", "settings", "remote", "endpoints"];

let resolveSocket;
const socketOpened = new Promise((resolve) => {
  resolveSocket = resolve;
});

configureImages(api);
const composer = new Composer(
  {
    onSend: (text, images) => chat.send(text, images),
    onStop: () => chat.stop(),
    onEditLast: () => chat.branches.editLast(),
  },
  api,
);
bindImageDrop(document.getElementById("chat"), (files) => composer.attachDropped(files));

const models = new Models({
  api,
  onChange: (availability) => {
    if (!chat.currentId) pill.use(models.currentEndpoint()); // the new chat's pick
    updateView();
    panels.modelsChanged();
    retryModelsWhileConnected(availability);
  },
  onPick: (name, endpointId) => {
    if (chat.currentId && name) {
      api
        .updateConversation(chat.currentId, { model: name, endpoint_id: endpointId })
        .catch((err) => toastError("Couldn't change the model", err));
    }
    pill.use(endpointId);
    updateView();
  },
});

const pill = new StatusPill({ onReconnect: reconnect });

const sidebar = new Sidebar({
  api,
  router,
  onSelect: (id) => openConversation(id),
  onDeleted: (id) => {
    save(draftKey(id), null);
    if (chat.currentId === id) openConversation(null);
  },
  onLoaded: (list) => {
    ui.conversations = list;
    ui.hasConversations = list.length > 0;
    showTitle();
    updateView();
    searchAgain();
  },
  onExport: (id, format) => exportConversation(api, id, format),
});

const search = new Search({ api, onOpen: (result) => openResult(result), onClear: clearHit });
const searchAgain = debounce(() => search.refresh(), 300);

const chat = new Chat({
  api,
  router,
  getModel: () => models.current(),
  getEndpoint: () => models.currentEndpoint(),
  writerLabel: (model, endpointId) => models.writerLabel(model, endpointId),
  chooseModel: (anchor, onPick, current) => chooseModel(anchor, onPick, current),
  onModelUsed: (model, endpointId) => {
    models.show(model, endpointId, { strict: true });
    updateView();
  },
  onOpened: (conversation) => {
    const id = conversation ? conversation.id : null;
    clearHit(); // a search hit's marks belong to the messages they were drawn on
    save("conversation", id);
    showRoute(id, { replace: ui.replaceRoute });
    sidebar.setActive(id);
    search.setOpen(id);
    composer.switchTo(id);
    // A conversation keeps its model: when that is gone the picker says so (never swaps).
    if (conversation) models.show(conversation.model, conversation.endpoint_id, { strict: true });
    else models.show(load("model", ""), load("endpoint", "ollama"));
    // A conversation whose server is down keeps its endpoint even though the picker
    // cannot show its model: the pill tells about that server.
    pill.use(conversation ? conversation.endpoint_id : models.currentEndpoint());
    showTitle(conversation);
    updateView();
  },
  onCreated: (id, adopt) => {
    if (adopt) {
      models.hold();
      save("conversation", id);
      showRoute(id, { replace: true }); // the new-chat screen became this chat
      sidebar.setActive(id);
      search.setOpen(id);
      composer.adopt(id);
    }
    sidebar.refresh();
  },
  onChanged: () => updateView(),
  onReplyDone: () => sidebar.refresh(),
  onBusy: () => composer.setBusy(Boolean(chat.activeStream())),
  onRestore: (text, images) => composer.restore(text, images),
  onListClick: (event) => onListClick(event),
});

const panels = new Panels({
  api,
  router,
  models,
  status: () => pill.status,
  onImported: () => sidebar.refresh(),
});

router.on("status", onStatus);
router.on("endpoint.status", (frame) => pill.setEndpointStatus(frame.endpoint_id, frame));
router.on("endpoint.changed", () => readEndpoints());
router.on("remote.changed", (frame) => pill.setRemote(frame.state));
transport.onFrame((frame) => router.route(frame));
transport.onState(({ open }) => (open ? onOpen() : onClose()));

function onOpen() {
  // One subscription per connection, for every module: the router hands the frames out.
  transport.send({ type: "subscribe", events: EVENTS });
  // Read after subscribing, so no change falls between; a paired phone may not read it (403).
  api
    .remote()
    .then((remote) => pill.setRemote(remote.state))
    .catch(() => pill.setRemote("off"));
  document.body.dataset.ws = "open";
  pill.setSocketOpen(true);
  if (ui.everOpened) {
    // Back after a drop: whatever happened meanwhile is in the store.
    chat.resync();
    sidebar.refresh();
    models.refresh();
    readEndpoints();
  }
  ui.everOpened = true;
  resolveSocket();
  updateView();
}

function onClose() {
  document.body.dataset.ws = "closed";
  pill.setSocketOpen(false);
  panels.socketClosed();
  updateView();
}

// A model list that failed while the app says its server is connected was a hiccup (a
// tunnel still handshaking, a slow answer): no status change will come to fetch it again,
// so it is asked again, less often each time, until it answers.
const modelsRetry = { timer: null, delay: 2000 };
function retryModelsWhileConnected(availability) {
  if (!["down", "error"].includes(availability)) {
    modelsRetry.delay = 2000;
    return;
  }
  if (modelsRetry.timer || !pill.status || pill.status.state !== "connected") return;
  modelsRetry.timer = setTimeout(() => {
    modelsRetry.timer = null;
    models.refresh();
  }, modelsRetry.delay);
  modelsRetry.delay = Math.min(modelsRetry.delay * 2, 30_000);
}

function onStatus(frame) {
  const before = pill.status || {};
  pill.setStatus(frame);
  const moved = before.endpoint !== frame.endpoint; // a new Ollama address was applied
  const back = before.state !== "connected" || moved || models.availability !== "ready";
  if (frame.state === "connected" && back) models.refresh();
  else if (["disconnected", "error", "reconnecting"].includes(frame.state)) models.markDown();
  panels.statusChanged();
  updateView();
}

/** The endpoints and their states, for the pill (at start, after a drop, on changes). */
function readEndpoints() {
  return api
    .endpoints()
    .then((body) => pill.setEndpoints(body.endpoints))
    .catch(() => {}); // the pill keeps what it knew; Ollama's own frames still reach it
}

/** Reconnect the endpoint in use (the pill's click), or the app itself when it is away. */
function reconnect(endpointId = "ollama") {
  if (!transport.isOpen()) {
    transport.retryNow();
    return;
  }
  pill.showConnecting();
  if (endpointId === "ollama") {
    api.reconnect().catch((err) => toastError("Couldn't reconnect", err));
    return;
  }
  api
    .connectEndpoint(endpointId)
    .then((fresh) => pill.setEndpointStatus(fresh.id, fresh.status))
    .catch((err) => toastError("Couldn't reconnect", err));
}

/** `focus`: the composer's; false: the composer's on a phone only; null: the caller's. */
async function openConversation(id, { focus = true, replace = false } = {}) {
  ui.replaceRoute = replace;
  const ok = await chat.open(id);
  ui.replaceRoute = true; // a chat that was not found leaves no entry in the history
  if (!ok) await chat.open(null);
  ui.replaceRoute = false;
  if (focus || (focus === false && NARROW.matches)) composer.focus();
  closeSidebarOnNarrow();
}

/** A search result: open its conversation and take the reader to the match (focus too). */
async function openResult({ id, message_id: messageId, query }) {
  if (chat.currentId !== id) await openConversation(id, { focus: null });
  else closeSidebarOnNarrow();
  if (chat.currentId !== id) return;
  const shown =
    messageId &&
    (await revealMessage(messageId, query, {
      scroller: chat.scroll.scroller,
      drawAll: () => chat.drawer.drawAll(), // a hit among older messages not drawn yet
      showBranch: async () => {
        await api.activateMessage(messageId); // the hit is on another version: show that one
        await chat.open(chat.currentId);
      },
      onReveal: () => chat.scroll.release(),
    }));
  if (!shown) composer.focus(); // a title match: the conversation itself is the match
}

function showTitle(conversation) {
  const id = chat.currentId;
  const known = ui.conversations.find((c) => c.id === id);
  const title = (conversation && conversation.title) || (known && known.title) || "New chat";
  const header = document.getElementById("chat-title");
  header.textContent = id ? title : "New chat";
  header.title = header.textContent;
  document.title = id ? `${header.textContent} — CloudToLocalLLM` : "CloudToLocalLLM";
}

/** A menu of every available model (grouped by endpoint) under `anchor`; `current`
 * ({model, endpoint}) is marked. */
function chooseModel(anchor, onPick, current = null) {
  if (models.availability !== "ready" || !models.models.length) {
    toast("No models are available right now.");
    return;
  }
  showMenu(anchor, models.menuItems(current, onPick), {
    testid: "model-menu",
    label: "Choose a model",
  });
}

function placeholder(modelName) {
  if (!transport.isOpen()) return "Reconnecting to the app…";
  if (models.missing) return `${models.missing.model} isn't available — pick another model`;
  if (models.availability === "down") return "Start Ollama to chat…";
  if (models.availability === "empty") return "Pull a model to start chatting…";
  return modelName ? `Message ${modelName}…` : "Message your local model…";
}

function updateView() {
  const modelName = models.current();
  composer.setCanSend(transport.isOpen() && Boolean(modelName), placeholder(modelName));
  renderEmptyState({
    availability: models.availability,
    endpoint: pill.status ? pill.status.endpoint : "",
    errorMessage: models.errorMessage,
    hasMessages: chat.hasMessages(),
    firstTime: !ui.hasConversations,
    missingModel: chat.currentId && models.missing ? models.missing.model : null,
    onChooseModel: (anchor) => chooseModel(anchor, (c) => models.pick(c.model, c.endpoint)),
    onRetry: () => {
      reconnect();
      models.refresh();
    },
    onSuggestion: (text) => composer.setText(text),
    onSettings: () => panels.settings.open({ focusUrl: true }),
    onModels: () => panels.manager.open({ focusPull: true }),
    onPullDefault: () => panels.pullDefault(),
    otherServer: () => otherServerSetup({ api, onAdded: useAddedServer }),
  });
}

/** A server added from the first-run screen: a new chat with its first model picked. */
async function useAddedServer(endpoint) {
  await Promise.all([models.refresh(), readEndpoints()]);
  models.pickFrom(endpoint.id);
  await openConversation(null);
}

/** Clicks in the message list the chat does not take: code tools, message Copy. */
async function onListClick(event) {
  const toggle = event.target.closest("button.code-wrap, button.code-lines");
  if (toggle) {
    const name = toggle.classList.contains("code-wrap") ? "wrapped" : "numbered";
    const on = toggle.closest(".code-block").classList.toggle(name);
    toggle.setAttribute("aria-pressed", String(on));
    return;
  }
  const download = event.target.closest("button.code-download");
  if (download) {
    const text = download.closest(".code-block").querySelector("pre code").textContent;
    saveBlob(new Blob([text], { type: "text/plain" }), download.dataset.filename);
    return;
  }
  const button = event.target.closest("button.code-copy, button.msg-action");
  if (!button) return;
  let text = "";
  if (button.classList.contains("code-copy")) {
    text = button.closest(".code-block").querySelector("pre code").textContent;
  } else {
    text = rawTextOf(button.closest("article.message"));
  }
  if (await copyText(text)) flashCopied(button);
}

function closeSidebarOnNarrow() {
  if (NARROW.matches) setSidebar(false);
}

function setSidebar(open) {
  document.getElementById("app").classList.toggle("sidebar-closed", !open);
  document.getElementById("toggle-sidebar").setAttribute("aria-expanded", String(open));
}

function bindKeys() {
  document.getElementById("new-chat").addEventListener("click", () => openConversation(null));
  document.getElementById("skip-link").addEventListener("click", (e) => {
    e.preventDefault(); // focus, without a #fragment in the address
    composer.focus();
  });
  document.getElementById("backdrop").addEventListener("click", () => setSidebar(false));
  // Growing back to a wide window restores the user's choice; shrinking hides the overlay.
  // A new layout, not a toggle: no slide. Sliding from the drawer's closed column, the
  // sidebar showed squeezed to a sliver beside a full-width chat (for as long as the window
  // did not paint: a hidden or minimised one kept it so).
  NARROW.addEventListener("change", () => {
    const app = document.getElementById("app");
    app.classList.add("no-slide");
    setSidebar(!NARROW.matches && !load("sidebarClosed", false));
    app.getBoundingClientRect(); // the new columns are computed now, without a transition
    app.classList.remove("no-slide");
  });
  document.getElementById("toggle-sidebar").addEventListener("click", () => {
    const open = document.getElementById("app").classList.contains("sidebar-closed");
    setSidebar(open);
    if (!NARROW.matches) save("sidebarClosed", !open);
  });
  bindShortcuts({
    newChat: () => openConversation(null),
    search: () => {
      setSidebar(true);
      search.focus();
    },
    settings: () => panels.settings.open(),
    escape: (e) => {
      if (chat.activeStream() && !e.target.closest(".sidebar")) {
        chat.stop();
        return true;
      }
      if (NARROW.matches) setSidebar(false);
      return false;
    },
  });
}

async function start() {
  bindKeys();
  setSidebar(!NARROW.matches && !load("sidebarClosed", false));
  transport.connect();
  const status = api
    .status()
    .then((s) => pill.setStatus(s))
    .catch(() => {});
  const prefs = api
    .settings()
    .then((s) => panels.settings.update(s))
    .catch(() => {}); // the copy kept in localStorage stays applied
  await Promise.all([sidebar.refresh(), models.refresh(), status, prefs, readEndpoints()]);
  await openFirst();
  watchRoute(({ id }) => id !== chat.currentId && openConversation(id, { replace: true }));
  composer.focus();
  await socketOpened;
  document.body.dataset.ready = "true";
}

/** The chat the address names (see route.js), else the one open last time, else a new one. */
async function openFirst() {
  ui.replaceRoute = true;
  const route = parseRoute(location.hash);
  if (route) {
    if (!(await chat.open(route.id))) await chat.open(null);
  } else {
    // Only reopen a conversation that still exists (it may have been deleted elsewhere).
    const remembered = load("conversation", null);
    const exists = ui.conversations.some((c) => c.id === remembered);
    if (!exists || !(await chat.open(remembered))) await chat.open(null);
  }
  ui.replaceRoute = false;
}

const ready = start();
// Hooks for tests and the desktop shell (the tray's "New chat" calls newChat()).
window.__app = {
  ready,
  socketOpen: () => transport.isOpen(),
  newChat: () => openConversation(null),
  openConversation: (id) => openConversation(id),
  openSettings: () => panels.settings.open(),
  openModels: () => panels.manager.open(),
  ollamaStatus: () => pill.status, // the last `status` frame (Ollama's connection)
};
