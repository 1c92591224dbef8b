// 个人建设码 (issue 27). A worker's phone signs its own code: at the first visit after binding it makes an
// ECDSA P-256 key pair with WebCrypto (the private key non-extractable, kept in IndexedDB), sends the
// public half (POST /api/device-key), and from then on signs the code of the current two-minute window
// itself, online or offline (store/codes/tokens.py, "device codes"), and draws it (qrcode-generator).
// A phone without WebCrypto (or before its key is registered) shows the server's code and renews it
// online. The countdown counts to the renewal it shows; a code past its end is greyed, never shown as valid.
"use strict";
(function () {
  const card = document.getElementById("code-card");
  if (!card) return;
  const d = card.dataset;
  const qr = document.getElementById("qr");
  const left = document.getElementById("left");
  const leftText = document.getElementById("left-text");
  const countdown = document.getElementById("countdown");
  const expiredLine = document.getElementById("expired");
  const source = document.getElementById("code-source");
  const WINDOW_S = 120;
  const PREFIX = "SJM1:";
  const CONTEXT = new TextEncoder().encode("sjm-personal-code\0");
  const OFFSET_KEY = "kiosk.clock_offset_ms";

  // server clock minus ours: from this page when it came from the network, else the last one known
  let offset = Number(localStorage.getItem(OFFSET_KEY) || 0);
  if (!Kiosk.saved && d.serverTime) {
    offset = Date.parse(d.serverTime) - Date.now();
    localStorage.setItem(OFFSET_KEY, String(offset));
  }
  const now = () => Date.now() + offset;
  let expires = Date.parse(d.expires);           // the shown code's end (ms, server clock)
  let renewAt = Date.now() + Number(d.renewIn) * 1000;  // when this page renews it (ms, our clock)
  let mode = "server", busy = false, deviceKey = null;

  // --- drawing ------------------------------------------------------------------------------------
  function svgOf(text) {
    const q = qrcode(0, "M");
    q.addData(text, "Alphanumeric");
    q.make();
    const n = q.getModuleCount(), quiet = 4, size = n + 2 * quiet;
    let d = "";
    for (let r = 0; r < n; r++) {
      let c = 0;
      while (c < n) {
        if (!q.isDark(r, c)) { c++; continue; }
        const start = c;
        while (c < n && q.isDark(r, c)) c++;
        d += `M${start + quiet} ${r + quiet}h${c - start}v1h-${c - start}z`;
      }
    }
    return `<svg viewBox="0 0 ${size} ${size}" class="qr" role="img" ` +
      `aria-label="QR" shape-rendering="crispEdges"><rect width="${size}" height="${size}" fill="#fff"/>` +
      `<path fill="#000" d="${d}"/></svg>`;
  }

  // --- the code of a window -------------------------------------------------------------------------
  const ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
  function base32(bytes) {
    let out = "", bits = 0, value = 0;
    for (const b of bytes) {
      value = (value << 8) | b; bits += 8;
      while (bits >= 5) { out += ALPHABET[(value >>> (bits - 5)) & 31]; bits -= 5; }
    }
    if (bits > 0) out += ALPHABET[(value << (5 - bits)) & 31];
    return out;
  }
  async function signWindow(rec, start) {
    const p = new Uint8Array(28);
    const v = new DataView(p.buffer);
    p[0] = 1; p[1] = 0b1000; // version; flags: a worker's code signed by his phone
    const subject = rec.subject.replace(/-/g, "");
    for (let i = 0; i < 16; i++) p[2 + i] = parseInt(subject.substr(2 * i, 2), 16);
    v.setUint32(18, start); v.setUint16(22, WINDOW_S);
    for (let i = 0; i < 4; i++) p[24 + i] = parseInt(rec.kid.substr(2 * i, 2), 16);
    const msg = new Uint8Array(CONTEXT.length + p.length);
    msg.set(CONTEXT); msg.set(p, CONTEXT.length);
    const sig = new Uint8Array(await crypto.subtle.sign({ name: "ECDSA", hash: "SHA-256" }, rec.priv, msg));
    const all = new Uint8Array(p.length + sig.length);
    all.set(p); all.set(sig, p.length);
    return PREFIX + base32(all);
  }
  let shownWindow = -1;
  async function showDeviceCode() {
    const start = Math.floor(now() / 1000 / WINDOW_S) * WINDOW_S;
    if (start === shownWindow) return;
    const token = await signWindow(deviceKey, start);
    shownWindow = start;
    qr.innerHTML = svgOf(token);
    qr.dataset.source = "device";
    qr.dataset.token = token;
    expires = (start + WINDOW_S) * 1000;
    fresh();
  }

  // --- the server's code (no key) -----------------------------------------------------------------
  async function renew() {
    busy = true;
    leftText.textContent = d.renewing;
    const r = await Kiosk.call("GET", "/api/code" + (d.project ? "?project=" + encodeURIComponent(d.project) : ""));
    if (r.status === 200) {
      qr.innerHTML = r.data.svg; // our own server-rendered SVG
      offset = Date.parse(r.data.server_time) - Date.now();
      localStorage.setItem(OFFSET_KEY, String(offset));
      expires = Date.parse(r.data.expires_at);
      renewAt = Date.now() + r.data.renew_in_s * 1000;
      fresh();
    } else {
      leftText.textContent = r.data.message;
      renewAt = Date.now() + 5000;
    }
    busy = false;
  }

  function fresh() {
    qr.classList.remove("expired");
    expiredLine.hidden = true;
    countdown.hidden = false;
    leftText.textContent = d.leftText;
  }
  function tick() {
    if (mode === "device") {
      const s = Math.max(0, Math.ceil((expires - now()) / 1000));
      left.textContent = String(s);
      if (now() >= expires) showDeviceCode();
      return;
    }
    if (now() >= expires) { // a code past its end is never shown as valid
      qr.classList.add("expired");
      expiredLine.hidden = false;
      countdown.hidden = true;
    } else {
      left.textContent = String(Math.max(0, Math.ceil((renewAt - Date.now()) / 1000)));
    }
    if (!busy && Date.now() >= renewAt) renew();
  }

  async function start() {
    try { deviceKey = d.kind === "worker" ? await KioskDevice.ensure(d.subject, d.deviceKid) : null; }
    catch (e) { deviceKey = null; }
    if (deviceKey) {
      mode = "device";
      await showDeviceCode();
      source.textContent = d.device;
    } else if (d.kind === "worker") {
      source.textContent = window.crypto && crypto.subtle ? d.server : d.noKey;
    }
    card.dataset.mode = mode;
  }
  tick();
  setInterval(tick, 500);
  start();
  document.addEventListener("visibilitychange", () => { if (!document.hidden && mode === "server") renewAt = Date.now(); });
  // the person's status as of the day it was saved (an offline copy of another day says so)
  const person = document.getElementById("code-person"), asOf = document.getElementById("code-as-of");
  if (person && asOf) {
    let today = "";
    try { today = new Date(now()).toLocaleDateString("sv-SE", { timeZone: person.dataset.tz || undefined }); }
    catch (e) { today = new Date(now()).toLocaleDateString("sv-SE"); }
    if (person.dataset.date && person.dataset.date !== today) {
      asOf.textContent = person.dataset.asOf.replace("{date}", person.dataset.date);
      asOf.hidden = false;
    }
  }
})();
