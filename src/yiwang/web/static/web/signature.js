// 签名板: draw with a finger, a pen or the mouse; the PNG goes into the hidden input named by data-target.
(function () {
  document.querySelectorAll("canvas.signature-pad").forEach(function (canvas) {
    var ctx = canvas.getContext("2d");
    var input = document.getElementById(canvas.dataset.target);
    var drawing = false, drawn = false;
    function fit() { canvas.width = canvas.clientWidth; canvas.height = canvas.clientHeight; ctx.lineWidth = 2; ctx.lineCap = "round"; }
    function at(e) { var r = canvas.getBoundingClientRect(); return [e.clientX - r.left, e.clientY - r.top]; }
    fit();
    canvas.addEventListener("pointerdown", function (e) { drawing = true; var p = at(e); ctx.beginPath(); ctx.moveTo(p[0], p[1]); canvas.setPointerCapture(e.pointerId); });
    canvas.addEventListener("pointermove", function (e) { if (!drawing) return; var p = at(e); ctx.lineTo(p[0], p[1]); ctx.stroke(); drawn = true; });
    canvas.addEventListener("pointerup", function () { drawing = false; if (drawn && input) input.value = canvas.toDataURL("image/png"); });
    var clear = document.querySelector("[data-clear='" + canvas.id + "']");
    if (clear) clear.addEventListener("click", function (e) { e.preventDefault(); ctx.clearRect(0, 0, canvas.width, canvas.height); drawn = false; if (input) input.value = ""; });
  });
})();
