// REST client: every call carries the per-launch token as a Bearer header.

export class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

async function errorFrom(response) {
  try {
    const body = await response.json();
    if (body && body.error) {
      return new ApiError(response.status, body.error.code, body.error.message);
    }
  } catch {
    // Not JSON (a proxy or a crash page): fall through to a generic message.
  }
  return new ApiError(response.status, "http_error", `Request failed (${response.status})`);
}

export function createApi(token) {
  async function request(method, path, body) {
    const headers = { Accept: "application/json" };
    if (token) headers.Authorization = `Bearer ${token}`;
    const init = { method, headers, cache: "no-store" };
    if (body !== undefined) {
      headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(body);
    }
    let response;
    try {
      response = await fetch(path, init);
    } catch {
      throw new ApiError(0, "network_error", "Can't reach the app's backend.");
    }
    if (!response.ok) throw await errorFrom(response);
    if (response.status === 204 || response.status === 202) return null;
    const type = response.headers.get("Content-Type") || "";
    return type.includes("json") ? response.json() : null;
  }

  return {
    health: () => request("GET", "api/health"),
    status: () => request("GET", "api/status"),
    reconnect: () => request("POST", "api/connection/reconnect"),
    models: () => request("GET", "api/models"),
    conversations: (q) =>
      request("GET", q ? `api/conversations?q=${encodeURIComponent(q)}` : "api/conversations"),
    conversation: (id) => request("GET", `api/conversations/${encodeURIComponent(id)}`),
    updateConversation: (id, fields) =>
      request("PATCH", `api/conversations/${encodeURIComponent(id)}`, fields),
    deleteConversation: (id) => request("DELETE", `api/conversations/${encodeURIComponent(id)}`),
  };
}
