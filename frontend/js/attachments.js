// The images attached in the composer: added by the attach button, a paste or a drop,
// uploaded at once (REST, under the token), shown as removable thumbnails, and named by id
// in the message that is sent. Limits are checked here for a quick, clear word, and again
// by the backend, which also tells an image by its bytes, never by its name.
import { imagesSupported, imageUrl, knownImage, openViewer } from "./images.js";
import { icon } from "./icons.js";
import { toast } from "./toast.js";
import { el } from "./util.js";

export const MAX_IMAGES = 4;
export const MAX_IMAGE_BYTES = 10 * 1024 * 1024;
const TYPES = new Set(["image/png", "image/jpeg", "image/webp", "image/gif"]);

export class Attachments {
  /** @param {{api: object, host: HTMLElement, onChange: () => void}} options */
  constructor({ api, host, onChange }) {
    this.api = api;
    this.host = host;
    this.onChange = onChange;
    this.items = []; // {key, name, url, id|null (uploading), failed}
    this.nextKey = 1;
  }

  /** Attach files (a drop, a paste, the file picker); what can't be taken is said in words. */
  add(files) {
    const images = [...files].filter((file) => file.type.startsWith("image/") || !file.type);
    if (!images.length) {
      if (files.length) toast("Only images can be attached: PNG, JPEG, WebP or GIF.");
      return;
    }
    if (!imagesSupported()) {
      toast("Images can't be sent from a paired phone: attach them on the desktop.");
      return;
    }
    for (const file of images) {
      const problem = this.refusal(file);
      if (problem) {
        toast(problem);
        continue;
      }
      this.upload(file);
    }
    this.render();
  }

  refusal(file) {
    const name = file.name || "The pasted image";
    if (this.items.length >= MAX_IMAGES) return `A message can carry at most ${MAX_IMAGES} images.`;
    if (file.type && !TYPES.has(file.type)) {
      return `${name} can't be attached: only PNG, JPEG, WebP and GIF images can.`;
    }
    if (file.size > MAX_IMAGE_BYTES) return `${name} is larger than 10 MiB, the most an image may be.`;
    return null;
  }

  upload(file) {
    const item = {
      key: this.nextKey++,
      name: file.name || "pasted image",
      url: URL.createObjectURL(file),
      id: null,
    };
    this.items.push(item);
    this.api.uploadImage(file).then(
      (image) => {
        if (!this.items.includes(item)) return; // removed while it uploaded
        item.id = image.id;
        knownImage(image.id, item.url);
        this.render();
      },
      (err) => {
        this.drop(item);
        toast(`${item.name} was not attached: ${err.message}`);
      },
    );
  }

  drop(item) {
    this.items = this.items.filter((other) => other !== item);
    this.render();
  }

  /** Every image uploaded (none still on its way). */
  ready() {
    return this.items.every((item) => item.id !== null);
  }

  count() {
    return this.items.length;
  }

  /** What a sent message carries: the ids, and what its bubble shows until it is stored. */
  taken() {
    return this.items.map(({ id, name }) => ({ id, name }));
  }

  clear() {
    this.items = [];
    this.render();
  }

  /** Put a refused message's images back (when nothing was attached since). */
  restore(images) {
    if (this.items.length || !images || !images.length) return;
    this.items = images.map(({ id, name }) => ({ key: this.nextKey++, id, name, url: null }));
    this.render();
  }

  render() {
    this.host.replaceChildren(
      ...this.items.map((item, index) => this.thumbnail(item, index, this.items.length)),
    );
    this.host.hidden = this.items.length === 0;
    this.onChange();
  }

  thumbnail(item, index, count) {
    const name = `Image ${index + 1} of ${count}: ${item.name}`;
    const img = el("img", { alt: name, class: "attach-img" });
    if (item.url) img.src = item.url;
    else if (item.id) imageUrl(item.id).then((url) => (img.src = url));
    const remove = el(
      "button",
      {
        type: "button",
        class: "attach-remove",
        "data-testid": "attachment-remove",
        "aria-label": `Remove image ${index + 1} (${item.name})`,
        title: "Remove",
        onclick: () => {
          this.drop(item);
          this.host.closest("form").querySelector("textarea").focus();
        },
      },
      icon("close"),
    );
    const view = el(
      "button",
      {
        type: "button",
        class: "attach-view",
        "aria-label": `${name}: view larger`,
        onclick: () => openViewer(img.src, name),
      },
      img,
    );
    return el(
      "li",
      {
        class: "attachment",
        "data-testid": "attachment",
        "data-state": item.id ? "ready" : "uploading",
        "aria-busy": item.id ? null : "true",
      },
      view,
      remove,
    );
  }
}
