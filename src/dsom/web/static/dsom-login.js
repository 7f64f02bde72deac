// The login page: sign a one-time challenge with the person's key file, in the browser.
// The key and its password never leave this page; only the signature is sent.
(function () {
  "use strict";
  const form = document.getElementById("qes-login");
  if (!form) return;
  const messages = JSON.parse(form.dataset.messages || "{}");
  const status = document.getElementById("login-status");
  const info = document.getElementById("cert-info");
  const fileInput = document.getElementById("key-file");
  const password = document.getElementById("key-password");
  const button = form.querySelector("button[type=submit]");

  function say(text, isError) {
    status.textContent = text || "";
    status.classList.toggle("error", Boolean(isError));
  }

  function explain(code) {
    return messages[code] || messages.failed;
  }

  async function showCertificate(buffer) {
    try {
      const cert = await window.DSOMQES.readKeyFile(buffer, password.value);
      for (const el of info.querySelectorAll("[data-field]")) {
        const value = cert[el.dataset.field] || "";
        el.textContent = el.dataset.field === "notAfter" ? value.slice(0, 10) : value;
      }
      info.hidden = false;
    } catch (err) {
      info.hidden = true;
      throw err;
    }
  }

  async function postJSON(url, body) {
    const response = await fetch(url, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify(body || {}),
      credentials: "same-origin",
    });
    let data = null;
    try { data = await response.json(); } catch (e) { data = null; }
    return { ok: response.ok, status: response.status, data };
  }

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const file = fileInput.files && fileInput.files[0];
    if (!file) { say(messages.no_file, true); fileInput.focus(); return; }
    if (!password.value) { say(messages.no_password, true); password.focus(); return; }
    button.disabled = true;
    try {
      say(messages.reading);
      const buffer = await file.arrayBuffer();
      await showCertificate(buffer);
      const challenge = await postJSON("/api/v1/auth/challenge");
      if (!challenge.ok) {
        const code = challenge.data && challenge.data.error && challenge.data.error.code;
        say(explain(code), true);
        return;
      }
      say(messages.signing);
      const signature = await window.DSOMQES.signChallenge(
        buffer, password.value, challenge.data.challenge);
      say(messages.checking);
      const login = await postJSON("/api/v1/auth/qes", {
        challenge: challenge.data.challenge, signature });
      if (login.ok) {
        password.value = "";
        window.location.assign(form.dataset.next || "/office");
        return;
      }
      const code = login.data && login.data.error && login.data.error.code;
      say(explain(code), true);
    } catch (err) {
      say(explain(err && err.code), true);
    } finally {
      button.disabled = false;
    }
  });
})();
