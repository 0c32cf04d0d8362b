// Warn about the mass-send quota while staff choose the time, before anything is saved.
(function () {
  "use strict";
  var form = document.getElementById("post-form");
  if (!form) { return; }
  var box = document.getElementById("quota-live");
  function check() {
    var at = form.elements.send_at.value, channel = form.elements.channel.value;
    if (!at || channel !== "wechat") { box.hidden = true; return; }
    var q = "?at=" + encodeURIComponent(at) + "&id=" + encodeURIComponent(form.elements.id.value);
    fetch("/admin/posts/quota" + q, {credentials: "same-origin"}).then(function (r) { return r.json(); })
      .then(function (data) { box.textContent = data.warning; box.hidden = data.ok; });
  }
  form.elements.send_at.addEventListener("change", check);
  form.elements.channel.addEventListener("change", check);
}());

// Rich-text helpers for WeChat article HTML, and the live phone preview (a sandboxed iframe: the
// article's HTML cannot run script or reach this page).
(function () {
  "use strict";
  var body = document.getElementById("body");
  var frame = document.getElementById("preview");
  var title = document.getElementById("preview-title");
  var form = document.getElementById("post-form");
  if (!body || !frame) { return; }
  function refresh() {
    frame.srcdoc = body.value;
    if (title && form) { title.textContent = form.elements.title.value; }
  }
  function wrap(open, close) {
    var a = body.selectionStart, b = body.selectionEnd, v = body.value;
    body.value = v.slice(0, a) + open + v.slice(a, b) + close + v.slice(b);
    body.focus();
    body.selectionStart = a + open.length;
    body.selectionEnd = b + open.length;
    refresh();
  }
  var bar = document.getElementById("toolbar");
  if (bar) {
    bar.addEventListener("click", function (ev) {
      var t = ev.target;
      if (t.dataset.tag) { wrap("<" + t.dataset.tag + ">", "</" + t.dataset.tag + ">"); }
      if (t.dataset.img) {
        var url = window.prompt("图片地址（微信图文只能用上传到微信服务器的图片链接）");
        if (url) { wrap('<p><img src="' + url.replace(/"/g, "&quot;") + '"></p>', ""); }
      }
    });
  }
  body.addEventListener("input", refresh);
  if (form) { form.elements.title.addEventListener("input", refresh); }
}());
