// REST calls of the message features (branches, delete, a chat created with its settings).
// They sit beside api.js, with the same token and error shape, so the two can be merged.
import { ApiError } from "./api.js";

const token = new URLSearchParams(location.search).get("token") || "";
const enc = encodeURIComponent;

async function call(method, path, body) {
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
  let answer = null;
  try {
    answer = await response.json();
  } catch {
    // 204, or not JSON (a proxy or a crash page): handled below.
  }
  if (response.ok) return answer;
  const error = answer && answer.error;
  if (error) throw new ApiError(response.status, error.code, error.message);
  throw new ApiError(response.status, "http_error", `Request failed (${response.status})`);
}

export const messageApi = {
  /** Show the branch through a message; the conversation with its new path. */
  activate: (id) => call("POST", `api/messages/${enc(id)}/activate`),
  /** Delete a message and everything below it; the conversation with its new path. */
  remove: (id) => call("DELETE", `api/messages/${enc(id)}`),
  /** A new, empty conversation with its settings (a system prompt before the first message). */
  createConversation: (fields) => call("POST", "api/conversations", fields),
  updateConversation: (id, fields) => call("PATCH", `api/conversations/${enc(id)}`, fields),
};
