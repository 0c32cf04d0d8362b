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

// The article editor: a contenteditable area with a four-button toolbar (加粗、小标题、列表、链接),
// kept in step with the hidden textarea the form submits; the server whitelists the HTML again
// (scheduler/article_html.py). Without script the plain textarea stays. The phone preview is a
// sandboxed iframe, so the article's HTML cannot run script or reach this page.
(function () {
  "use strict";
  var form = document.getElementById("post-form");
  var body = document.getElementById("body");
  var editor = document.getElementById("editor");
  var bar = document.getElementById("toolbar");
  var hint = document.getElementById("editor-hint");
  var frame = document.getElementById("preview");
  var title = document.getElementById("preview-title");
  if (!form || !body || !frame) { return; }

  function refresh() {
    var html = editor && !editor.hidden ? editor.innerHTML : body.value;
    if (frame.srcdoc !== html) { frame.srcdoc = html; }  // each assignment reloads the frame
    if (title) { title.textContent = form.elements.title.value; }
  }
  function sync() {
    if (editor && !editor.hidden) { body.value = editor.innerHTML; }
    refresh();
  }
  // WeChat articles are HTML; DingTalk posts are plain markdown, typed into the textarea.
  function showEditor(on) {
    if (!editor) { return; }
    if (on && editor.hidden && body.value !== editor.innerHTML && body.value.indexOf("<") < 0) {
      editor.textContent = "";
      body.value.split(/\n+/).forEach(function (line) {
        if (!line.trim()) { return; }
        var p = document.createElement("p");
        p.textContent = line;
        editor.appendChild(p);
      });
    }
    ensureParagraph();
    editor.hidden = bar.hidden = hint.hidden = !on;
    body.hidden = on;
    body.required = !on;
    sync();
  }
  // Typing into an empty contenteditable makes bare text, not a paragraph: start from one.
  function ensureParagraph() {
    if (!editor.textContent.trim() && !editor.querySelector("img")) {
      editor.innerHTML = "<p><br></p>";
    } else if (editor.firstChild && editor.firstChild.nodeType === 3 && document.activeElement === editor) {
      document.execCommand("formatBlock", false, "p");
    }
  }
  function blockOf(node) {
    while (node && node !== editor) {
      if (node.nodeType === 1 && /^(P|H3|LI|DIV)$/.test(node.nodeName)) { return node; }
      node = node.parentNode;
    }
    return null;
  }
  function command(name) {
    editor.focus();
    if (name === "bold") {
      document.execCommand("bold");
    } else if (name === "heading") {
      var sel = window.getSelection();
      var block = sel && sel.rangeCount ? blockOf(sel.getRangeAt(0).startContainer) : null;
      document.execCommand("formatBlock", false, block && block.nodeName === "H3" ? "p" : "h3");
    } else if (name === "list") {
      document.execCommand("insertUnorderedList");
    } else if (name === "link") {
      var url = window.prompt("链接地址（以 https:// 开头）", "https://");
      if (!url) { return; }
      if (!/^https?:\/\/\S+$/i.test(url.trim())) { window.alert("链接地址要以 http:// 或 https:// 开头"); return; }
      document.execCommand("createLink", false, url.trim());
    }
    sync();
  }

  if (editor) {
    document.execCommand("defaultParagraphSeparator", false, "p");
    bar.addEventListener("click", function (ev) {
      var button = ev.target.closest("button[data-cmd]");
      if (button) { command(button.dataset.cmd); }
    });
    editor.addEventListener("input", function () {
      if (editor.firstChild && editor.firstChild.nodeType === 3) { ensureParagraph(); }
      sync();
    });
    form.elements.channel.addEventListener("change", function () {
      showEditor(form.elements.channel.value === "wechat");
    });
    form.addEventListener("submit", function (ev) {
      sync();
      if (!editor.hidden && !editor.textContent.trim()) {
        ev.preventDefault();
        window.alert("正文不能为空");
      }
    });
    showEditor(form.elements.channel.value === "wechat");
  }
  body.addEventListener("input", refresh);
  form.elements.title.addEventListener("input", refresh);

  // Cover: checked here for size and type so staff hear it at once; the server checks the bytes.
  var cover = document.getElementById("cover");
  var coverImg = document.getElementById("preview-cover");
  var status = document.getElementById("cover-status");
  if (cover && coverImg) {
    cover.addEventListener("change", function () {
      var file = cover.files && cover.files[0];
      if (!file) { return; }
      if (file.size > 2 * 1024 * 1024) {
        status.textContent = "图片太大（最大 2 MB），请换一张或先缩小。";
        status.className = "error small";
        cover.value = "";
        return;
      }
      var reader = new FileReader();
      reader.onload = function () {
        coverImg.src = reader.result;  // a data: URL (the page's CSP allows data: images only)
        coverImg.hidden = false;
        status.textContent = "已选择：" + file.name + "（保存后上传）";
        status.className = "hint small";
      };
      reader.readAsDataURL(file);
    });
  }
}());
