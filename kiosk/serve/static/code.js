// 个人建设码: a countdown, and a new code fetched before the old one expires (the server draws the QR).
"use strict";
(function () {
  const card = document.getElementById("code-card");
  if (!card) return;
  const qr = document.getElementById("qr");
  const left = document.getElementById("left");
  const leftText = document.getElementById("left-text");
  const project = card.dataset.project;
  let offset = Date.parse(card.dataset.serverTime) - Date.now(); // server clock minus ours
  let expires = Date.parse(card.dataset.expires);
  let renewAt = Date.now() + Number(card.dataset.renewIn) * 1000;
  let busy = false;

  async function renew() {
    busy = true;
    leftText.textContent = card.dataset.renewing;
    try {
      const r = await Kiosk.call("GET", "/api/code" + (project ? "?project=" + encodeURIComponent(project) : ""));
      if (r.status !== 200) throw new Error(r.data.message || String(r.status));
      qr.innerHTML = r.data.svg; // our own server-rendered SVG
      offset = Date.parse(r.data.server_time) - Date.now();
      expires = Date.parse(r.data.expires_at);
      renewAt = Date.now() + r.data.renew_in_s * 1000;
      leftText.textContent = card.dataset.leftText;
    } catch (e) {
      leftText.textContent = card.dataset.offline;
      renewAt = Date.now() + 5000;
    } finally {
      busy = false;
    }
  }
  function tick() {
    const s = Math.max(0, Math.round((expires - (Date.now() + offset)) / 1000));
    left.textContent = String(s);
    if (!busy && Date.now() >= renewAt) renew();
  }
  tick();
  setInterval(tick, 500);
  document.addEventListener("visibilitychange", () => { if (!document.hidden) renewAt = Date.now(); });
})();
