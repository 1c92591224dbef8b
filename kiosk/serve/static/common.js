// Shared by the pages: the CSRF token, JSON calls that carry it, a nonce per request.
"use strict";
window.Kiosk = (function () {
  const meta = (name) => (document.querySelector(`meta[name="${name}"]`) || {}).content || "";
  const csrf = meta("csrf-token");
  const lang = meta("lang") || "zh";
  function nonce() {
    const a = new Uint8Array(16);
    crypto.getRandomValues(a);
    return Array.from(a, (b) => b.toString(16).padStart(2, "0")).join("");
  }
  async function call(method, url, body, isForm) {
    const headers = { "X-CSRF-Token": csrf, "Accept": "application/json" };
    if (body && !isForm) headers["Content-Type"] = "application/json";
    const res = await fetch(url + (url.includes("?") ? "&" : "?") + "lang=" + lang, {
      method, headers, credentials: "same-origin",
      body: body ? (isForm ? body : JSON.stringify(body)) : undefined,
    });
    let data = {};
    try { data = await res.json(); } catch (e) { data = { message: res.statusText }; }
    return { status: res.status, data };
  }
  return { csrf, lang, nonce, call };
})();
