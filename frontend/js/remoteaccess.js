// Settings, Remote access: the relay address and the link's state, a QR code and link to pair
// a phone, and the paired devices with Approve (after comparing the short code) and Remove.
// The device list is read every couple of seconds while the section is on screen.
import { el } from "./util.js";
import { toastError } from "./toast.js";

const POLL_MS = 2000;
const STATES = {
  off: "Off",
  connecting: "Connecting to the relay…",
  online: "Online: paired devices can reach this computer",
  offline: "The relay is not reachable — retrying",
};

function remoteForm(f) {
  f.relay = el("input", {
    id: "settings-relay-url",
    type: "url",
    class: "field-input",
    "data-testid": "remote-relay-url",
    autocomplete: "off",
    spellcheck: "false",
    placeholder: "https://relay.example.org",
  });
  f.relayForm = el(
    "form",
    { class: "field" },
    el("label", { class: "field-label", for: "settings-relay-url", text: "Relay address" }),
    el(
      "div",
      { class: "field-row" },
      f.relay,
      el("button", { type: "submit", class: "btn", "data-testid": "remote-apply" }, "Apply"),
    ),
    (f.state = el("p", {
      class: "field-hint",
      "data-testid": "remote-state",
      "aria-live": "polite",
    })),
  );
  f.pair = el(
    "button",
    { type: "button", class: "btn", "data-testid": "remote-pair" },
    "Pair a phone",
  );
  f.offer = el("div", { class: "remote-offer", "data-testid": "remote-offer", hidden: true });
  f.devices = el("ul", { class: "remote-devices", "data-testid": "remote-devices" });
  return el(
    "section",
    { class: "settings-section" },
    el("h3", { text: "Remote access" }),
    f.relayForm,
    f.pair,
    f.offer,
    f.devices,
  );
}

export class RemoteAccessSection {
  /** @param {{api, isOpen: () => boolean}} o */
  constructor({ api, isOpen }) {
    Object.assign(this, { api, isOpen });
    this.f = {};
    this.root = remoteForm(this.f);
    this.timer = null;
    this.f.relayForm.addEventListener("submit", (e) => {
      e.preventDefault();
      this.saveRelay(this.f.relay.value.trim() || null);
    });
    this.f.pair.addEventListener("click", () => this.pair());
  }

  /** Read afresh, and keep reading while the dialog stays open. */
  async refresh() {
    clearTimeout(this.timer);
    if (!this.isOpen()) return;
    try {
      const [status, { devices }] = await Promise.all([
        this.api.remote(),
        this.api.remoteDevices(),
      ]);
      this.renderStatus(status);
      this.renderDevices(devices);
    } catch (err) {
      this.f.state.textContent = `Couldn't read remote access: ${err.message}`;
    }
    this.timer = setTimeout(() => this.refresh(), POLL_MS);
  }

  renderStatus(status) {
    if (document.activeElement !== this.f.relay) this.f.relay.value = status.relay_url || "";
    this.f.state.textContent = STATES[status.state] || status.state;
    this.f.state.dataset.state = status.state;
    this.f.pair.disabled = !status.relay_url;
  }

  renderDevices(devices) {
    this.f.devices.replaceChildren(...devices.map((device) => this.deviceRow(device)));
    // A device that answered the offer used it up: the QR code is stale.
    if (devices.some((d) => d.state === "pending")) this.f.offer.hidden = true;
  }

  deviceRow(device) {
    const pending = device.state === "pending";
    const when = device.last_seen && new Date(device.last_seen).toLocaleString();
    const seen = when ? ` · last seen ${when}` : "";
    const detail = pending
      ? `Wants access. Approve only if your phone shows the code ${device.short_code}.`
      : `Paired${seen}`;
    return el(
      "li",
      { class: "remote-device", "data-testid": "remote-device", "data-state": device.state },
      el("strong", { text: device.name }),
      el("span", { class: "field-hint", text: detail }),
      pending
        ? el(
            "button",
            { type: "button", class: "btn", onclick: () => this.approve(device) },
            "Approve",
          )
        : null,
      el(
        "button",
        { type: "button", class: "btn btn-quiet", onclick: () => this.revoke(device) },
        pending ? "Refuse" : "Remove",
      ),
    );
  }

  async saveRelay(relayUrl) {
    try {
      this.renderStatus(await this.api.setRelay(relayUrl));
    } catch (err) {
      toastError("Couldn't set the relay", err);
    }
  }

  async pair() {
    try {
      const offer = await this.api.pairDevice();
      const expires = new Date(offer.expires_at).toLocaleTimeString();
      this.f.offer.replaceChildren(
        el("img", { src: offer.qr_svg, alt: "QR code to pair a phone", class: "remote-qr" }),
        el("p", {
          class: "field-hint",
          text: `Scan it with your phone's camera, or open this link on the phone (valid once, until ${expires}):`,
        }),
        el("input", {
          class: "field-input",
          readonly: true,
          value: offer.pair_url,
          "data-testid": "remote-pair-url",
        }),
      );
      this.f.offer.hidden = false;
    } catch (err) {
      toastError("Couldn't start pairing", err);
    }
  }

  approve(device) {
    return this.changeDevice(() => this.api.approveDevice(device.id), "approve");
  }

  revoke(device) {
    return this.changeDevice(() => this.api.revokeDevice(device.id), "remove");
  }

  /** One change to a device; a failure is said, and the list shows what is true now. */
  async changeDevice(call, verb) {
    try {
      await call();
    } catch (err) {
      toastError(`Couldn't ${verb} the device`, err);
    }
    this.refresh();
  }
}
