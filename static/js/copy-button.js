// A <button data-copy-from="ID" data-copy-status="ID" hidden> copies the value (or text) of element ID
// and says so in its status element (role="status", aria-live="polite"), in the page's language
// (data-copied, data-copy-failed). Buttons stay hidden without scripts: the text is still there
// to select. No inline script: the Content-Security-Policy allows only files from this site.
// (wizard.js's data-copy holds the text itself; this name differs so the two never meet.)
(function () {
  "use strict";

  function textOf(node) {
    return "value" in node ? node.value : node.textContent;
  }

  function copyBySelection(node, button) {
    // Browsers without the asynchronous clipboard (or without permission) still copy a selection.
    if (typeof node.select !== "function") {
      return false;
    }
    node.focus();
    node.select();
    var done = false;
    try {
      done = document.execCommand("copy");
    } catch (error) {
      done = false;
    }
    // Keyboard users stay where they were.
    button.focus();
    return done;
  }

  function say(status, message) {
    if (!status) {
      return;
    }
    // Emptied first so that a second "Copied" is announced again.
    status.textContent = "";
    window.setTimeout(function () {
      status.textContent = message;
    }, 50);
  }

  document.querySelectorAll("button[data-copy-from]").forEach(function (button) {
    var source = document.getElementById(button.getAttribute("data-copy-from"));
    var status = document.getElementById(button.getAttribute("data-copy-status"));
    if (!source) {
      return;
    }
    button.hidden = false;
    button.addEventListener("click", function () {
      var text = textOf(source);
      var copied = button.getAttribute("data-copied") || "Copied";
      var failed = button.getAttribute("data-copy-failed") || "";
      if (navigator.clipboard && window.isSecureContext) {
        navigator.clipboard.writeText(text).then(
          function () {
            say(status, copied);
          },
          function () {
            say(status, copyBySelection(source, button) ? copied : failed);
          }
        );
      } else {
        say(status, copyBySelection(source, button) ? copied : failed);
      }
    });
  });
})();
