// The one place the UI chooses how it reaches the app, at start-up: the app on this machine
// (fetch + /ws with the page's token), or, on a page the remote-access relay serves under
// RELAYED_PREFIX (see the relay's http.py), the encrypted tunnel to the desktop. No widget
// changes either way.
import { sessionToken } from "../session.js";
import { LocalTransport } from "./local.js";

const RELAYED_PREFIX = "/app/"; // the desktop serves its UI at "/", never under this

/** The transport this page talks through (see transport/local.js for the interface). */
export async function pickTransport() {
  if (location.pathname.startsWith(RELAYED_PREFIX)) {
    const { TunnelTransport } = await import("./tunnel.js");
    return new TunnelTransport();
  }
  return new LocalTransport(await sessionToken());
}
