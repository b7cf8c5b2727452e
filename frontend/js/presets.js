// The usual model servers and which of them run here (GET /api/endpoints/presets probes five
// loopback ports). Asked once per page and shared by Settings and the first-run screen;
// Settings' "Look again" asks afresh.

let asked = null; // the answer's promise, or null before the first ask (or after a failure)

/** The presets, probed once per page unless `fresh`. */
export function endpointPresets(api, { fresh = false } = {}) {
  if (fresh || !asked) {
    asked = api.endpointPresets().then(
      (body) => body.presets,
      (err) => {
        asked = null; // a failed ask is not kept: the next one tries again
        throw err;
      },
    );
  }
  return asked;
}
