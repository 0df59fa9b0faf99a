/* Scalr Support portal: a collapsible menu on small screens and drag-and-drop
   onto file inputs. Everything works without it. */
(function () {
  "use strict";
  document.documentElement.classList.add("js");

  var toggle = document.querySelector(".nav-toggle");
  var menu = document.getElementById("site-menu");
  if (toggle && menu) {
    toggle.hidden = false;
    toggle.addEventListener("click", function () {
      var open = toggle.getAttribute("aria-expanded") === "true";
      toggle.setAttribute("aria-expanded", open ? "false" : "true");
      menu.classList.toggle("is-open", !open);
    });
  }

  function describe(input, list) {
    list.textContent = "";
    Array.prototype.forEach.call(input.files, function (file) {
      var item = document.createElement("li");
      item.textContent = file.name + " (" + Math.ceil(file.size / 1000) + " KB)";
      list.appendChild(item);
    });
  }

  Array.prototype.forEach.call(
    document.querySelectorAll('input[type="file"][multiple]'),
    function (input) {
      var zone = document.createElement("div");
      zone.className = "drop-zone";
      var hint = document.createElement("p");
      hint.className = "drop-hint";
      hint.textContent = input.getAttribute("data-drop-hint") || "Or drop files here";
      var list = document.createElement("ul");
      list.className = "drop-list";
      list.setAttribute("aria-live", "polite");
      input.parentNode.insertBefore(zone, input);
      zone.appendChild(input);
      zone.appendChild(hint);
      zone.appendChild(list);
      input.addEventListener("change", function () { describe(input, list); });
      zone.addEventListener("dragover", function (event) {
        event.preventDefault();
        zone.classList.add("is-over");
      });
      zone.addEventListener("dragleave", function () { zone.classList.remove("is-over"); });
      zone.addEventListener("drop", function (event) {
        event.preventDefault();
        zone.classList.remove("is-over");
        if (!event.dataTransfer || !window.DataTransfer) { return; }
        var merged = new DataTransfer();
        Array.prototype.forEach.call(input.files, function (f) { merged.items.add(f); });
        Array.prototype.forEach.call(event.dataTransfer.files, function (f) { merged.items.add(f); });
        input.files = merged.files;
        describe(input, list);
      });
    }
  );
})();
