// The app's one API client: every REST call and socket frame of the UI goes through it, over
// whichever transport main.js picked (transport/local.js describes the interface).
export { ApiError } from "./apierror.js";

const enc = encodeURIComponent;

/** The REST calls, named; `send`, `onFrame`, `onState` pass through to the transport. */
export function createApi(transport) {
  const call = (method, path, body) => transport.request(method, path, body);
  const download = (path) => transport.request("GET", path, undefined, { as: "file" });
  return {
    transport,
    send: (frame) => transport.send(frame),
    isOpen: () => transport.isOpen(),
    health: () => call("GET", "api/health"),
    status: () => call("GET", "api/status"),
    reconnect: () => call("POST", "api/connection/reconnect"),
    models: () => call("GET", "api/models"),
    endpoints: () => call("GET", "api/endpoints"),
    endpointPresets: () => call("GET", "api/endpoints/presets"),
    addEndpoint: (fields) => call("POST", "api/endpoints", fields),
    updateEndpoint: (id, fields) => call("PATCH", `api/endpoints/${enc(id)}`, fields),
    deleteEndpoint: (id) => call("DELETE", `api/endpoints/${enc(id)}`),
    /** Check an endpoint now (Settings' "Connect"); the endpoint with its fresh status. */
    connectEndpoint: (id) => call("POST", `api/endpoints/${enc(id)}/connect`),
    deleteModel: (name) => call("DELETE", `api/models/${enc(name)}`),
    conversations: (q) => call("GET", q ? `api/conversations?q=${enc(q)}` : "api/conversations"),
    conversation: (id) => call("GET", `api/conversations/${enc(id)}`),
    /** A new, empty conversation with its settings (a system prompt before the first message). */
    createConversation: (fields) => call("POST", "api/conversations", fields),
    updateConversation: (id, fields) => call("PATCH", `api/conversations/${enc(id)}`, fields),
    deleteConversation: (id) => call("DELETE", `api/conversations/${enc(id)}`),
    /** Show the branch through a message; the conversation with its new path. */
    activateMessage: (id) => call("POST", `api/messages/${enc(id)}/activate`),
    /** Delete a message and everything below it; the conversation with its new path. */
    deleteMessage: (id) => call("DELETE", `api/messages/${enc(id)}`),
    remote: () => call("GET", "api/remote"),
    setRelay: (relayUrl) => call("PATCH", "api/remote", { relay_url: relayUrl }),
    pairDevice: () => call("POST", "api/remote/pairings"),
    remoteDevices: () => call("GET", "api/remote/devices"),
    approveDevice: (id) => call("POST", `api/remote/devices/${enc(id)}/approve`),
    revokeDevice: (id) => call("DELETE", `api/remote/devices/${enc(id)}`),
    settings: () => call("GET", "api/settings"),
    updateSettings: (fields) => call("PATCH", "api/settings", fields),
    exportConversation: (id, format) =>
      download(`api/conversations/${enc(id)}/export?format=${enc(format)}`),
    exportAll: (format) => download(`api/export?format=${enc(format)}`),
    /** POST an export file (a File, Blob or string) as it is: the backend validates it. */
    importFile: (file) => call("POST", "api/import", file),
    /** Upload an image (a File or Blob, sent as it is); its {id, mime, size}. */
    uploadImage: (file) => call("POST", "api/images", file),
    /** A stored image as {blob}. */
    image: (id) => download(`api/images/${enc(id)}`),
  };
}
