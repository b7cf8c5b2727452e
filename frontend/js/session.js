// The per-launch token, from wherever this page got it: `?token=` (the app's own window),
// or `?code=` (a browser opened by --web), a single-use code traded for the token once and
// kept in sessionStorage so a reload of the tab keeps working. The code leaves the address
// bar at once: it is spent, and a bookmark of it would be useless.
const KEY = "cloudtolocalllm.token";

export async function sessionToken() {
  const params = new URLSearchParams(location.search);
  const given = params.get("token");
  if (given) return given;
  const code = params.get("code");
  if (code) {
    history.replaceState(null, "", location.pathname + location.hash);
    const token = await exchange(code);
    if (token) sessionStorage.setItem(KEY, token);
  }
  return sessionStorage.getItem(KEY) || "";
}

async function exchange(code) {
  try {
    const response = await fetch("/api/session/exchange", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ code }),
    });
    return response.ok ? (await response.json()).token : "";
  } catch {
    return ""; // the page then says it is missing its key, as it does without a token
  }
}
