// Progressive enhancement of the playground's forms: post them with fetch and swap the transcript
// in place, so the page does not reload. Without this file every form still works (post, redirect).
(function () {
  "use strict";
  var statusEl = null;
  var pending = 0;  // posts in flight; the transcript is aria-busy while there are any

  function say(text) { if (statusEl) { statusEl.textContent = text; } }

  function enhance(form) {
    if (form.dataset.enhanced) { return; }
    form.dataset.enhanced = "1";
    form.addEventListener("submit", function (event) {
      var transcript = document.getElementById("transcript");
      if (!transcript || !window.fetch) { return; }
      event.preventDefault();
      // A press locks every button of its entry, not just its own: a quiz question's other options
      // pressed before the reply would answer a question that is already answered (and the last
      // question's reply, the chart, takes a moment to draw).
      var scope = form.closest(".entry") || form;
      var buttons = scope.querySelectorAll("button");
      buttons.forEach(function (b) { b.disabled = true; });
      pending += 1;
      transcript.setAttribute("aria-busy", "true");
      say("careerbot is answering…");
      fetch(form.action, {
        method: "POST", body: new FormData(form), credentials: "same-origin",
        headers: { "X-Requested-With": "careerbot" }
      }).then(function (response) {
        return response.json().then(function (data) { return { ok: response.ok, data: data }; });
      }).then(function (result) {
        if (!result.ok || result.data.error) {
          say(result.data.error || "Something went wrong. Try again.");
          return;
        }
        transcript.innerHTML = result.data.html;  // server-rendered, escaped HTML
        transcript.querySelectorAll("form[data-enhance]").forEach(enhance);
        var text = form.querySelector("textarea");
        if (text) { text.value = ""; }
        var target = document.getElementById(result.data.focus);
        // A hidden live region reads the new reply once (not the whole swapped transcript).
        say("");
        var announce = document.getElementById("announce");
        var body = target && target.querySelector(".body");
        if (announce && body) { announce.textContent = "careerbot: " + body.textContent.trim().slice(0, 500); }
        if (target) { target.scrollIntoView({ block: "nearest" }); if (!text) { target.focus(); } }
      }).catch(function () {
        say("Could not reach careerbot. Check your connection and try again.");
      }).finally(function () {
        buttons.forEach(function (b) { b.disabled = false; });
        pending -= 1;
        if (!pending) { transcript.removeAttribute("aria-busy"); }
      });
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    statusEl = document.getElementById("status");
    document.querySelectorAll("form[data-enhance]").forEach(enhance);
    var text = document.getElementById("text");
    if (text) {
      text.addEventListener("keydown", function (event) {
        if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
          event.preventDefault();
          if (text.value.trim()) { text.form.requestSubmit(); }
        }
      });
    }
  });
}());
