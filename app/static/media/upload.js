// Recordings page: upload straight to S3 with a presigned POST, then ask the app to check it.
// A static file (the CSP allows no inline script). Messages are written with textContent only.
"use strict";

(function () {
  const POLL_MS = 3000;
  const MAX_POLLS = 200;

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
          reject(new Error("The storage refused the file (HTTP " + xhr.status + ")."));
        }
      };
      xhr.onerror = function () {
        reject(new Error("The file could not be sent to the storage."));
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
        say(status, "Choose a file first.", true);
        return;
      }
      if (allowed.indexOf(file.type) === -1) {
        say(status, "This file type (" + (file.type || "unknown") + ") is not accepted. Upload audio or video.", true);
        return;
      }
      if (file.size < 1 || file.size > maxBytes) {
        say(status, "The file must have between 1 and " + maxBytes + " bytes.", true);
        return;
      }
      button.disabled = true;
      progress.hidden = false;
      percent.hidden = false;
      progress.value = 0;
      percent.textContent = "0 %";
      try {
        say(status, "Preparing the upload…", false);
        const issued = await postJson(form.action, csrfToken(form), { name: file.name, type: file.type, size: file.size });
        if (!issued.ok) {
          throw new Error(issued.data.error || "The upload could not be started (HTTP " + issued.status + ").");
        }
        say(status, "Uploading…", false);
        await sendToStorage(issued.data.upload, file, function (fraction) {
          progress.value = fraction;
          percent.textContent = Math.floor(fraction * 100) + " %";
        });
        progress.value = 1;
        percent.textContent = "100 %";
        say(status, "Checking the file…", false);
        const confirmed = await postJson(issued.data.confirm_url, csrfToken(form));
        if (!confirmed.ok) {
          throw new Error(confirmed.data.error || "The file could not be checked (HTTP " + confirmed.status + ").");
        }
        say(status, "Uploaded: " + confirmed.data.status_label + ".", false);
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
