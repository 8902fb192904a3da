// Usage-file upload with a progress bar. Without JavaScript the form posts
// as usual; with it, the same POST goes through XMLHttpRequest so that
// <progress> follows the upload (percent, rate, time left, as the billing
// run's page shows), then the answer page replaces this one.
(function () {
  var form = document.getElementById("usage-form");
  if (!form || !window.XMLHttpRequest || !window.FormData) return;
  var bar = document.getElementById("upload-progress");
  var status = document.getElementById("upload-status");
  var en = document.documentElement.lang === "en";
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
    };
    xhr.onload = function () {
      document.open();
      document.write(xhr.responseText);
      document.close();
    };
    xhr.onerror = function () {
      status.textContent = en ? "Could not send the file; try again." : "送信できませんでした。もう一度お試しください。";
    };
    status.textContent = en ? "Sending…" : "送信中…";
    xhr.send(new FormData(form));
  });
})();
