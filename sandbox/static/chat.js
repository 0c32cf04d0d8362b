// The resident sandbox: every action becomes a signed WeChat message through /sandbox/chat/send.
(function () {
  "use strict";
  var log = document.getElementById("log");
  var input = document.getElementById("text");
  var form = document.getElementById("composer");
  var mode = document.getElementById("mode");
  var voice = false;

  function bubble(text, cls) {
    var div = document.createElement("div");
    div.className = "msg " + cls;
    div.textContent = text;
    log.appendChild(div);
    log.scrollTop = log.scrollHeight;
    return div;
  }

  function send(kind, content, shown) {
    if (shown) { bubble(shown, kind === "voice" ? "me voice" : (kind === "click" ? "event" : "me")); }
    return fetch("/sandbox/chat/send", {
      method: "POST", headers: {"Content-Type": "application/json"}, credentials: "same-origin",
      body: JSON.stringify({kind: kind, content: content})
    }).then(function (r) { return r.json(); }).then(function (data) {
      if (data.reply) { bubble(data.reply, "bot"); }
      else if (data.error) { bubble(data.error, "event"); }
      else { bubble("（机器人稍后通过客服消息回复）", "event"); }
    }).catch(function () { bubble("网络出错，请重试", "event"); });
  }

  form.addEventListener("submit", function (ev) {
    ev.preventDefault();
    var text = input.value.trim();
    if (!text) { return; }
    input.value = "";
    send(voice ? "voice" : "text", text, text);
  });
  mode.addEventListener("click", function () {
    voice = !voice;
    form.classList.toggle("voice", voice);
    mode.textContent = voice ? "打字" : "语音";
    input.placeholder = voice ? "语音模式：输入要“说”的话（模拟微信语音识别结果）" : "打字提问，比如：老板拖欠工资怎么办";
  });
  document.querySelectorAll(".cmd").forEach(function (b) {
    b.addEventListener("click", function () { send("text", b.dataset.text, b.dataset.text); });
  });
  document.querySelectorAll(".menu").forEach(function (b) {
    b.addEventListener("click", function () { send("click", b.dataset.key, "点击菜单：" + b.textContent); });
  });
  // Customer-service messages (late answers, staff replies to 留言) arrive through the platform.
  var seen = -1;
  function poll() {
    fetch("/sandbox/chat/inbox?after=" + Math.max(seen, 0), {credentials: "same-origin"})
      .then(function (r) { return r.json(); }).then(function (data) {
        if (seen >= 0) { data.messages.forEach(function (m) { bubble(m, "bot cs"); }); }
        seen = data.next;
      }).catch(function () { return null; }).then(function () { window.setTimeout(poll, 2000); });
  }
  send("subscribe", "", "").then(poll);
}());
