// The one place the UI chooses how it reaches the app, at start-up. Today that is always the
// app on this machine (fetch + /ws with the page's token); a page served through the
// remote-access tunnel adds its transport here, and no widget changes.
import { sessionToken } from "../session.js";
import { LocalTransport } from "./local.js";

/** The transport this page talks through (see transport/local.js for the interface). */
export async function pickTransport() {
  return new LocalTransport(await sessionToken());
}
