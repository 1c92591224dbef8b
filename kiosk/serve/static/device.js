// The phone's own signing key (issue 27): an ECDSA P-256 key pair made with WebCrypto, the private key
// non-extractable (the browser signs with it but never hands it out), kept in IndexedDB; its public half
// registered with the service (POST /api/device-key). Made at the first page after binding (home) or
// at the code page, whichever comes first. The code page signs the codes with it (code.js).
"use strict";
window.KioskDevice = window.KioskDevice || (function () {
  function db() {
    return new Promise((resolve, reject) => {
      const req = indexedDB.open("kiosk-device", 1);
      req.onupgradeneeded = () => req.result.createObjectStore("keys");
      req.onsuccess = () => resolve(req.result);
      req.onerror = () => reject(req.error);
    });
  }
  async function idb(mode, fn) {
    const conn = await db();
    return new Promise((resolve, reject) => {
      const tx = conn.transaction("keys", mode);
      const req = fn(tx.objectStore("keys"));
      tx.oncomplete = () => resolve(req.result);
      tx.onerror = () => reject(tx.error);
    });
  }
  const hex = (buf) => Array.from(new Uint8Array(buf), (b) => b.toString(16).padStart(2, "0")).join("");
  const b64url = (buf) => btoa(String.fromCharCode(...new Uint8Array(buf)))
    .replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  // the phone's key for this worker, made and registered when needed; null when it cannot sign (no
  // WebCrypto) or the service has not confirmed the key yet
  async function ensure(subject, serverKid) {
    if (!subject || !window.crypto || !crypto.subtle || !window.indexedDB) return null;
    let rec = await idb("readonly", (s) => s.get("device"));
    if (rec && rec.subject !== subject) rec = null; // another person was bound in this browser before
    if (!rec) {
      const pair = await crypto.subtle.generateKey({ name: "ECDSA", namedCurve: "P-256" }, false, ["sign"]);
      const raw = await crypto.subtle.exportKey("raw", pair.publicKey);
      rec = { priv: pair.privateKey, pub: b64url(raw), kid: hex(await crypto.subtle.digest("SHA-256", raw)).slice(0, 8),
              subject, registered: false };
      await idb("readwrite", (s) => s.put(rec, "device"));
    }
    if (!Kiosk.saved && serverKid !== rec.kid) { // the service does not know this key (yet): tell it
      const r = await Kiosk.call("POST", "/api/device-key", { public_key: rec.pub });
      rec.registered = r.status === 200 && r.data.kid === rec.kid;
      await idb("readwrite", (s) => s.put(rec, "device"));
    } else if (serverKid === rec.kid && !rec.registered) {
      rec.registered = true;
      await idb("readwrite", (s) => s.put(rec, "device"));
    }
    return rec.registered ? rec : null;
  }

  return { ensure };
})();
(function () {
  const el = document.getElementById("device-key");
  if (el && el.dataset.subject) KioskDevice.ensure(el.dataset.subject, el.dataset.deviceKid).catch(() => null);
})();
