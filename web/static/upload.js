// Usage-file upload with a progress bar. Without JavaScript the form posts
// as usual; with it, the same POST goes through XMLHttpRequest so that
// <progress> follows the upload, then the answer page replaces this one.
(function () {
  var form = document.getElementById("usage-form");
  if (!form || !window.XMLHttpRequest || !window.FormData) return;
  var bar = document.getElementById("upload-progress");
  var status = document.getElementById("upload-status");
  form.addEventListener("submit", function (ev) {
    ev.preventDefault();
    var xhr = new XMLHttpRequest();
    xhr.open("POST", form.action);
    xhr.upload.onprogress = function (e) {
      if (e.lengthComputable) {
        var p = Math.round((e.loaded / e.total) * 100);
        bar.value = p;
        bar.textContent = p + "%";
        status.textContent = p + "% 送信済み";
      }
    };
    xhr.onload = function () {
      bar.value = 100;
      document.open();
      document.write(xhr.responseText);
      document.close();
    };
    xhr.onerror = function () { status.textContent = "送信できませんでした。もう一度お試しください。"; };
    status.textContent = "送信中…";
    xhr.send(new FormData(form));
  });
})();
