// Small helpers for every office page (our code; htmx does the rest).
(function () {
  "use strict";
  // Copy buttons: <button data-copy="#secret">: copies the target's text, says so.
  document.addEventListener("click", async (event) => {
    const button = event.target.closest("[data-copy]");
    if (!button) return;
    const target = document.querySelector(button.dataset.copy);
    if (!target) return;
    const text = target.value !== undefined ? target.value : target.textContent;
    try {
      await navigator.clipboard.writeText(text.trim());
    } catch (e) {
      const range = document.createRange();
      range.selectNodeContents(target);
      const sel = window.getSelection();
      sel.removeAllRanges();
      sel.addRange(range);
      document.execCommand("copy");
    }
    const label = button.textContent;
    button.textContent = button.dataset.copied || "✓";
    setTimeout(() => { button.textContent = label; }, 1500);
  });
  // An htmx request refused for want of a session sends the person to the login page.
  document.addEventListener("htmx:responseError", (event) => {
    const xhr = event.detail.xhr;
    const target = event.detail.target;
    if (xhr.status === 401) { window.location.assign("/login"); return; }
    const box = document.getElementById("flash");
    if (!box) return;
    let message = xhr.statusText;
    try { message = JSON.parse(xhr.responseText).error.message; } catch (e) {
      // An error page: its title and explanation.
      const page = new DOMParser().parseFromString(xhr.responseText, "text/html");
      const said = [page.querySelector("main h1"), page.querySelector("main .lead")]
        .filter(Boolean).map((node) => node.textContent.trim()).join(": ");
      if (said) message = said;
    }
    box.textContent = message;
    box.hidden = false;
    box.classList.add("error");
    if (target) target.setAttribute("aria-invalid", "true");
  });
})();
// A page whose address htmx changed (report filters) keeps it when the language changes.
document.addEventListener("htmx:pushedIntoHistory", () => {
  for (const link of document.querySelectorAll("a.lang[hreflang]")) {
    const url = new URL(window.location.href);
    url.searchParams.set("lang", link.getAttribute("hreflang"));
    link.href = url.pathname + url.search;
  }
});
