// Recordings page: upload straight to S3 with a presigned POST, then ask the app to check it.
// A static file (the CSP allows no inline script). Messages are written with textContent only.
// Every text it shows comes from the page, translated: the JSON block #upload-messages (json_script).
"use strict";

(function () {
  const POLL_MS = 3000;
  const MAX_POLLS = 200;

  function loadMessages() {
    const node = document.getElementById("upload-messages");
    try {
      return node ? JSON.parse(node.textContent) : {};
    } catch (_err) {
      return {};
    }
  }

  const MESSAGES = loadMessages();

  // The message `key`, its {name} placeholders filled in from `values`.
  function text(key, values) {
    const template = Object.prototype.hasOwnProperty.call(MESSAGES, key) ? String(MESSAGES[key]) : key;
    return template.replace(/\{(\w+)\}/g, function (match, name) {
      return values && Object.prototype.hasOwnProperty.call(values, name) ? String(values[name]) : match;
    });
  }

  function csrfToken(form) {
    const input = form.querySelector("input[name=csrfmiddlewaretoken]");
    return input ? input.value : "";
  }

  function say(node, text, isError) {
    node.textContent = text;
    node.classList.toggle("error", Boolean(isError));
  }

  async function postJson(url, token, body) {
    const response = await fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRFToken": token, Accept: "application/json" },
      body: body === undefined ? "{}" : JSON.stringify(body),
    });
    let data = {};
    try {
      data = await response.json();
    } catch (_err) {
      data = {};
    }
    return { ok: response.ok, status: response.status, data: data };
  }

  function sendToStorage(upload, file, onProgress) {
    return new Promise(function (resolve, reject) {
      const data = new FormData();
      Object.keys(upload.fields).forEach(function (name) {
        data.append(name, upload.fields[name]);
      });
      data.append("file", file); // S3 requires the file to be the last field
      const xhr = new XMLHttpRequest();
      xhr.open("POST", upload.url);
      xhr.upload.onprogress = function (event) {
        if (event.lengthComputable) {
          onProgress(event.loaded / event.total);
        }
      };
      xhr.onload = function () {
        if (xhr.status >= 200 && xhr.status < 300) {
          resolve();
        } else {
          reject(new Error(text("storage_refused", { status: xhr.status })));
        }
      };
      xhr.onerror = function () {
        reject(new Error(text("storage_failed")));
      };
      xhr.send(data);
    });
  }

  function setUpUpload(form) {
    const input = document.getElementById("upload-file");
    const button = document.getElementById("upload-button");
    const progress = document.getElementById("upload-progress");
    const percent = document.getElementById("upload-percent");
    const status = document.getElementById("upload-status");
    const allowed = (form.dataset.allowedTypes || "").split(" ").filter(Boolean);
    const maxBytes = Number(form.dataset.maxBytes || "0");

    form.addEventListener("submit", async function (event) {
      event.preventDefault();
      const file = input.files && input.files[0];
      if (!file) {
        say(status, text("choose"), true);
        return;
      }
      if (allowed.indexOf(file.type) === -1) {
        say(status, text("bad_type", { type: file.type || text("unknown_type") }), true);
        return;
      }
      if (file.size < 1 || file.size > maxBytes) {
        say(status, text("bad_size"), true);
        return;
      }
      button.disabled = true;
      progress.hidden = false;
      percent.hidden = false;
      progress.value = 0;
      percent.textContent = text("percent", { percent: 0 });
      try {
        say(status, text("preparing"), false);
        const issued = await postJson(form.action, csrfToken(form), { name: file.name, type: file.type, size: file.size });
        if (!issued.ok) {
          throw new Error(issued.data.error || text("start_failed", { status: issued.status }));
        }
        say(status, text("uploading"), false);
        await sendToStorage(issued.data.upload, file, function (fraction) {
          progress.value = fraction;
          percent.textContent = text("percent", { percent: Math.floor(fraction * 100) });
        });
        progress.value = 1;
        percent.textContent = text("percent", { percent: 100 });
        say(status, text("checking"), false);
        const confirmed = await postJson(issued.data.confirm_url, csrfToken(form));
        if (!confirmed.ok) {
          throw new Error(confirmed.data.error || text("check_failed", { status: confirmed.status }));
        }
        say(status, text("uploaded", { status: confirmed.data.status_label }), false);
        window.location.assign(form.dataset.listUrl);
      } catch (err) {
        say(status, err.message, true);
        button.disabled = false;
      }
    });
  }

  function pollScans() {
    const rows = Array.prototype.slice.call(document.querySelectorAll("tr[data-status='scanning']"));
    if (rows.length === 0) {
      return;
    }
    let polls = 0;
    const timer = window.setInterval(async function () {
      polls += 1;
      if (polls > MAX_POLLS) {
        window.clearInterval(timer);
        return;
      }
      for (const row of rows) {
        try {
          const response = await fetch(row.dataset.statusUrl, { credentials: "same-origin", headers: { Accept: "application/json" } });
          if (response.status === 404) {
            // removed (a threat was found, or deleted elsewhere): show the list as it is now
            window.clearInterval(timer);
            window.location.reload();
            return;
          }
          if (!response.ok) {
            continue;
          }
          const data = await response.json();
          if (data.status !== row.dataset.status) {
            window.clearInterval(timer);
            window.location.reload();
            return;
          }
        } catch (_err) {
          // a network hiccup: try again at the next tick
        }
      }
    }, POLL_MS);
  }

  const form = document.getElementById("upload-form");
  if (form) {
    setUpUpload(form);
  }
  pollScans();
})();
