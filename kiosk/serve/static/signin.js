// 班前签到 (way A): the position against the range, the green button, the camera reading the
// officer's code with the vendored zxing-wasm, or a photo read by the server. The server decides.
// Issue 27: the decoder is fetched and compiled when the page loads (the service worker keeps it), not at
// the first tap; with no signal a scan is kept on the phone (localStorage) with the time it was made and
// sent when the signal returns (the service judges it at that time, within the officer code's window);
// a refusal says 签到失败 with a link to the step that fixes it; network errors are words.
"use strict";
(function () {
  const root = document.getElementById("signin");
  if (!root) return;
  const $ = (id) => document.getElementById(id);
  const d = root.dataset;
  const button = $("signin-button"), status = $("place-status"), dist = $("place-distance"), proj = $("place-project");
  const scanner = $("scanner"), video = $("video"), canvas = $("canvas"), result = $("result");
  let pos = null, lastSent = 0, inside = false, stream = null, scanning = false, sending = false;
  const KEPT = "kiosk.kept_signin";
  const OFFSET_KEY = "kiosk.clock_offset_ms";

  // fetched and compiled now: the first tap finds it ready, online or not
  const decoderReady = ZXingWASM.prepareZXingModule({
    overrides: { locateFile: (path) => (path.endsWith(".wasm") ? d.wasm : path) },
    fireImmediately: true,
  });
  Promise.resolve(decoderReady).then(() => { root.dataset.decoder = "ready"; }, () => { root.dataset.decoder = "failed"; });

  function show(kind, text, small, link) {
    result.hidden = false;
    result.className = "result " + kind;
    result.textContent = text;
    if (small) { const s = document.createElement("small"); s.textContent = small; result.appendChild(s); }
    if (link) {
      const a = document.createElement("a");
      a.href = link.url; a.textContent = link.label; a.className = "btn plain fix";
      result.appendChild(a);
    }
  }
  function setButton(on) {
    inside = on;
    button.disabled = !on;
    button.className = "btn " + (on ? "green" : "grey");
  }
  // The service's last verdict on this phone's place, kept a few minutes: a phone standing where it was
  // judged inside gets its green button at once ("正在确认…"), before the service's new answer arrives on a
  // weak signal. Only a hint, like the button itself: the sign-in is the service's decision.
  const VERDICT = "kiosk.place_verdict", VERDICT_S = 600, VERDICT_M = 30;
  function metres(a, b) {
    const r = 6371000, rad = Math.PI / 180;
    const x = (b.longitude - a.longitude) * rad * Math.cos((a.latitude + b.latitude) * rad / 2);
    const y = (b.latitude - a.latitude) * rad;
    return Math.hypot(x, y) * r;
  }
  function fromVerdict(c) {
    try {
      const v = JSON.parse(localStorage.getItem(VERDICT) || "null");
      if (!v || !v.inside || Date.now() - v.at > VERDICT_S * 1000 || metres(v, c) > VERDICT_M) return;
      proj.textContent = v.name;
      status.textContent = d.inside + " · " + d.confirming;
      setButton(true);
    } catch (e) { /* no kept verdict */ }
  }
  async function judge() {
    if (!pos) return;
    lastSent = Date.now();
    const c = pos.coords;
    if (!root.dataset.judged) fromVerdict(c);
    const r = await Kiosk.call("POST", "/api/place", { latitude: c.latitude, longitude: c.longitude, accuracy: c.accuracy });
    if (r.offline) { // the range cannot be checked: he may still scan, the service judges it later
      status.textContent = d.offline; dist.textContent = ""; setButton(true); return;
    }
    if (r.status !== 200) { status.textContent = r.data.message; setButton(false); return; }
    const ps = r.data.projects;
    if (!ps.length) { status.textContent = d.noProject; setButton(false); return; }
    const p = ps.find((x) => x.inside) || ps[0];
    root.dataset.judged = "1";
    localStorage.setItem(VERDICT, JSON.stringify(
      { inside: p.inside, name: p.name, latitude: c.latitude, longitude: c.longitude, at: Date.now() }));
    proj.textContent = p.name;
    const acc = d.accuracy + " ±" + Math.ceil(c.accuracy) + " " + d.unit;
    const poor = p.reason === "LOCATION_INACCURATE"; // at the centre with a poor fix: say accuracy, not range
    status.textContent = (p.inside ? d.inside : poor ? d.accuracyPoor : d.outside) + " · " + acc;
    dist.textContent = p.inside ? "" : (p.message || (d.distance + " " + Math.ceil(p.distance_m) + " " + d.unit));
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

  function answer(r, kept) {
    const data = r.data;
    if (r.status === 200 && data.outcome !== "refused") {
      const when = data.at
        ? (data.project_name || proj.textContent) + " · " + new Date(data.at).toLocaleTimeString(
          Kiosk.lang === "en" ? "en-GB" : "zh-CN", { hour: "2-digit", minute: "2-digit" })
        : "";
      const ok = data.outcome === "signed_in" || data.outcome === "signed_out"; // 签退 (issue 25) is green too
      show(ok ? "ok" : "already", data.message, kept ? when + " · " + d.keptSent : when);
    } else if (r.status === 200) { // refused: 签到失败, why, and where to put it right
      show("bad", data.title || d.failed, data.message,
        data.fix_url ? { url: data.fix_url, label: data.fix_label } : null);
    } else {
      show("bad", d.failed, data.message);
    }
    result.dataset.outcome = r.status === 200 ? data.outcome : "error";
  }
  function keep(body) { // no signal: keep the scan with the time it was made (the service's clock)
    const offset = Number(localStorage.getItem(OFFSET_KEY) || 0);
    body.scanned_at = new Date(Date.now() + offset).toISOString();
    localStorage.setItem(KEPT, JSON.stringify(body));
    show("already", d.kept);
    result.dataset.outcome = "kept";
  }
  async function sendKept() {
    const raw = localStorage.getItem(KEPT);
    if (!raw || sending || !navigator.onLine) return;
    sending = true;
    try {
      const r = await Kiosk.call("POST", "/api/signin", JSON.parse(raw));
      if (r.offline) return;
      localStorage.removeItem(KEPT); // answered (signed in, already or refused): never sent twice
      answer(r, true);
    } finally {
      sending = false;
    }
  }
  async function send(url, body, isForm) {
    if (sending) return;
    sending = true;
    show("", d.sending);
    try {
      const r = await Kiosk.call("POST", url, body, isForm);
      if (r.offline && !isForm) keep(body);
      else answer(r, false);
    } finally {
      sending = false;
    }
  }
  window.addEventListener("online", sendKept);
  sendKept();
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
