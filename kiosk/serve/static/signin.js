// 班前签到 (way A): the position against the range, the green button, the camera reading the
// officer's code with the vendored zxing-wasm, or a photo read by the server. The server decides.
"use strict";
(function () {
  const root = document.getElementById("signin");
  if (!root) return;
  const $ = (id) => document.getElementById(id);
  const d = root.dataset;
  const button = $("signin-button"), status = $("place-status"), dist = $("place-distance"), proj = $("place-project");
  const scanner = $("scanner"), video = $("video"), canvas = $("canvas"), result = $("result");
  let pos = null, lastSent = 0, inside = false, stream = null, scanning = false, sending = false;

  ZXingWASM.prepareZXingModule({
    overrides: { locateFile: (path) => "/static/vendor/zxing-wasm/" + path },
  });

  function show(kind, text, small) {
    result.hidden = false;
    result.className = "result " + kind;
    result.textContent = text;
    if (small) { const s = document.createElement("small"); s.textContent = small; result.appendChild(s); }
  }
  function setButton(on) {
    inside = on;
    button.disabled = !on;
    button.className = "btn " + (on ? "green" : "grey");
  }
  async function judge() {
    if (!pos) return;
    lastSent = Date.now();
    const c = pos.coords;
    const r = await Kiosk.call("POST", "/api/place", { latitude: c.latitude, longitude: c.longitude, accuracy: c.accuracy });
    if (r.status !== 200) { status.textContent = r.data.message || String(r.status); setButton(false); return; }
    const ps = r.data.projects;
    if (!ps.length) { status.textContent = d.noProject; setButton(false); return; }
    const p = ps.find((x) => x.inside) || ps[0];
    proj.textContent = p.name;
    status.textContent = (p.inside ? d.inside : d.outside) + " · " + d.accuracy + " " + Math.round(c.accuracy) + " " + d.unit;
    dist.textContent = p.inside ? "" : (p.message || (d.distance + " " + p.distance_m + " " + d.unit));
    setButton(p.inside);
  }
  if (!navigator.geolocation) { status.textContent = d.denied; }
  else {
    status.textContent = d.locating;
    navigator.geolocation.watchPosition(
      (p) => { pos = p; if (Date.now() - lastSent > 3000) judge(); },
      () => { status.textContent = d.denied; setButton(false); },
      { enableHighAccuracy: true, maximumAge: 5000, timeout: 20000 },
    );
  }

  async function send(url, body, isForm) {
    if (sending) return;
    sending = true;
    show("", d.sending);
    try {
      const r = await Kiosk.call("POST", url, body, isForm);
      const data = r.data;
      if (r.status === 200) {
        const when = data.outcome === "signed_in" && data.at
          ? proj.textContent + " · " + new Date(data.at).toLocaleTimeString(Kiosk.lang === "en" ? "en-GB" : "zh-CN",
            { hour: "2-digit", minute: "2-digit" })
          : "";
        const ok = data.outcome === "signed_in" || data.outcome === "signed_out";
        show(ok ? "ok" : data.outcome === "already" ? "already" : "bad", data.message, when);
      } else {
        show("bad", data.message || String(r.status));
      }
      result.dataset.outcome = r.status === 200 ? data.outcome : "error";
    } catch (e) {
      show("bad", String(e));
    } finally {
      sending = false;
    }
  }
  function place() {
    const c = pos.coords;
    const dir = document.querySelector('input[name="direction"]:checked');
    return { latitude: c.latitude, longitude: c.longitude, accuracy: c.accuracy, nonce: Kiosk.nonce(),
      direction: dir ? dir.value : "in" };
  }
  function stop() {
    scanning = false;
    if (stream) stream.getTracks().forEach((t) => t.stop());
    stream = null;
    scanner.hidden = true;
  }
  async function scanLoop() {
    if (!scanning) return;
    if (video.readyState >= 2 && video.videoWidth) {
      canvas.width = video.videoWidth; canvas.height = video.videoHeight;
      const g = canvas.getContext("2d", { willReadFrequently: true });
      g.drawImage(video, 0, 0);
      try {
        const found = await ZXingWASM.readBarcodes(g.getImageData(0, 0, canvas.width, canvas.height),
          { formats: ["QRCode"], tryHarder: true, maxNumberOfSymbols: 1 });
        const hit = found.find((b) => b.isValid && b.text);
        if (hit && scanning) { stop(); send("/api/signin", { ...place(), officer_code: hit.text }); return; }
      } catch (e) { /* a frame that fails to read: try the next */ }
    }
    setTimeout(scanLoop, 150);
  }
  button.addEventListener("click", async () => {
    if (!inside || !pos) return;
    result.hidden = true;
    try {
      stream = await navigator.mediaDevices.getUserMedia({ video: { facingMode: "environment" }, audio: false });
    } catch (e) { show("bad", d.cameraError); return; }
    video.srcObject = stream;
    scanner.hidden = false;
    await video.play().catch(() => {});
    scanning = true;
    scanLoop();
  });
  $("cancel").addEventListener("click", stop);
  $("photo").addEventListener("change", (ev) => {
    const f = ev.target.files && ev.target.files[0];
    if (!f) return;
    if (!pos) { show("bad", d.denied); return; }
    const p = place();
    const form = new FormData();
    form.append("photo", f);
    for (const k of ["latitude", "longitude", "accuracy", "nonce", "direction"]) form.append(k, String(p[k]));
    stop();
    send("/api/signin/photo", form, true);
    ev.target.value = "";
  });
})();
