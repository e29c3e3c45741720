// The consent wizard's steps, over one ordinary form. Without this script the form is one page
// and the server checks every answer; with it, one question at a time:
// - "Step n of N" with Back and Next, focus on the step's heading at each change;
// - Next checks the step's answers and lists what is missing in the error summary, which takes
//   focus and links to each field (the server's own summary works the same way);
// - parts that apply only to some answers are shown only then (data-show-when="name=value",
//   data-hide-when-checked="name");
// - the country list can be searched; organizations are looked up as the person types;
// - a copy button for the person's id on "my consents" (data-copy).
(function () {
  "use strict";

  function checkedValues(form, name) {
    return Array.prototype.map.call(
      form.querySelectorAll('input[name="' + name + '"]:checked'),
      function (input) {
        return input.value;
      }
    );
  }

  // --- Parts that apply only to some answers (the wizard and the onboarding page) -------------
  function applyConditions(form) {
    form.querySelectorAll("[data-show-when]").forEach(function (node) {
      var rule = node.getAttribute("data-show-when").split("=");
      node.hidden = checkedValues(form, rule[0]).indexOf(rule[1]) === -1;
    });
    form.querySelectorAll("[data-hide-when-checked]").forEach(function (node) {
      var name = node.getAttribute("data-hide-when-checked");
      var box = form.querySelector('input[name="' + name + '"]');
      // Hidden only while the box itself is shown and ticked ("every purpose" only for a refusal).
      node.hidden = Boolean(box && box.checked && !isHidden(box));
    });
  }

  // Hidden because of an answer (not because its step is not the one shown).
  function isHidden(node) {
    for (var el = node; el && el.nodeType === 1 && el.tagName !== "FORM"; el = el.parentElement) {
      if (el.classList.contains("wizard-step")) {
        return false;
      }
      if (el.hidden) {
        return true;
      }
    }
    return false;
  }

  document.querySelectorAll("form").forEach(function (form) {
    if (form.querySelector("[data-show-when], [data-hide-when-checked]")) {
      applyConditions(form);
      form.addEventListener("change", function () {
        applyConditions(form);
      });
    }
  });

  // --- Copy buttons ---------------------------------------------------------------------------
  document.querySelectorAll("[data-copy]").forEach(function (button) {
    button.hidden = false;
    button.addEventListener("click", function () {
      var text = button.getAttribute("data-copy");
      var status = document.getElementById(button.getAttribute("aria-controls") || "");
      var done = function () {
        if (status) {
          status.textContent = button.getAttribute("data-copied") || "";
        }
      };
      // Without clipboard access (a page not served over HTTPS), the id is selected instead,
      // ready for the person to copy themselves.
      var select = function () {
        var code = button.parentElement.querySelector("code");
        if (code && window.getSelection) {
          var range = document.createRange();
          range.selectNodeContents(code);
          window.getSelection().removeAllRanges();
          window.getSelection().addRange(range);
        }
      };
      if (navigator.clipboard && navigator.clipboard.writeText) {
        navigator.clipboard.writeText(text).then(done, select);
      } else {
        select();
      }
    });
  });

  var form = document.querySelector("form[data-wizard]");
  if (!form) {
    return;
  }
  var steps = Array.prototype.slice.call(form.querySelectorAll(".wizard-step"));
  var nav = form.querySelector(".wizard-nav");
  var back = form.querySelector("[data-wizard-back]");
  var next = form.querySelector("[data-wizard-next]");
  var submit = form.querySelector("[data-wizard-submit]");
  var summary = document.getElementById("error-summary");
  var current = 0;
  form.classList.add("wizard--steps");
  nav.hidden = false;
  nav.appendChild(submit); // "Review" takes Next's place on the last step


  function show(index, focus) {
    current = Math.max(0, Math.min(index, steps.length - 1));
    steps.forEach(function (step, i) {
      step.hidden = i !== current;
    });
    back.hidden = current === 0;
    next.hidden = current === steps.length - 1;
    submit.hidden = current !== steps.length - 1;
    if (focus) {
      var title = steps[current].querySelector(".wizard-step__title");
      if (title) {
        title.focus();
      }
    }
  }

  // What is missing in one step: [[field node, message]].
  function problems(step) {
    var found = [];
    step.querySelectorAll("[data-required]").forEach(function (node) {
      if (isHidden(node)) {
        return;
      }
      var inputs = node.querySelectorAll("input, select, textarea");
      var ok = Array.prototype.some.call(inputs, function (input) {
        if (input.type === "checkbox" || input.type === "radio") {
          return input.checked;
        }
        return input.value.trim() !== "";
      });
      if (!ok) {
        found.push([node, node.getAttribute("data-required")]);
      }
    });
    // The browser's own checks (a number out of range, a date it cannot read).
    step.querySelectorAll("input, textarea").forEach(function (input) {
      if (!isHidden(input) && input.willValidate && !input.checkValidity()) {
        var node = input.closest(".field") || input;
        if (!found.some(function (pair) { return pair[0] === node; })) {
          found.push([node, input.validationMessage]);
        }
      }
    });
    return found;
  }

  function labelOf(node) {
    var step = node.closest(".wizard-step");
    var label = node.querySelector(".field__label");
    var text = label ? label.textContent : step.querySelector(".wizard-step__title").textContent;
    return text.trim();
  }

  function report(found) {
    var list = summary.querySelector(".error-summary__list");
    list.textContent = "";
    found.forEach(function (pair) {
      var item = document.createElement("li");
      var link = document.createElement("a");
      link.href = "#" + pair[0].id;
      link.textContent = labelOf(pair[0]) + ": " + pair[1];
      item.appendChild(link);
      list.appendChild(item);
    });
    summary.hidden = false;
    summary.focus();
  }

  function clearReport() {
    summary.hidden = true;
    summary.querySelector(".error-summary__list").textContent = "";
  }

  next.addEventListener("click", function () {
    var found = problems(steps[current]);
    if (found.length) {
      report(found);
      return;
    }
    clearReport();
    show(current + 1, true);
  });
  back.addEventListener("click", function () {
    clearReport();
    show(current - 1, true);
  });

  // Enter in a text box goes to the next step (or searches, in the organization search box)
  // instead of submitting the whole form half-answered.
  form.addEventListener("keydown", function (event) {
    var target = event.target;
    if (event.key !== "Enter" || target.tagName !== "INPUT" || target.type === "checkbox" || target.type === "radio") {
      return;
    }
    event.preventDefault();
    if (target.name === "org_query") {
      searchOrganizations();
    } else if (current < steps.length - 1) {
      next.click();
    }
  });

  // A link in the error summary opens the step holding that field and puts focus in it.
  summary.addEventListener("click", function (event) {
    var link = event.target.closest("a[href^='#']");
    if (!link) {
      return;
    }
    var target = document.getElementById(link.getAttribute("href").slice(1));
    var step = target && target.closest(".wizard-step");
    if (!step) {
      return;
    }
    event.preventDefault();
    show(steps.indexOf(step), false);
    var input = target.querySelector("input:not([type=hidden]), select, textarea") || target;
    input.focus();
  });

  // --- Countries: a search box over the checkbox list ---------------------------------------
  var countrySearch = form.querySelector(".country-search");
  var countryList = document.getElementById("country-list");
  if (countrySearch && countryList) {
    countrySearch.hidden = false;
    var box = document.getElementById("country-search");
    var count = document.getElementById("country-count");
    var fold = function (text) {
      return text.normalize("NFD").replace(/[\u0300-\u036f]/g, "").toLowerCase();
    };
    var chosenText = function () {
      var names = Array.prototype.map.call(countryList.querySelectorAll("input:checked"), function (input) {
        return input.nextElementSibling.textContent;
      });
      // Each country appears once in the list, but be safe about repeats.
      names = names.filter(function (name, i) {
        return names.indexOf(name) === i;
      });
      return names.length ? count.getAttribute("data-chosen").replace("{names}", names.join(", ")) : "";
    };
    var filter = function () {
      var query = fold(box.value.trim());
      var shown = 0;
      countryList.querySelectorAll(".country").forEach(function (label) {
        var match = !query || fold(label.textContent).indexOf(query) !== -1;
        label.hidden = !match;
        shown += match ? 1 : 0;
      });
      countryList.querySelectorAll(".country-list__group").forEach(function (group) {
        group.hidden = Boolean(query);
      });
      var parts = [];
      if (query) {
        parts.push(count.getAttribute("data-shown").replace("{count}", String(shown)));
      }
      var chosen = chosenText();
      if (chosen) {
        parts.push(chosen);
      }
      count.textContent = parts.join(" · ");
    };
    box.addEventListener("input", filter);
    countryList.addEventListener("change", filter);
    filter();
  }

  // --- Organizations: looked up as the person types (the page itself answers ?org_query=) ------
  var orgBox = form.querySelector('input[name="org_query"]');
  var orgButton = form.querySelector('button[name="find_org"]');
  var orgOptions = document.getElementById("grantee-options");
  var orgStatus = document.getElementById("org-results-status");
  var timer = null;
  var asked = 0;

  function searchOrganizations() {
    var query = orgBox.value.trim();
    var ticket = ++asked;
    var url = window.location.pathname + "?org_query=" + encodeURIComponent(query);
    window
      .fetch(url, { credentials: "same-origin", headers: { Accept: "text/html" } })
      .then(function (response) {
        return response.ok ? response.text() : Promise.reject(response.status);
      })
      .then(function (html) {
        if (ticket !== asked) {
          return; // an older answer arriving late
        }
        var page = new DOMParser().parseFromString(html, "text/html");
        var fresh = page.getElementById("grantee-options");
        var status = page.getElementById("org-results-status");
        if (!fresh) {
          return;
        }
        // The organization already chosen stays on offer, chosen.
        var chosen = orgOptions.querySelector('input[name="grantee"]:checked');
        var keep = chosen && chosen.value !== "*" ? chosen.closest(".choice") : null;
        var group = fresh.querySelector(".choices");
        if (keep && !fresh.querySelector('input[name="grantee"][value="' + CSS.escape(chosen.value) + '"]')) {
          var anyone = group.querySelector(".choice");
          var copy = document.importNode(keep, true);
          // Its id would repeat one of the fresh options' ids.
          copy.querySelector("input").id = "id_grantee_kept";
          copy.setAttribute("for", "id_grantee_kept");
          group.insertBefore(copy, anyone ? anyone.nextSibling : null);
        }
        orgOptions.innerHTML = fresh.innerHTML;
        if (chosen) {
          var again = orgOptions.querySelector('input[name="grantee"][value="' + CSS.escape(chosen.value) + '"]');
          if (again) {
            again.checked = true;
          }
        }
        orgStatus.textContent = status ? status.textContent : "";
      })
      .catch(function () {});
  }

  if (orgBox && orgOptions) {
    orgBox.addEventListener("input", function () {
      window.clearTimeout(timer);
      timer = window.setTimeout(searchOrganizations, 250);
    });
    if (orgButton) {
      orgButton.addEventListener("click", function (event) {
        event.preventDefault();
        searchOrganizations();
      });
    }
  }

  // Back from the server with errors: open the first step with one, the summary takes focus.
  var invalid = form.querySelector(".field--invalid");
  var start = invalid ? steps.indexOf(invalid.closest(".wizard-step")) : 0;
  show(start === -1 ? 0 : start, false);
  if (!summary.hidden) {
    summary.focus();
  }
})();
