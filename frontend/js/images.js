// Images of user messages: thumbnails that load under the token (fetch → blob URL, so the
// CSP needs only `img-src blob:`), and a larger view that Escape closes.
import { icon } from "./icons.js";
import { el } from "./util.js";

const urls = new Map(); // image id -> Promise of its blob URL (an image never changes)
let source = null;

/** The API the images are fetched with (main.js calls this once). */
export function configureImages(api) {
  source = api;
}

/** Whether this transport carries image bytes (the phone's tunnel carries JSON only). */
export function imagesSupported() {
  return Boolean(source && source.transport.carriesFiles);
}

/** A blob URL of the stored image (fetched once per page). */
export function imageUrl(id) {
  if (!urls.has(id)) {
    const loading = source.image(id).then(({ blob }) => URL.createObjectURL(blob));
    loading.catch(() => urls.delete(id)); // a later render may try again
    urls.set(id, loading);
  }
  return urls.get(id);
}

/** Remember a blob URL made from a file just uploaded: no fetch to show it again. */
export function knownImage(id, url) {
  urls.set(id, Promise.resolve(url));
}

function label(index, count) {
  return count > 1 ? `Attached image ${index + 1} of ${count}` : "Attached image";
}

/** The thumbnails of a sent message; each opens the larger view. */
export function imageStrip(images) {
  const strip = el("div", { class: "msg-images", "data-testid": "message-images" });
  images.forEach((image, index) => {
    const name = label(index, images.length);
    const shown = imagesSupported();
    const img = el("img", { alt: name, class: "msg-image", decoding: "async" });
    const button = el(
      "button",
      {
        type: "button",
        class: "msg-image-btn",
        "data-testid": "message-image",
        "aria-label": shown ? `${name}: view larger` : `${name}: shown on the desktop`,
        onclick: () => openViewer(img.src, name),
      },
      img,
    );
    if (!shown) {
      button.disabled = true;
      button.append(el("span", { class: "msg-image-away", text: "Image: shown on the desktop" }));
    } else {
      imageUrl(image.id).then(
        (url) => {
          img.src = url;
        },
        () => button.classList.add("failed"),
      );
    }
    strip.append(button);
  });
  return strip;
}

let viewer = null;

function ensureViewer() {
  if (viewer) return viewer;
  const img = el("img", { class: "image-viewer-img", alt: "" });
  const close = el(
    "button",
    { type: "button", class: "icon-btn image-viewer-close", "aria-label": "Close" },
    icon("close"),
  );
  viewer = el(
    "dialog",
    { class: "image-viewer", "data-testid": "image-viewer", "aria-label": "Image" },
    close,
    img,
  );
  close.addEventListener("click", () => viewer.close());
  // A click beside the image (on the backdrop) closes it, as Escape does (the dialog's own).
  viewer.addEventListener("click", (event) => {
    if (event.target === viewer) viewer.close();
  });
  document.body.append(viewer);
  return viewer;
}

/** Show an image large, in a modal dialog; Escape, the close button or a click beside it closes. */
export function openViewer(url, name) {
  if (!url) return;
  const dialog = ensureViewer();
  const img = dialog.querySelector("img");
  img.src = url;
  img.alt = name;
  dialog.setAttribute("aria-label", name);
  dialog.showModal();
}

/** Files dragged over `pane` are offered as attachments; `onFiles(files)` on a drop. */
export function bindImageDrop(pane, onFiles) {
  const carriesFiles = (event) => [...(event.dataTransfer?.types || [])].includes("Files");
  let depth = 0; // enter/leave fire for every child crossed: count them
  pane.addEventListener("dragenter", (event) => {
    if (!carriesFiles(event)) return;
    depth += 1;
    pane.classList.add("dropping");
  });
  pane.addEventListener("dragleave", () => {
    depth = Math.max(0, depth - 1);
    if (!depth) pane.classList.remove("dropping");
  });
  pane.addEventListener("dragover", (event) => {
    if (!carriesFiles(event)) return;
    event.preventDefault(); // without it the browser opens the file instead
    event.dataTransfer.dropEffect = "copy";
  });
  pane.addEventListener("drop", (event) => {
    if (!carriesFiles(event)) return;
    event.preventDefault();
    depth = 0;
    pane.classList.remove("dropping");
    onFiles(event.dataTransfer.files);
  });
}
