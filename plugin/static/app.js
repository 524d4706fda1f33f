/* Creator ROI admin: enhances the server-rendered pages (no framework, no build step).
   Forms post to the JSON API and show its {"errors": {field: [..]}} at the field, keeping the
   input; links and refreshes carry a fresh session token (App Bridge's, else the page's). */
(function () {
  "use strict";

  var tokenMeta = document.querySelector('meta[name="creator-roi-token"]');
  var pageToken = tokenMeta ? tokenMeta.getAttribute("content") : "";
  var FORM_LEVEL = ["_schema", "_form", "body", "session_token", "id", "shopify"];

  function appBridge() {
    return window.shopify && typeof window.shopify.idToken === "function" ? window.shopify : null;
  }

  function token() {
    var bridge = appBridge();
    if (!bridge) return Promise.resolve(pageToken);
    return Promise.resolve(bridge.idToken()).catch(function () { return pageToken; });
  }

  function apiFetch(url, options, retried) {
    options = options || {};
    return token().then(function (t) {
      var headers = Object.assign({ Accept: "application/json" }, options.headers || {});
      if (t) headers.Authorization = "Bearer " + t;
      return fetch(url, Object.assign({}, options, { headers: headers, credentials: "same-origin" }));
    }).then(function (res) {
      // An expired token: App Bridge mints a fresh one, so try once more.
      if (res.status === 401 && !retried && appBridge()) return apiFetch(url, options, true);
      return res;
    });
  }

  function go(url) {
    return token().then(function (t) {
      if (t) url.searchParams.set("id_token", t);
      window.location.assign(url.toString());
    });
  }

  /* --- toasts ----------------------------------------------------------------------- */
  var toastTimer;
  function toast(message, bad) {
    var bridge = window.shopify;
    if (bridge && bridge.toast && typeof bridge.toast.show === "function") {
      bridge.toast.show(message, { isError: !!bad });
      return;
    }
    var el = document.getElementById("toast");
    if (!el) return;
    el.textContent = message;
    el.className = "toast" + (bad ? " bad" : "");
    el.hidden = false;
    clearTimeout(toastTimer);
    toastTimer = setTimeout(function () { el.hidden = true; }, 4000);
  }

  /* --- navigation inside the app ------------------------------------------------------ */
  document.addEventListener("click", function (event) {
    var link = event.target.closest && event.target.closest("a[href]");
    if (!link || event.defaultPrevented || event.button !== 0 ||
        event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
    if ((link.target && link.target !== "_self") || link.hasAttribute("download")) return;
    if (link.getAttribute("href").charAt(0) === "#") return;  // within the page (the skip link)
    var url = new URL(link.getAttribute("href"), window.location.href);
    if (url.origin !== window.location.origin || url.pathname.indexOf("/app") !== 0) return;
    event.preventDefault();
    if (link.dataset.sort && sortInPlace(link)) return;
    go(url);
  });

  /* --- sorting (in place when the table holds every row, else the server sorts) -------- */
  function cellValue(cell) {
    return cell ? (cell.hasAttribute("data-value") ? cell.getAttribute("data-value") : cell.textContent.trim()) : "";
  }

  function sortInPlace(link) {
    var th = link.closest("th"), table = link.closest("table");
    if (!table || !table.hasAttribute("data-complete")) return false;
    var index = Array.prototype.indexOf.call(th.parentNode.children, th);
    var byText = link.dataset.sort === "label";
    var current = th.getAttribute("aria-sort");
    var dir = current === "descending" ? "ascending" : current === "ascending" ? "descending"
      : (byText ? "ascending" : "descending");
    var body = table.tBodies[0];
    var rows = Array.prototype.slice.call(body.rows);
    rows.sort(function (a, b) {
      var x = cellValue(a.cells[index]), y = cellValue(b.cells[index]);
      if (x === "" || y === "") return x === y ? 0 : x === "" ? 1 : -1;  // no value: last
      var cmp = byText ? x.localeCompare(y, undefined, { sensitivity: "base" }) : parseFloat(x) - parseFloat(y);
      return dir === "ascending" ? cmp : -cmp;
    });
    rows.forEach(function (row) { body.appendChild(row); });
    table.querySelectorAll("th[aria-sort]").forEach(function (h) { h.removeAttribute("aria-sort"); });
    th.setAttribute("aria-sort", dir);
    var url = new URL(window.location.href);
    url.searchParams.set("sort", link.dataset.sort);
    url.searchParams.set("dir", dir === "ascending" ? "asc" : "desc");
    url.searchParams.delete("id_token");
    window.history.replaceState(null, "", url.toString());
    return true;
  }

  /* --- CSV export of any table ----------------------------------------------------------- */
  function csvField(text) {
    text = String(text == null ? "" : text);
    if (/^[=+\-@\t\r]/.test(text) && isNaN(Number(text))) text = "'" + text;  // not a formula
    return /[",\r\n]/.test(text) ? '"' + text.replace(/"/g, '""') + '"' : text;
  }

  function cellText(cell, useValue) {
    if (useValue && cell.hasAttribute("data-value") && cell.getAttribute("data-value") !== "") {
      return cell.getAttribute("data-value");
    }
    var copy = cell.cloneNode(true);
    copy.querySelectorAll("button, img, s-badge, .badge").forEach(function (el) { el.remove(); });
    var text = copy.textContent.replace(/\s+/g, " ").trim();
    // The page's "—" means no value: a spreadsheet gets an empty cell.
    return useValue && text === "\u2014" ? "" : text;
  }

  function tableCsv(table) {
    return Array.prototype.map.call(table.rows, function (row) {
      var inHead = row.parentNode.tagName === "THEAD";
      return Array.prototype.filter.call(row.cells, function (cell) {
        return !cell.classList.contains("row-actions");
      }).map(function (cell) {
        return csvField(cellText(cell, !inHead));
      }).join(",");
    }).join("\r\n") + "\r\n";
  }

  function download(blob, filename) {
    var a = document.createElement("a");
    a.href = URL.createObjectURL(blob);
    a.download = filename;
    document.body.appendChild(a);
    a.click();
    setTimeout(function () { URL.revokeObjectURL(a.href); a.remove(); }, 1000);
  }

  function exportTable(button) {
    var name = button.dataset.filename || "table.csv";
    if (!button.dataset.csvUrl) {
      var table = document.getElementById(button.dataset.export);
      if (table) download(new Blob([tableCsv(table)], { type: "text/csv" }), name);
      return;
    }
    var url = new URL(button.dataset.csvUrl, window.location.href);
    var here = new URLSearchParams(window.location.search);
    ["sort", "dir"].forEach(function (k) { if (here.get(k)) url.searchParams.set(k, here.get(k)); });
    apiFetch(url.toString(), { headers: { Accept: "text/csv" } }).then(function (res) {
      if (!res.ok) throw new Error(String(res.status));
      // The server's name says what the file holds (grouping, range, filter).
      var given = /filename="([^"]+)"/.exec(res.headers.get("Content-Disposition") || "");
      if (given) name = given[1];
      return res.blob();
    }).then(function (blob) { download(blob, name); })
      .catch(function () { toast("Could not export the table", true); });
  }

  function copyText(text) {
    if (navigator.clipboard && window.isSecureContext) return navigator.clipboard.writeText(text);
    var area = document.createElement("textarea");
    area.value = text;
    area.setAttribute("readonly", "");
    area.style.position = "fixed";
    area.style.opacity = "0";
    document.body.appendChild(area);
    area.select();
    try { document.execCommand("copy"); } finally { area.remove(); }
    return Promise.resolve();
  }

  document.addEventListener("click", function (event) {
    var button = event.target.closest && event.target.closest("button[data-export], button[data-copy]");
    if (!button) return;
    if (button.dataset.export) exportTable(button);
    else copyText(button.dataset.copy).then(function () { toast("Copied"); },
                                            function () { toast("Could not copy", true); });
  });

  /* --- forms that write through the JSON API ------------------------------------------ */
  function setPath(data, name, value) {
    var keys = name.split("."), obj = data;
    for (var i = 0; i < keys.length - 1; i++) obj = obj[keys[i]] = obj[keys[i]] || {};
    obj[keys[keys.length - 1]] = value;
  }

  function formJson(form) {
    if (form.dataset.body) return JSON.parse(form.dataset.body);
    var data = {};
    Array.prototype.forEach.call(form.elements, function (el) {
      if (!el.name || el.disabled || el.closest("[hidden]") ||
          ["submit", "button", "file", "reset"].indexOf(el.type) >= 0) return;
      var type = el.dataset.type || "";
      if (el.type === "checkbox") {
        if (!el.checked && el.hasAttribute("data-omit-false")) return;
        setPath(data, el.name, el.checked);
        return;
      }
      var value = el.tagName === "TEXTAREA" ? el.value : el.value.trim();
      if (type === "list") {
        data[el.name] = data[el.name] || [];
        if (value) data[el.name].push(value);
        return;
      }
      if (value === "") {
        if (type === "nullable" || type === "nullable-int") setPath(data, el.name, null);
        return;
      }
      if ((type === "int" || type === "nullable-int") && /^-?\d+$/.test(value)) value = parseInt(value, 10);
      if (type === "datetime") {
        var moment = new Date(value);  // the browser's local time, sent as UTC
        if (!isNaN(moment.getTime())) value = moment.toISOString();
      }
      setPath(data, el.name, value);
    });
    return data;
  }

  function flatten(errors, prefix, out) {
    Object.keys(errors || {}).forEach(function (key) {
      var value = errors[key], name = prefix ? prefix + "." + key : key;
      if (/^\d+$/.test(key) && prefix) name = prefix;  // a list item's error belongs to the list
      if (Array.isArray(value)) {
        out[name] = (out[name] || []).concat(value.map(function (v) {
          return typeof v === "string" ? v : JSON.stringify(v);
        }));
      } else if (value && typeof value === "object") {
        flatten(value, name, out);
      } else {
        out[name] = (out[name] || []).concat([String(value)]);
      }
    });
    return out;
  }

  function clearErrors(form) {
    form.querySelectorAll("[data-error-for]").forEach(function (el) { el.hidden = true; el.textContent = ""; });
    form.querySelectorAll('[aria-invalid="true"]').forEach(function (el) { el.removeAttribute("aria-invalid"); });
  }

  function showErrors(form, errors) {
    var flat = flatten(errors, "", {}), first = null, general = [];
    Object.keys(flat).forEach(function (name) {
      var slot = FORM_LEVEL.indexOf(name) < 0 ? form.querySelector('[data-error-for="' + CSS.escape(name) + '"]') : null;
      var inputs = form.querySelectorAll('[name="' + CSS.escape(name) + '"]');
      if (!slot || !inputs.length) {
        general.push((FORM_LEVEL.indexOf(name) < 0 ? name.replace(/_/g, " ") + ": " : "") + flat[name].join(" "));
        return;
      }
      slot.textContent = flat[name].join(" ");
      slot.hidden = false;
      inputs.forEach(function (input) { input.setAttribute("aria-invalid", "true"); });
    });
    // The first wrong field as the page shows it (the answer's keys come in alphabetical order).
    first = Array.prototype.find.call(form.querySelectorAll('[aria-invalid="true"]'), function (input) {
      return !input.closest("[hidden]");
    }) || null;
    var box = form.querySelector('[data-error-for="_form"]');
    if (general.length && box) {
      box.textContent = general.join(" ");
      box.hidden = false;
    }
    if (first) {
      first.focus();
    } else if (box && general.length) {
      box.setAttribute("tabindex", "-1");
      box.focus();
    }
  }

  function refreshRegions(selectors) {
    var url = new URL(window.location.href);
    url.searchParams.delete("id_token");
    return apiFetch(url.toString(), { headers: { Accept: "text/html" } }).then(function (res) {
      if (!res.ok) throw new Error(String(res.status));
      return res.text();
    }).then(function (html) {
      var fresh = new DOMParser().parseFromString(html, "text/html");
      selectors.split(",").forEach(function (selector) {
        selector = selector.trim();
        var old = document.querySelector(selector), next = fresh.querySelector(selector);
        if (old && next) old.replaceWith(document.importNode(next, true));
        else if (old) old.remove();
      });
    });
  }

  function readCsv(form) {
    var file = form.querySelector('input[type="file"]');
    if (file && file.files && file.files[0]) return file.files[0].text();
    var area = form.querySelector("textarea");
    return Promise.resolve(area ? area.value : "");
  }

  function showImport(form, result) {
    var box = form.querySelector("[data-import-result]");
    if (!box) return;
    box.textContent = "";
    var summary = document.createElement("p");
    var failed = (result.errors || []).length;
    summary.textContent = "Imported " + result.created + " post" + (result.created === 1 ? "" : "s") +
      (failed ? "; " + failed + " line" + (failed === 1 ? "" : "s") + " need fixing:" : ".");
    box.appendChild(summary);
    if (!failed) return;
    var list = document.createElement("ul");
    result.errors.forEach(function (row) {
      var item = document.createElement("li"), flat = flatten(row.errors, "", {});
      item.textContent = "Line " + row.line + ": " + Object.keys(flat).map(function (k) {
        return k + ": " + flat[k].join(" ");
      }).join("; ");
      list.appendChild(item);
    });
    box.appendChild(list);
  }

  /* An answer shown once (a new statement link): the field named by data-result, as a link to copy. */
  function showResult(form, body) {
    var out = form.querySelector("[data-result]");
    var value = out && body ? body[out.dataset.result] : null;
    if (!value) return;
    var link = out.querySelector("a"), copy = out.querySelector("[data-copy]");
    if (link) { link.href = value; link.textContent = value; }
    if (copy) copy.dataset.copy = value;
    out.hidden = false;
  }

  function submitApi(form) {
    clearErrors(form);
    var method = form.dataset.method || "POST";
    var isCsv = form.hasAttribute("data-csv");
    var button = form.querySelector('button[type="submit"]');
    var prepared = isCsv ? readCsv(form).then(function (text) {
      if (!text.trim()) throw { errors: { _form: ["Choose a CSV file or paste the CSV."] } };
      return { body: text, headers: { "Content-Type": "text/csv" } };
    }) : Promise.resolve(method === "DELETE" ? { headers: {} } : {
      body: JSON.stringify(formJson(form)), headers: { "Content-Type": "application/json" }
    });
    if (button) button.disabled = true;
    return prepared.then(function (req) {
      return apiFetch(form.dataset.api, { method: method, body: req.body, headers: req.headers });
    }).then(function (res) {
      return res.text().then(function (text) {
        var body = null;
        try { body = text ? JSON.parse(text) : {}; } catch (e) { body = null; }
        if (res.ok) return body || {};
        if (res.status === 401) throw { errors: { _form: ["Your session expired. Reload the page to sign in again."] } };
        throw { errors: (body && body.errors) || { _form: ["The server answered " + res.status + ". Try again."] } };
      });
    }).then(function (body) {
      if (isCsv) showImport(form, body);
      showResult(form, body);
      if (!form.hasAttribute("data-keep") && !isCsv) form.reset();
      toast(form.dataset.done || (isCsv ? "Import finished" : "Saved"));
      var regions = form.dataset.refresh;
      return regions ? refreshRegions(regions).then(function () {
        if (!document.body.contains(form)) {
          var heading = document.querySelector("#main h1");
          if (heading) heading.focus();
        }
      }) : null;
    }).catch(function (failure) {
      if (failure && failure.errors) showErrors(form, failure.errors);
      else showErrors(form, { _form: ["Could not reach the app. Check your connection and try again."] });
      toast("Not saved: see the form", true);
    }).then(function () {
      if (button && document.body.contains(button)) button.disabled = false;
    });
  }

  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (form.matches("form[data-nav]")) {
      event.preventDefault();
      var url = new URL(form.getAttribute("action") || window.location.pathname, window.location.href);
      new FormData(form).forEach(function (value, key) { if (value !== "") url.searchParams.set(key, value); });
      go(url);
      return;
    }
    if (!form.matches("form[data-api]")) return;
    event.preventDefault();
    if (form.dataset.confirm && !window.confirm(form.dataset.confirm)) return;
    submitApi(form);
  });

  /* --- management time: hours × rate, shown as it is typed ------------------------------ */
  document.addEventListener("input", function (event) {
    var form = event.target.form;
    if (!form || !form.hasAttribute("data-hours-form")) return;
    var hours = form.elements.hours, rate = form.elements.hourly_rate, out = form.querySelector("[data-hours-total]");
    var category = form.elements.category;
    if (event.target === category) {
      var timed = category.value === "management_time";
      form.elements.amount.closest(".field").hidden = timed;
      [hours, rate].forEach(function (el) { el.closest(".field").hidden = category.value !== "" && !timed; });
    }
    if (!hours || !rate || !out) return;
    var h = parseFloat(hours.value), r = parseFloat(rate.value || rate.dataset.defaultRate);
    out.textContent = h > 0 && r >= 0 ? h + " h × " + r.toFixed(2) + " = " + (h * r).toFixed(2) : "";
  });

  /* --- sync health from /api/v1/sync ------------------------------------------------------ */
  function ago(iso) {
    var seconds = Math.max(0, (Date.now() - new Date(iso).getTime()) / 1000);
    var units = [[86400, "day"], [3600, "hour"], [60, "minute"]];
    for (var i = 0; i < units.length; i++) {
      if (seconds >= units[i][0]) {
        var n = Math.floor(seconds / units[i][0]);
        return n + " " + units[i][1] + (n === 1 ? "" : "s") + " ago";
      }
    }
    return "just now";
  }

  function loadSync() {
    var line = document.getElementById("sync");
    if (!line) return;
    apiFetch(line.dataset.url).then(function (res) {
      if (!res.ok) throw new Error(String(res.status));
      return res.json();
    }).then(function (s) {
      var last = s.last_received_at;
      var parts = [last ? "last update from Shopify " + ago(last) : "no updates received from Shopify yet",
                   (s.pending || 0) + " waiting", (s.failed || 0) + " failed"];
      line.textContent = "Sync: " + parts.join(" · ");
      line.classList.toggle("bad", (s.failed || 0) > 0);
      if (s.last_error) line.title = "Last error: " + s.last_error.topic + " — " + s.last_error.error;
    }).catch(function () {
      line.textContent = "Sync status unavailable right now.";
    });
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", loadSync);
  else loadSync();
})();
