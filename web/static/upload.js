// Usage-file upload with a progress bar. Without JavaScript the form posts
// as usual; with it, the same POST goes through XMLHttpRequest so that
// <progress> follows the upload (percent, rate, time left, as the billing
// run's page shows); once sent, it polls /finance/uploads/ID (ID: the
// form's upload field) for the rows the server has imported, with the rate
// and the time left, until the answer page replaces this one.
(function () {
  var form = document.getElementById("usage-form");
  if (!form || !window.XMLHttpRequest || !window.FormData) return;
  var bar = document.getElementById("upload-progress");
  var status = document.getElementById("upload-status");
  var en = document.documentElement.lang === "en";
  var upload = document.getElementById("f-upload");
  var poll = null;
  // importing shows the rows the server has imported so far.
  function importing() {
    var q = new XMLHttpRequest();
    q.open("GET", "/finance/uploads/" + encodeURIComponent(upload.value));
    q.onload = function () {
      if (q.status !== 200 || poll === null) return;
      var p = JSON.parse(q.responseText);
      if (p.estimated > 0) {
        bar.max = p.estimated;
        bar.value = p.rows;
        bar.textContent = p.percent + "%";
      }
      var rate = p.rate ? (en ? ", " + p.rate + " rows/s" : "、" + p.rate + " 行/秒") : "";
      var left = p.left && !p.ended ? (en ? ", about " + p.left + " left" : "、残り約 " + p.left) : "";
      status.textContent = en
        ? "Importing: " + p.rows + " rows" + (p.estimated > 0 ? " of about " + p.estimated : "") + rate + left
        : "取り込み中：" + p.rows + " 行" + (p.estimated > 0 ? "（推定 全 " + p.estimated + " 行）" : "") + rate + left;
    };
    q.send();
  }
  form.addEventListener("submit", function (ev) {
    ev.preventDefault();
    var xhr = new XMLHttpRequest();
    var started = Date.now();
    xhr.open("POST", form.action);
    xhr.upload.onprogress = function (e) {
      if (!e.lengthComputable) return;
      var p = Math.floor((e.loaded / e.total) * 100);
      var secs = Math.max((Date.now() - started) / 1000, 0.001);
      var rate = e.loaded / secs;
      var left = rate > 0 ? Math.ceil((e.total - e.loaded) / rate) : 0;
      bar.value = p;
      bar.textContent = p + "%";
      status.textContent = en
        ? p + "% sent (" + Math.round(rate / 1024) + " KiB/s, about " + left + " s left)"
        : p + "% 送信済み（" + Math.round(rate / 1024) + " KiB/秒、残り約 " + left + " 秒）";
    };
    xhr.upload.onload = function () {
      bar.removeAttribute("value"); // indeterminate while the file is checked and imported
      status.textContent = en ? "Sent; importing…" : "送信しました。取り込み中…";
      if (upload && upload.value && poll === null) poll = setInterval(importing, 500);
    };
    xhr.onload = function () {
      if (poll !== null) clearInterval(poll);
      poll = null;
      document.open();
      document.write(xhr.responseText);
      document.close();
    };
    xhr.onerror = function () {
      if (poll !== null) clearInterval(poll);
      poll = null;
      status.textContent = en ? "Could not send the file; try again." : "送信できませんでした。もう一度お試しください。";
    };
    status.textContent = en ? "Sending…" : "送信中…";
    xhr.send(new FormData(form));
  });
})();
