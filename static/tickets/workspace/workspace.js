/* The engineer's workspace: queue keyboard and bulk bar, ticket page helpers.
   Plain JS, no build step. Everything works without it except the shortcuts,
   the live countdowns, drag and drop, macros and the presence heartbeat. */
(function () {
  "use strict";

  function typingInField(event) {
    var el = event.target;
    return el && (el.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(el.tagName));
  }

  function csrfToken() {
    var input = document.querySelector("input[name=csrfmiddlewaretoken]");
    return input ? input.value : "";
  }

  /* --- help overlay (both pages) --- */
  var help = document.getElementById("ws-help");
  function toggleHelp(show) {
    if (!help) return;
    help.hidden = show === undefined ? !help.hidden : !show;
    if (!help.hidden) help.querySelector("[data-ws-close]").focus();
  }
  document.querySelectorAll("[data-ws-help]").forEach(function (button) {
    button.addEventListener("click", function () { toggleHelp(true); });
  });
  if (help) {
    help.addEventListener("click", function (event) {
      if (event.target === help || event.target.hasAttribute("data-ws-close")) toggleHelp(false);
    });
  }

  /* --- live SLA countdowns (both pages) --- */
  var root = document.getElementById("ws-queue") || document.getElementById("ws-ticket");
  var serverNow = root && root.dataset.now ? Date.parse(root.dataset.now) : Date.now();
  var skew = serverNow - Date.now();  // trust the server's clock, not the laptop's

  function duration(ms) {
    var minutes = Math.floor(Math.abs(ms) / 60000);
    var days = Math.floor(minutes / 1440), hours = Math.floor((minutes % 1440) / 60);
    var mins = minutes % 60;
    if (days) return days + "d " + hours + "h";
    if (hours) return hours + "h " + mins + "m";
    return mins + "m";
  }
  function tick() {
    var now = Date.now() + skew;
    document.querySelectorAll("[data-ws-due]").forEach(function (el) {
      var label = el.querySelector("[data-ws-countdown]");
      if (!label) return;
      var left = Date.parse(el.dataset.wsDue) - now;
      label.textContent = left >= 0 ? duration(left) + " left" : duration(left) + " late";
      if (left < 0 && el.classList.contains("sla-on_track") || left < 0 && el.classList.contains("sla-at_risk")) {
        el.className = "sla-state sla-breached";
      }
    });
  }
  tick();
  setInterval(tick, 30000);

  /* --- the queue --- */
  var queue = document.getElementById("ws-queue");
  if (queue) {
    var rows = Array.prototype.slice.call(queue.querySelectorAll("[data-ws-row]"));
    var current = -1;
    var bulk = document.getElementById("ws-bulk");
    var counter = queue.querySelector("[data-ws-selected]");
    var all = queue.querySelector("[data-ws-all]");
    var action = document.getElementById("ws-bulk-action");

    function highlight(index) {
      if (!rows.length) return;
      current = Math.max(0, Math.min(rows.length - 1, index));
      rows.forEach(function (row, i) {
        row.classList.toggle("is-current", i === current);
        row.setAttribute("aria-selected", i === current ? "true" : "false");
      });
      rows[current].scrollIntoView({ block: "nearest" });
    }
    function boxes() { return queue.querySelectorAll("input[name=tickets]"); }
    function updateCount() {
      var n = queue.querySelectorAll("input[name=tickets]:checked").length;
      if (counter) counter.textContent = n;
      queue.classList.toggle("has-selection", n > 0);
      rows.forEach(function (row) {
        row.classList.toggle("is-selected", row.querySelector("input[name=tickets]").checked);
      });
    }
    function showValueFor(name) {
      if (!bulk) return;
      bulk.querySelectorAll("[data-for]").forEach(function (el) {
        var on = el.dataset.for.split(" ").indexOf(name) >= 0;
        el.hidden = !on;
        el.disabled = !on;
        if (on && el.dataset["placeholder" + name.charAt(0).toUpperCase() + name.slice(1)]) {
          el.placeholder = el.dataset["placeholder" + name.charAt(0).toUpperCase() + name.slice(1)];
        }
      });
    }
    if (action) {
      action.addEventListener("change", function () { showValueFor(action.value); });
      showValueFor(action.value);
    }
    if (all) {
      all.addEventListener("change", function () {
        boxes().forEach(function (box) { box.checked = all.checked; });
        updateCount();
      });
    }
    queue.addEventListener("change", function (event) {
      if (event.target.name === "tickets") updateCount();
    });
    if (bulk) {
      bulk.addEventListener("submit", function (event) {
        if (!queue.querySelector("input[name=tickets]:checked")) {
          event.preventDefault();
          alert(gettextOr("Select tickets first (x or the checkboxes)."));
        }
      });
    }
    rows.forEach(function (row, i) {
      row.addEventListener("click", function (event) {
        if (event.target.closest("a, input, label")) return;
        highlight(i);
      });
    });

    function assignToMe() {
      if (current < 0) return;
      var form = document.createElement("form");
      form.method = "post";
      form.action = queue.dataset.assignUrl.replace("/0/", "/" + rows[current].dataset.id + "/");
      [["csrfmiddlewaretoken", csrfToken()], ["view", bulk.querySelector("input[name=view]").value]].forEach(function (pair) {
        var input = document.createElement("input");
        input.type = "hidden"; input.name = pair[0]; input.value = pair[1];
        form.appendChild(input);
      });
      document.body.appendChild(form);
      form.submit();
    }

    document.addEventListener("keydown", function (event) {
      if (event.key === "Escape") { toggleHelp(false); if (typingInField(event)) event.target.blur(); return; }
      if (typingInField(event) || event.ctrlKey || event.metaKey || event.altKey) return;
      if (event.key === "j") { highlight(current + 1); event.preventDefault(); }
      else if (event.key === "k") { highlight(current - 1); event.preventDefault(); }
      else if (event.key === "Enter" && current >= 0) { window.location = rows[current].dataset.href; }
      else if (event.key === "x" && current >= 0) {
        var box = rows[current].querySelector("input[name=tickets]");
        box.checked = !box.checked; updateCount();
      }
      else if (event.key === "a" && current >= 0) { assignToMe(); }
      else if (event.key === "/") { event.preventDefault(); document.getElementById("ws-search").focus(); }
      else if (event.key === "?") { toggleHelp(); }
    });
    updateCount();
  }

  function gettextOr(text) { return window.gettext ? window.gettext(text) : text; }

  /* --- the ticket page --- */
  var page = document.getElementById("ws-ticket");
  if (page) {
    var form = document.getElementById("ws-ticket-form");
    var reply = form.querySelector("textarea[name=reply]");
    var priority = form.querySelector("select[name=priority]");
    var reasonBox = form.querySelector("[data-ws-reason]");
    var initialPriority = priority ? priority.value : "";
    var dirty = false;

    function syncReason() {
      if (!reasonBox) return;
      reasonBox.hidden = !(reasonBox.dataset.keep || priority.value !== initialPriority);
    }
    if (priority) { priority.addEventListener("change", syncReason); syncReason(); }

    function visibility(value) {
      var radio = form.querySelector("input[name=reply_visibility][value=" + value + "]");
      if (radio) { radio.checked = true; radio.dispatchEvent(new Event("change", { bubbles: true })); }
    }
    function syncVisibility() {
      var checked = form.querySelector("input[name=reply_visibility]:checked");
      var internal = checked && checked.value === "internal";
      form.classList.toggle("is-internal", internal);
      if (reply) reply.placeholder = internal ? gettextOr("Internal note: customers never see it") : gettextOr("Public reply: the customer sees it");
    }
    form.addEventListener("change", function (event) {
      if (event.target.name === "reply_visibility") syncVisibility();
      dirty = true;
    });
    syncVisibility();
    if (reply) reply.addEventListener("input", function () { dirty = true; });

    /* Ctrl+Enter saves; r / n pick public reply or note; u goes back. */
    document.addEventListener("keydown", function (event) {
      if (event.key === "Escape") { toggleHelp(false); return; }
      if (event.key === "Enter" && (event.ctrlKey || event.metaKey) && event.target === reply) {
        event.preventDefault(); document.getElementById("ws-save").click(); return;
      }
      if (typingInField(event) || event.ctrlKey || event.metaKey || event.altKey) return;
      if (event.key === "r" || event.key === "n") {
        event.preventDefault(); visibility(event.key === "r" ? "public" : "internal"); reply.focus();
      } else if (event.key === "u") { window.location = page.dataset.queueUrl; }
      else if (event.key === "?") { toggleHelp(); }
    });

    /* Macros: insert the rendered text and set the fields it names (nothing is
       saved until the engineer presses Save). */
    var macros = JSON.parse((document.getElementById("ws-macros") || { textContent: "[]" }).textContent);
    var picker = document.getElementById("ws-macro");
    var applied = document.getElementById("ws-macro-applied");
    function setField(name, value) {
      var field = form.querySelector("[name=" + name + "]");
      if (!field || value === null || value === undefined) return "";
      field.value = String(value);
      field.dispatchEvent(new Event("change", { bubbles: true }));
      return field.options ? field.options[field.selectedIndex].text : String(value);
    }
    if (picker) {
      picker.addEventListener("change", function () {
        var macro = macros.filter(function (m) { return String(m.id) === picker.value; })[0];
        picker.value = "";
        if (!macro) return;
        var start = reply.selectionStart, end = reply.selectionEnd, text = reply.value;
        var insert = macro.body;
        if (text && start === text.length && !/\n$/.test(text)) insert = "\n\n" + insert;
        reply.value = text.slice(0, start) + insert + text.slice(end);
        reply.selectionStart = reply.selectionEnd = start + insert.length;
        visibility(macro.internal ? "internal" : "public");
        var notes = [];
        if (macro.status) notes.push(setField("status", macro.status));
        if (macro.priority !== null) {
          notes.push(setField("priority", macro.priority));
          var reason = form.querySelector("[name=priority_change_reason]");
          if (reason && !reason.value) reason.value = macro.priority_reason;
        }
        if (macro.assignee !== null) notes.push(setField("assignee", macro.assignee) || gettextOr("Unassigned"));
        if (applied) {
          applied.hidden = !notes.length;
          applied.textContent = notes.length ? gettextOr("The macro also set: ") + notes.join(", ") + gettextOr(" (applied when you save)") : "";
        }
        dirty = true;
        reply.focus();
      });
    }

    /* Attachments by drag and drop, into the form's own file input. */
    var drop = document.getElementById("ws-drop");
    var input = drop && drop.querySelector("input[type=file]");
    var list = document.getElementById("ws-drop-list");
    function showFiles() {
      list.innerHTML = "";
      Array.prototype.forEach.call(input.files, function (file) {
        var li = document.createElement("li");
        li.textContent = file.name + " (" + Math.max(1, Math.round(file.size / 1024)) + " KB)";
        list.appendChild(li);
      });
    }
    if (input) {
      ["dragenter", "dragover"].forEach(function (name) {
        drop.addEventListener(name, function (event) { event.preventDefault(); drop.classList.add("is-over"); });
      });
      ["dragleave", "drop"].forEach(function (name) {
        drop.addEventListener(name, function () { drop.classList.remove("is-over"); });
      });
      drop.addEventListener("drop", function (event) {
        event.preventDefault();
        var transfer = new DataTransfer();
        Array.prototype.forEach.call(input.files, function (file) { transfer.items.add(file); });
        Array.prototype.forEach.call(event.dataTransfer.files, function (file) { transfer.items.add(file); });
        input.files = transfer.files;
        showFiles();
        dirty = true;
      });
      input.addEventListener("change", showFiles);
    }

    /* Presence and "changed since you opened it": a heartbeat to the server. */
    var presence = document.getElementById("ws-presence");
    var changed = document.getElementById("ws-changed");
    var seen = form.querySelector("input[name=seen]");
    function beat() {
      var body = new URLSearchParams();
      body.set("seen", seen ? seen.value : "");
      body.set("typing", dirty ? "1" : "0");
      fetch(page.dataset.heartbeatUrl, {
        method: "POST",
        headers: { "X-CSRFToken": csrfToken() },
        body: body,
        credentials: "same-origin",
      }).then(function (response) { return response.ok ? response.json() : null; })
        .then(function (data) {
          if (!data) return;
          var names = data.others.map(function (o) { return o.name + (o.typing ? " " + gettextOr("(typing)") : ""); });
          presence.hidden = !names.length;
          presence.textContent = names.length ? names.join(", ") + " " + gettextOr("also has this ticket open.") : "";
          if (changed) changed.hidden = !data.changed;
        }).catch(function () { /* offline for a moment: try again next beat */ });
    }
    beat();
    setInterval(beat, 1000 * Number(page.dataset.heartbeatSeconds || 20));

    /* Keep the engineer where they were: scroll to the newest entry on open. */
    if (!window.location.hash && !document.getElementById("ws-collision")) {
      var entries = page.querySelectorAll(".ws-thread > li");
      if (entries.length > 1) entries[entries.length - 1].scrollIntoView({ block: "center" });
    }
    window.addEventListener("beforeunload", function (event) {
      if (dirty && reply && reply.value.trim() && !form.dataset.submitting) { event.preventDefault(); event.returnValue = ""; }
    });
    form.addEventListener("submit", function () { form.dataset.submitting = "1"; });
  }
})();
