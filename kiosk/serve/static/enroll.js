// The enrollment forms: photos read and shrunk on the phone (to the size the service keeps) with a
// preview, the ID number read back (sex, birth date), "other" institution, sending a form in place with
// a progress bar and a cancel (nothing typed or chosen is lost when it is refused, cancelled or the
// network drops), what was typed and chosen kept across Back and reload, the card's check-digit
// confirmation, and one-tap employment confirmation. The server checks everything again.
"use strict";
(function () {
  const form = document.getElementById("enroll-form");
  // what the service keeps (store/people/images.py STORE_SIDE, JPEG_QUALITY): no use sending more
  const STORE_SIDE = 1600;
  const QUALITY = 0.85;
  // formats a phone's browser may hand over that it cannot draw (and the service would refuse)
  const UNREADABLE = /^image\/(heic|heif|avif-sequence|tiff|x-adobe|x-canon|x-nikon)/i;
  const chosen = {}; // field name -> the shrunk JPEG (Blob) to send
  const storeKey = form ? "enroll:" + form.dataset.api : "";

  function fieldBox(name) {
    return form ? form.querySelector(`.field[data-field="${name}"]`) : null;
  }
  // A message line emptied keeps its height: what is below never moves up under a finger on its way to
  // the button (the first tap on 提交 after correcting a field was lost when the error line vanished).
  function emptyLine(p) {
    if (!p || p.hidden) return;
    p.style.minHeight = p.offsetHeight + "px";
    p.textContent = "";
  }
  function setLine(p, text) {
    p.style.minHeight = p.hidden ? "" : p.offsetHeight + "px";
    p.textContent = text;
    p.hidden = false;
  }
  function clearErrors() {
    form.querySelectorAll(".field-error").forEach((p) => { p.hidden = true; p.textContent = ""; p.style.minHeight = ""; });
    form.querySelectorAll(".field.bad").forEach((f) => f.classList.remove("bad"));
    const top = document.getElementById("form-error");
    top.hidden = true;
    top.textContent = "";
  }
  function showError(field, message) {
    const box = field ? fieldBox(field) : null;
    const p = box ? box.querySelector(".field-error") : null;
    if (p) { // at the field it is about, scrolled into view
      box.classList.add("bad");
      setLine(p, message);
      box.scrollIntoView({ block: "center" });
    } else { // about the whole form: above the button
      const top = document.getElementById("form-error");
      top.textContent = message;
      top.hidden = false;
    }
    form.dataset.message = message;
    form.dataset.state = "error";
  }

  // --- what he typed and chose, kept for Back and reload (this tab only) ---------------------------------
  function saved() {
    try { return JSON.parse(sessionStorage.getItem(storeKey) || "{}"); } catch (e) { return {}; }
  }
  function save(patch) {
    const all = Object.assign(saved(), patch);
    try { sessionStorage.setItem(storeKey, JSON.stringify(all)); } catch (e) { /* full: the photos stay unsaved */ }
  }
  function saveFields() {
    const fields = {};
    form.querySelectorAll("input, select").forEach((el) => {
      if (!el.name || el.type === "file" || el.type === "hidden") return;
      if (el.type === "radio") { if (el.checked) fields[el.name] = el.value; }
      else if (el.type === "checkbox") fields[el.name] = el.checked;
      else fields[el.name] = el.value;
    });
    save({ fields });
  }
  function blobToDataUrl(blob) {
    return new Promise((resolve, reject) => {
      const r = new FileReader();
      r.onload = () => resolve(r.result);
      r.onerror = () => reject(r.error);
      r.readAsDataURL(blob);
    });
  }
  function dataUrlToBlob(url) {
    const [head, body] = url.split(",");
    const bytes = atob(body);
    const out = new Uint8Array(bytes.length);
    for (let i = 0; i < bytes.length; i += 1) out[i] = bytes.charCodeAt(i);
    return new Blob([out], { type: head.slice(5).split(";")[0] || "image/jpeg" });
  }
  function showPhoto(name, url) {
    const img = document.getElementById(name + "-preview");
    if (img) { img.src = url; img.hidden = false; }
    const box = fieldBox(name);
    if (box) box.classList.add("chosen");
  }
  async function restore() {
    const s = saved();
    const fields = s.fields || {};
    form.querySelectorAll("input, select").forEach((el) => {
      if (!el.name || !(el.name in fields) || el.type === "file" || el.type === "hidden") return;
      if (el.type === "radio") el.checked = el.value === fields[el.name];
      else if (el.type === "checkbox") el.checked = Boolean(fields[el.name]);
      else el.value = fields[el.name];
    });
    for (const [name, url] of Object.entries(s.photos || {})) {
      try {
        chosen[name] = dataUrlToBlob(url); // not fetch(): the pages may connect to the service only
        showPhoto(name, url);
        fieldBox(name).dataset.photo = "ready";
      } catch (e) { /* gone: he chooses it again */ }
    }
    form.dataset.restored = "1";
  }

  // --- photos: read, turned upright and shrunk on the phone ---------------------------------------------
  async function shrink(file) {
    if (UNREADABLE.test(file.type || "")) throw new Error("unreadable");
    let bitmap;
    try {
      bitmap = await createImageBitmap(file, { imageOrientation: "from-image" });
    } catch (e) {
      throw new Error("unreadable");
    }
    const scale = Math.min(1, STORE_SIDE / Math.max(bitmap.width, bitmap.height));
    const w = Math.max(1, Math.round(bitmap.width * scale));
    const h = Math.max(1, Math.round(bitmap.height * scale));
    const canvas = document.createElement("canvas");
    canvas.width = w;
    canvas.height = h;
    const ctx = canvas.getContext("2d");
    ctx.imageSmoothingQuality = "high";
    ctx.drawImage(bitmap, 0, 0, w, h);
    bitmap.close();
    const blob = await new Promise((resolve) => canvas.toBlob(resolve, "image/jpeg", QUALITY));
    canvas.width = canvas.height = 0; // the pixels go now (a phone has little memory)
    if (!blob) throw new Error("unreadable");
    return blob;
  }

  if (form) {
    // a field changed: its old error no longer applies (its line keeps its height, see emptyLine)
    form.addEventListener("change", (ev) => {
      if (ev.target.type === "file") return; // a photo's own handler says what became of it
      const box = ev.target.closest ? ev.target.closest(".field") : null;
      if (box && box.dataset.field !== "id_number") {
        box.classList.remove("bad");
        emptyLine(box.querySelector(".field-error"));
      }
      saveFields();
    });
    form.addEventListener("input", (ev) => { if (ev.target.type !== "file") saveFields(); });

    form.querySelectorAll('input[type="file"]').forEach((input) => {
      input.addEventListener("change", async () => {
        const f = input.files[0];
        if (!f) return;
        const box = fieldBox(input.name);
        box.classList.remove("bad");
        emptyLine(box.querySelector(".field-error"));
        box.classList.add("busy");
        delete box.dataset.photo; // "ready" once shrunk, "bad" when refused
        try {
          const blob = await shrink(f);
          chosen[input.name] = blob;
          const url = await blobToDataUrl(blob);
          showPhoto(input.name, url);
          const photos = saved().photos || {};
          photos[input.name] = url;
          save({ photos });
          box.dataset.photo = "ready";
        } catch (e) {
          delete chosen[input.name];
          input.value = "";
          const img = document.getElementById(input.id + "-preview");
          if (img) img.hidden = true;
          const photos = saved().photos || {};
          delete photos[input.name];
          save({ photos });
          showError(input.name, form.dataset.unreadable);
          box.dataset.photo = "bad";
        } finally {
          box.classList.remove("busy");
        }
      });
    });

    // the ID number read back: sex and birth date, or what is wrong with it — in one line whose
    // height never shrinks (the answer comes while the finger may be on its way to 提交)
    const idInput = document.getElementById("id_number");
    if (idInput) {
      idInput.addEventListener("change", async () => {
        const out = document.getElementById("from-id");
        const box = fieldBox("id_number");
        const err = box.querySelector(".field-error");
        if (!idInput.value.trim()) return;
        let r;
        try {
          r = await Kiosk.call("POST", idInput.dataset.check, { id_number: idInput.value });
        } catch (e) {
          return; // no network: the server checks the number again on 提交
        }
        const lines = box.querySelector(".id-lines") || box;
        lines.style.minHeight = Math.max(lines.offsetHeight, parseFloat(lines.style.minHeight) || 0) + "px";
        if (r.status === 200) {
          err.hidden = true;
          box.classList.remove("bad");
          out.textContent = idInput.dataset.fromId.replace("{sex}", r.data.sex_label).replace("{birth}", r.data.birth_date);
          out.hidden = false;
        } else {
          out.hidden = true;
          err.textContent = r.data.message || "";
          err.hidden = false;
          box.classList.add("bad");
        }
      });
    }

    // 其他: the institution's name
    const inst = document.getElementById("institution");
    const syncOther = () => {
      if (inst) document.getElementById("other-box").hidden = inst.value !== "other";
    };
    if (inst) inst.addEventListener("change", syncOther);

    restore().then(() => {
      syncOther();
      // a number brought back is read back too (sex and birth date, or what is wrong with it)
      if (idInput && idInput.value.trim()) idInput.dispatchEvent(new Event("change"));
    });
    // Back to a page kept in the browser's memory: its fields are as he left them, the photos too
    window.addEventListener("pageshow", (ev) => { if (ev.persisted) syncOther(); });

    // --- sending, with progress and a cancel -------------------------------------------------------------
    const upload = document.getElementById("upload");
    const bar = document.getElementById("upload-progress");
    const barLabel = document.getElementById("upload-label");
    const cancel = document.getElementById("cancel-upload");
    let current = null;
    if (cancel) cancel.addEventListener("click", () => { if (current) current.abort(); });

    function send(body) {
      return new Promise((resolve) => {
        const xhr = new XMLHttpRequest();
        current = xhr;
        xhr.open("POST", form.dataset.api + "?lang=" + Kiosk.lang);
        xhr.setRequestHeader("X-CSRF-Token", Kiosk.csrf);
        xhr.setRequestHeader("Accept", "application/json");
        xhr.responseType = "json";
        xhr.upload.onprogress = (ev) => {
          if (!ev.lengthComputable) return;
          const pct = Math.floor((100 * ev.loaded) / ev.total);
          bar.value = pct;
          barLabel.textContent = form.dataset.progress.replace("{pct}", String(pct));
        };
        xhr.onload = () => resolve({ status: xhr.status, data: xhr.response || {} });
        xhr.onerror = () => resolve({ status: 0, data: { message: form.dataset.offline } });
        xhr.ontimeout = xhr.onerror;
        xhr.onabort = () => resolve({ status: -1, data: { message: form.dataset.cancelled } });
        xhr.send(body);
      });
    }

    form.addEventListener("submit", async (ev) => {
      ev.preventDefault();
      clearErrors();
      delete form.dataset.state;
      const done = document.getElementById("form-done");
      done.hidden = true;
      const maxMb = Number(form.dataset.maxMb || 0);
      for (const [name, blob] of Object.entries(chosen)) {
        if (maxMb && blob.size > maxMb * 1024 * 1024) {
          const size = (blob.size / 1024 / 1024).toFixed(1);
          showError(name, form.dataset.tooBig.replace("{size}", size).replace("{mb}", String(maxMb)));
          return;
        }
      }
      const button = document.getElementById("submit");
      const label = button.textContent;
      button.disabled = true;
      button.textContent = button.dataset.sending;
      form.dataset.state = "sending";
      let r;
      try {
        if (form.dataset.multipart) {
          const body = new FormData();
          new FormData(form).forEach((v, k) => { if (typeof v === "string") body.append(k, v); });
          for (const [name, blob] of Object.entries(chosen)) body.append(name, blob, name + ".jpg");
          bar.value = 0;
          barLabel.textContent = form.dataset.progress.replace("{pct}", "0");
          upload.hidden = false;
          r = await send(body);
        } else {
          const body = {};
          new FormData(form).forEach((v, k) => { body[k] = v; });
          if ("luhn_confirmed" in body) body.luhn_confirmed = true;
          r = await Kiosk.call("POST", form.dataset.api, body);
        }
      } catch (e) {
        r = { status: 0, data: { message: form.dataset.offline } };
      } finally {
        current = null;
        if (upload) upload.hidden = true;
        button.disabled = false;
        button.textContent = label;
      }
      if (r.status === 200) {
        try { sessionStorage.removeItem(storeKey); } catch (e) { /* nothing kept */ }
        done.textContent = r.data.message || "";
        done.hidden = false;
        form.dataset.message = done.textContent;
        form.dataset.state = "done";
        setTimeout(() => { window.location.href = form.dataset.done; }, 1500);
        return;
      }
      if (r.data.error === "luhn_unconfirmed") document.getElementById("luhn-box").hidden = false;
      showError(r.status > 0 ? r.data.field : null, r.data.message || String(r.status));
      if (r.status === -1) form.dataset.state = "cancelled";
    });
  }

  // 聘用信息确认: one tap each
  document.querySelectorAll("button.confirm-employment").forEach((button) => {
    button.addEventListener("click", async () => {
      const card = button.closest(".employment");
      const err = card.querySelector(".form-error");
      err.hidden = true;
      const label = button.textContent;
      button.disabled = true;
      button.textContent = button.dataset.sending;
      const r = await Kiosk.call("POST", button.dataset.api);
      if (r.status === 200) {
        card.classList.remove("waiting");
        card.classList.add("confirmed");
        button.outerHTML = "";
        const ok = document.createElement("p");
        ok.className = "verdict ok";
        ok.textContent = "✓ " + button.dataset.done;
        card.appendChild(ok);
        return;
      }
      button.disabled = false;
      button.textContent = label;
      err.textContent = r.data.message || String(r.status);
      err.hidden = false;
    });
  });
})();
