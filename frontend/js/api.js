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

/** The file name in a Content-Disposition header (RFC 6266: filename* wins), or "". */
export function dispositionName(header) {
  if (!header) return "";
  const star = /filename\*\s*=\s*UTF-8''([^;]+)/i.exec(header);
  if (star) {
    try {
      return decodeURIComponent(star[1].trim());
    } catch {
      // A malformed escape: use the plain filename instead.
    }
  }
  const plain = /filename\s*=\s*"([^"]*)"|filename\s*=\s*([^;]+)/i.exec(header);
  return plain ? (plain[1] || plain[2] || "").trim() : "";
}

const enc = encodeURIComponent;

export function createApi(token) {
  /** fetch with the token; throws ApiError for a network failure or a non-2xx answer. */
  async function send(method, path, { json, raw } = {}) {
    const headers = { Accept: "application/json" };
    if (token) headers.Authorization = `Bearer ${token}`;
    const init = { method, headers, cache: "no-store" };
    if (json !== undefined) {
      headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(json);
    } else if (raw !== undefined) {
      headers["Content-Type"] = "application/json";
      init.body = raw;
    }
    let response;
    try {
      response = await fetch(path, init);
    } catch {
      throw new ApiError(0, "network_error", "Can't reach the app's backend.");
    }
    if (!response.ok) throw await errorFrom(response);
    return response;
  }

  async function request(method, path, json) {
    const response = await send(method, path, { json });
    if (response.status === 204 || response.status === 202) return null;
    const type = response.headers.get("Content-Type") || "";
    return type.includes("json") ? response.json() : null;
  }

  /** A download through the API (the token can't ride on a plain link): {blob, filename}. */
  async function download(path) {
    const response = await send("GET", path);
    const filename = dispositionName(response.headers.get("Content-Disposition"));
    return { blob: await response.blob(), filename };
  }

  return {
    health: () => request("GET", "api/health"),
    status: () => request("GET", "api/status"),
    reconnect: () => request("POST", "api/connection/reconnect"),
    models: () => request("GET", "api/models"),
    deleteModel: (name) => request("DELETE", `api/models/${enc(name)}`),
    conversations: (q) => request("GET", q ? `api/conversations?q=${enc(q)}` : "api/conversations"),
    conversation: (id) => request("GET", `api/conversations/${enc(id)}`),
    updateConversation: (id, fields) => request("PATCH", `api/conversations/${enc(id)}`, fields),
    deleteConversation: (id) => request("DELETE", `api/conversations/${enc(id)}`),
    activateMessage: (id) => request("POST", `api/messages/${enc(id)}/activate`),
    settings: () => request("GET", "api/settings"),
    updateSettings: (fields) => request("PATCH", "api/settings", fields),
    exportConversation: (id, format) =>
      download(`api/conversations/${enc(id)}/export?format=${enc(format)}`),
    exportAll: (format) => download(`api/export?format=${enc(format)}`),
    /** POST an export file (a File, Blob or string) as it is: the backend validates it. */
    importFile: async (file) => (await send("POST", "api/import", { raw: file })).json(),
  };
}
