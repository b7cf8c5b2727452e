// The app-level panels wired together: model pulls, the Models and Settings dialogs, and the
// sidebar footer that opens them. They follow their frames through the router.
import { MOD_KEY } from "./format.js";
import { ModelsManager } from "./modelsmanager.js";
import { Pulls } from "./pulls.js";
import { SettingsDialog } from "./settingsdialog.js";
import { toast } from "./toast.js";

export class Panels {
  /**
   * @param {{api, router: FrameRouter, models, status: () => object|null,
   *          onImported: () => void}} o  `status`: the last STATUS frame (the pill's)
   */
  constructor({ api, router, models, status, onImported }) {
    this.models = models;
    this.badge = document.getElementById("models-badge");
    this.pulls = new Pulls({
      api,
      router,
      onChange: (pull) => {
        this.manager.renderPull(pull);
        this.showBadge();
      },
      onFinished: (pull, outcome) => this.pullFinished(pull, outcome),
    });
    this.manager = new ModelsManager({
      api,
      models,
      pulls: this.pulls,
      endpoint: () => (status() ? status().endpoint : ""),
      onDeleted: () => models.refresh(),
    });
    this.settings = new SettingsDialog({ api, models, status, onImported });
    document.getElementById("open-models").addEventListener("click", () => this.manager.open());
    const settingsButton = document.getElementById("open-settings");
    settingsButton.title = `Settings (${MOD_KEY}+,)`;
    settingsButton.addEventListener("click", () => this.settings.open());
    router.on("models.changed", () => models.refresh());
    // An endpoint added, changed or come and gone: its models join or leave the picker.
    router.on("endpoint.", () => {
      models.refresh();
      if (this.settings.dialog.isOpen) this.settings.endpoints.refresh();
    });
    router.on("settings.changed", (frame) => this.settings.changedElsewhere(frame.settings));
  }

  /** The model list changed (or Ollama came or went). */
  modelsChanged() {
    this.manager.render();
    this.settings.modelsChanged();
  }

  statusChanged() {
    this.settings.renderConnection();
    if (this.manager.dialog.isOpen) this.manager.render();
  }

  socketClosed() {
    this.pulls.socketClosed();
  }

  /** The empty state's one click: pull llama3.2 and show it downloading. */
  pullDefault() {
    this.manager.startPull("llama3.2");
    this.manager.open();
  }

  pullFinished(pull, outcome) {
    if (outcome === "done") {
      toast(`${pull.name} is ready to chat`, { kind: "info" });
      this.models.refresh();
    } else if (outcome === "cancelled") {
      toast(`Stopped pulling ${pull.name}. Pulling it again resumes the download.`, {
        kind: "info",
      });
    } else if (!this.manager.dialog.isOpen) {
      toast(`Couldn't pull ${pull.name}: ${pull.error}`);
    }
  }

  // The footer's Models button shows how far the downloads are, the dialog open or not.
  showBadge() {
    const running = this.pulls.running();
    this.badge.hidden = running.length === 0;
    const known = running.filter((p) => typeof p.percent === "number");
    const percent = known.length ? Math.floor(Math.min(...known.map((p) => p.percent))) : null;
    this.badge.textContent = percent === null ? "…" : `${percent}%`;
    this.badge.title = running.map((p) => `Pulling ${p.name}`).join(", ");
  }
}
