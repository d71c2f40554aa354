(function () {
  "use strict";
  const box = document.getElementById("search");
  const countEl = document.getElementById("match-count");
  const noMatch = document.getElementById("no-match");
  const list = document.getElementById("datasets");
  const entries = Array.from(document.querySelectorAll("article.dataset"));
  const boxes = (name) => Array.from(document.querySelectorAll('input[name="' + name + '"]'));
  const checked = (name) => boxes(name).filter((b) => b.checked).map((b) => b.value);
  const chainsOf = (el) => (el.dataset.chains || "").split(" ").filter(Boolean);
  const tokens = (q) => q.toLowerCase().split(/\s+/).filter(Boolean);

  function textMatch(el, toks) {
    const text = el.dataset.search || "";
    return toks.every((t) => text.includes(t));
  }
  function layerMatch(el, layers) { return !layers.length || layers.includes(el.dataset.layer); }
  function chainMatch(el, chains) {
    return !chains.length || chainsOf(el).some((c) => chains.includes(c));
  }

  // Entries named by the query come first: 0 = the query is the table's name, 1 = the name
  // contains every word, 2 = other matches (description, columns); document order otherwise.
  function rank(el, toks) {
    const name = el.dataset.name, table = name.slice(name.indexOf(".") + 1);
    const q = toks.join(" ");
    if (q === name || q === table) return 0;
    return toks.length && toks.every((t) => name.includes(t)) ? 1 : 2;
  }
  function order(toks) {
    const sorted = entries.slice();
    if (toks.length) {
      const position = new Map(entries.map((el, i) => [el, i]));
      sorted.sort((a, b) => rank(a, toks) - rank(b, toks) || position.get(a) - position.get(b));
    }
    sorted.forEach((el) => list.appendChild(el));
  }

  function setFacetCounts(name, count) {
    boxes(name).forEach((b) => {
      const n = b.parentNode.querySelector(".n");
      if (n) n.textContent = String(count(b.value));
    });
  }

  function syncUrl(q, layers, chains) {
    const params = new URLSearchParams();
    if (q) params.set("q", q);
    if (layers.length) params.set("layer", layers.join(","));
    if (chains.length) params.set("chain", chains.join(","));
    const search = params.toString();
    try {
      history.replaceState(null, "", (search ? "?" + search : location.pathname) + location.hash);
    } catch (e) { /* file:// in some browsers: the URL simply does not follow */ }
  }

  function apply(updateUrl) {
    const q = box.value.trim();
    const toks = tokens(q), layers = checked("layer"), chains = checked("chain");
    let shown = 0;
    entries.forEach((el) => {
      const show = textMatch(el, toks) && layerMatch(el, layers) && chainMatch(el, chains);
      if (show) { el.removeAttribute("hidden"); shown += 1; } else { el.setAttribute("hidden", ""); }
    });
    countEl.textContent = String(shown);
    noMatch.hidden = shown !== 0;
    setFacetCounts("layer", (v) => entries.filter((el) =>
      el.dataset.layer === v && textMatch(el, toks) && chainMatch(el, chains)).length);
    setFacetCounts("chain", (v) => entries.filter((el) =>
      chainsOf(el).includes(v) && textMatch(el, toks) && layerMatch(el, layers)).length);
    order(toks);
    const visible = entries.filter((el) => !el.hidden);
    visible.forEach((el) => {
      if (q && (visible.length <= 3 || rank(el, toks) === 0)) {
        el.querySelectorAll("details").forEach((d) => { d.open = true; });
      }
    });
    if (updateUrl) syncUrl(q, layers, chains);
    return shown;
  }

  function clearFilters() {
    box.value = "";
    box.setAttribute("value", "");
    boxes("layer").concat(boxes("chain")).forEach((b) => { b.checked = false; });
  }

  function revealTarget() {
    if (!location.hash) return;
    const target = document.getElementById(decodeURIComponent(location.hash.slice(1)));
    if (!target || !target.classList.contains("dataset")) return;
    if (target.hidden) { clearFilters(); apply(true); }
    target.querySelectorAll("details").forEach((d) => { d.open = true; });
    target.scrollIntoView();
  }

  const params = new URLSearchParams(location.search);
  const q = params.get("q") || "";
  box.value = q;
  box.setAttribute("value", q);
  ["layer", "chain"].forEach((name) => {
    const wanted = (params.get(name) || "").split(",");
    boxes(name).forEach((b) => { b.checked = wanted.includes(b.value); });
  });

  box.addEventListener("input", () => apply(true));
  boxes("layer").concat(boxes("chain")).forEach((b) => b.addEventListener("change", () => apply(true)));
  document.getElementById("clear").addEventListener("click", () => { clearFilters(); apply(true); });
  document.addEventListener("keydown", (ev) => {
    if (ev.key === "/" && document.activeElement !== box) { ev.preventDefault(); box.focus(); }
  });
  window.addEventListener("hashchange", revealTarget);

  const shown = apply(false);
  revealTarget();
  document.body.dataset.ready = "1";
  console.info("datamap ready: " + shown + " of " + entries.length + " datasets shown");
})();
