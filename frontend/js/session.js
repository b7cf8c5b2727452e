// Where the page learns its per-launch token: the one place that reads it, so a different way
// of handing it over (a one-time code exchanged for a session) changes only this module.

/** The token the app put in the page's address (?token=); "" when there is none. */
export function pageToken() {
  // The token stays in the address bar on purpose: a reload must keep working.
  return new URLSearchParams(location.search).get("token") || "";
}
