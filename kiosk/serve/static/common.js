// Shared by the pages: the CSRF token, JSON calls that carry it, a nonce per request; the service worker
// (pages that open with no signal) and the plain line that says a page is the saved copy.
// Loaded once by base.html; a page that loads it again gets the same object.
"use strict";
window.Kiosk = window.Kiosk || (function () {
  const meta = (name) => (document.querySelector(`meta[name="${name}"]`) || {}).content || "";
  let csrf = meta("csrf-token");
  const lang = meta("lang") || "zh";
  const words = { offline: meta("net-offline"), error: meta("net-error") };
  function nonce() {
    const a = new Uint8Array(16);
    crypto.getRandomValues(a);
    return Array.from(a, (b) => b.toString(16).padStart(2, "0")).join("");
  }
  // Never an exception's text: a failed fetch is "没有网络，恢复后会自动重试" (status 0, offline true).
  async function call(method, url, body, isForm, retried) {
    const headers = { "X-CSRF-Token": csrf, "Accept": "application/json" };
    if (body && !isForm) headers["Content-Type"] = "application/json";
    let res;
    try {
      res = await fetch(url + (url.includes("?") ? "&" : "?") + "lang=" + lang, {
        method, headers, credentials: "same-origin",
        body: body ? (isForm ? body : JSON.stringify(body)) : undefined,
      });
    } catch (e) {
      showOffline(true);
      return { status: 0, offline: true, data: { message: words.offline } };
    }
    let data = {};
    try { data = await res.json(); } catch (e) { data = {}; }
    if (res.status === 403 && data.error === "csrf" && !retried) {
      // a page kept by the service worker carries an older token: take the current one, try once more
      const fresh = await call("GET", "/api/csrf", null, false, true);
      if (fresh.status === 200 && fresh.data.csrf_token) {
        csrf = fresh.data.csrf_token;
        return call(method, url, body, isForm, true);
      }
    }
    if (!data.message && res.status !== 200) data.message = words.error;
    return { status: res.status, data };
  }
  const saved = document.documentElement.dataset.offline === "1";
  function showOffline(on) {
    const line = document.getElementById("offline-line");
    if (line) line.hidden = !(on || saved);
    document.documentElement.classList.toggle("offline", Boolean(on || saved));
  }
  showOffline(!navigator.onLine);
  window.addEventListener("offline", () => showOffline(true));
  window.addEventListener("online", () => showOffline(false));
  if ("serviceWorker" in navigator && window.isSecureContext) {
    navigator.serviceWorker.register("/sw.js", { scope: "/" }).catch(() => {});
  }
  return { get csrf() { return csrf; }, lang, nonce, call, words, saved, showOffline };
})();
