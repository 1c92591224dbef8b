// The enrollment forms: photo previews, the ID number read back (sex, birth date), "other" institution,
// sending a form in place (nothing typed or chosen is lost when it is refused), the card's check-digit
// confirmation, and one-tap employment confirmation. The server checks everything again.
"use strict";
(function () {
  const form = document.getElementById("enroll-form");

  function fieldBox(name) {
    return form ? form.querySelector(`.field[data-field="${name}"]`) : null;
  }
  function clearErrors() {
    form.querySelectorAll(".field-error").forEach((p) => { p.hidden = true; p.textContent = ""; });
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
      p.textContent = message;
      p.hidden = false;
      box.scrollIntoView({ block: "center" });
    } else { // about the whole form: above the button
      const top = document.getElementById("form-error");
      top.textContent = message;
      top.hidden = false;
    }
    form.dataset.message = message;
    form.dataset.state = "error";
  }

  if (form) {
    // a field changed: its old error no longer applies
    form.addEventListener("change", (ev) => {
      const box = ev.target.closest ? ev.target.closest(".field") : null;
      if (box && box.dataset.field !== "id_number") {
        box.classList.remove("bad");
        const p = box.querySelector(".field-error");
        if (p) p.hidden = true;
      }
    });
    // photo previews (blob: URLs stay on the phone)
    form.querySelectorAll('input[type="file"]').forEach((input) => {
      input.addEventListener("change", () => {
        const img = document.getElementById(input.id + "-preview");
        const f = input.files[0];
        if (img && f) {
          img.src = URL.createObjectURL(f);
          img.hidden = false;
        }
      });
    });

    // the ID number read back: sex and birth date, or what is wrong with it
    const idInput = document.getElementById("id_number");
    if (idInput) {
      idInput.addEventListener("change", async () => {
        const out = document.getElementById("from-id");
        const box = fieldBox("id_number");
        box.querySelector(".field-error").hidden = true;
        box.classList.remove("bad");
        out.hidden = true;
        if (!idInput.value.trim()) return;
        const r = await Kiosk.call("POST", idInput.dataset.check, { id_number: idInput.value });
        if (r.status === 200) {
          out.textContent = idInput.dataset.fromId.replace("{sex}", r.data.sex_label).replace("{birth}", r.data.birth_date);
          out.hidden = false;
        } else {
          const p = box.querySelector(".field-error");
          p.textContent = r.data.message || "";
          p.hidden = false;
          box.classList.add("bad");
        }
      });
    }

    // 其他: the institution's name
    const inst = document.getElementById("institution");
    if (inst) {
      const other = document.getElementById("other-box");
      const sync = () => { other.hidden = inst.value !== "other"; };
      inst.addEventListener("change", sync);
      sync();
    }

    form.addEventListener("submit", async (ev) => {
      ev.preventDefault();
      clearErrors();
      delete form.dataset.state;
      const done = document.getElementById("form-done");
      done.hidden = true;
      const maxMb = Number(form.dataset.maxMb || 0);
      for (const input of form.querySelectorAll('input[type="file"]')) {
        const f = input.files[0];
        if (f && maxMb && f.size > maxMb * 1024 * 1024) {
          const size = (f.size / 1024 / 1024).toFixed(1);
          showError(input.name, form.dataset.tooBig.replace("{size}", size).replace("{mb}", String(maxMb)));
          return;
        }
      }
      const button = document.getElementById("submit");
      const label = button.textContent;
      button.disabled = true;
      button.textContent = button.dataset.sending;
      let r;
      try {
        if (form.dataset.multipart) {
          r = await Kiosk.call("POST", form.dataset.api, new FormData(form), true);
        } else {
          const body = {};
          new FormData(form).forEach((v, k) => { body[k] = v; });
          if ("luhn_confirmed" in body) body.luhn_confirmed = true;
          r = await Kiosk.call("POST", form.dataset.api, body);
        }
      } catch (e) {
        r = { status: 0, data: { message: String(e) } };
      } finally {
        button.disabled = false;
        button.textContent = label;
      }
      if (r.status === 200) {
        done.textContent = r.data.message || "";
        done.hidden = false;
        form.dataset.message = done.textContent;
        form.dataset.state = "done";
        setTimeout(() => { window.location.href = form.dataset.done; }, 1500);
        return;
      }
      if (r.data.error === "luhn_unconfirmed") document.getElementById("luhn-box").hidden = false;
      showError(r.data.field, r.data.message || String(r.status));
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
