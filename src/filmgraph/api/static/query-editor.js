// The /sparql query editor: YASGUI (served from /static/vendor, no CDN) opened with the project's prefixes and
// one tab per research question (from /api/workbench/tabs), a chart view for counts, entity links that stay on
// this server, and download links for the current tab. Nothing here talks to any host but this one.
(function () {
  "use strict";
  if (typeof window.Yasgui !== "function") return; // the page says the files are missing; the plain form works
  var DATA = "https://w3id.org/filmgraph/id/";
  var NUMERIC = /#(integer|decimal|double|float|long|int|short|nonNegativeInteger|positiveInteger)$/;

  // A bar chart of the first numeric column against the first other column: for aggregates (COUNT ... GROUP BY).
  function ChartPlugin(yasr) { this.yasr = yasr; this.priority = 2; this.label = "Chart"; }
  ChartPlugin.prototype.columns = function () {
    var results = this.yasr.results;
    if (!results || !results.getVariables || !results.getBindings) return null;
    var variables = results.getVariables() || [], bindings = results.getBindings() || [];
    if (!bindings.length || bindings.length > 200) return null;
    var numeric = variables.filter(function (v) {
      return bindings.every(function (b) { return !b[v] || (b[v].datatype && NUMERIC.test(b[v].datatype)); }) &&
        bindings.some(function (b) { return b[v]; });
    });
    var labels = variables.filter(function (v) { return numeric.indexOf(v) < 0; });
    if (!numeric.length) return null;
    return { value: numeric[0], label: labels.find(function (v) { return /label|title|name/i.test(v); }) || labels[0], bindings: bindings };
  };
  ChartPlugin.prototype.canHandleResults = function () { return this.columns() !== null; };
  ChartPlugin.prototype.getIcon = function () { var icon = document.createElement("span"); icon.textContent = "▥"; return icon; };
  ChartPlugin.prototype.draw = function () {
    var found = this.columns(), ns = "http://www.w3.org/2000/svg";
    var rows = found.bindings.map(function (b) {
      var label = found.label && b[found.label] ? shorten(b[found.label].value) : "";
      return { label: label, value: Number(b[found.value] ? b[found.value].value : 0) };
    });
    var max = Math.max.apply(null, rows.map(function (r) { return r.value; }).concat([1]));
    var svg = document.createElementNS(ns, "svg"), height = 24, labelWidth = 260, width = 720;
    svg.setAttribute("viewBox", "0 0 " + width + " " + (rows.length * height + 10));
    svg.setAttribute("role", "img");
    svg.setAttribute("aria-label", "Bar chart of " + found.value + (found.label ? " by " + found.label : ""));
    svg.style.width = "100%"; svg.style.maxWidth = width + "px";
    rows.forEach(function (row, i) {
      var y = i * height + 5, bar = document.createElementNS(ns, "rect"), text = document.createElementNS(ns, "text");
      var barWidth = Math.max(1, (width - labelWidth - 60) * row.value / max);
      bar.setAttribute("x", labelWidth); bar.setAttribute("y", y); bar.setAttribute("height", height - 6);
      bar.setAttribute("width", barWidth); bar.setAttribute("class", "chart-bar");
      text.setAttribute("x", labelWidth - 6); text.setAttribute("y", y + 13); text.setAttribute("text-anchor", "end");
      text.setAttribute("class", "chart-label"); text.textContent = row.label.slice(0, 40);
      var value = document.createElementNS(ns, "text");
      value.setAttribute("x", labelWidth + barWidth + 4); value.setAttribute("y", y + 13);
      value.setAttribute("class", "chart-label"); value.textContent = String(row.value);
      svg.appendChild(text); svg.appendChild(bar); svg.appendChild(value);
    });
    var figure = document.createElement("figure");
    figure.className = "chart"; figure.appendChild(svg);
    this.yasr.resultsEl.appendChild(figure);
  };

  function shorten(value) { return value.indexOf(DATA) === 0 ? "fgid:" + value.slice(DATA.length) : value; }

  // The table links IRIs to themselves; an entity of this graph links to its page here, in the same window.
  function localiseLinks(root) {
    root.querySelectorAll('a[href^="' + DATA + '"]').forEach(function (a) {
      a.setAttribute("href", "/id/" + a.getAttribute("href").slice(DATA.length));
      a.removeAttribute("target");
    });
  }

  function downloadLinks(tab) {
    var query = tab.getQuery(), base = location.origin + "/sparql?query=" + encodeURIComponent(query) + "&format=";
    var isGraph = /^\s*(?:(?:PREFIX|BASE)[^\n]*\n|#[^\n]*\n|\s)*(CONSTRUCT|DESCRIBE)\b/i.test(query);
    [["csv", "csv"], ["json", "json"], ["turtle", "ttl"]].forEach(function (pair) {
      var link = document.getElementById("download-" + pair[0]);
      link.href = base + pair[0];
      link.setAttribute("download", (tab.getName() || "answer").replace(/[^A-Za-z0-9._-]+/g, "-") + "." + pair[1]);
      link.hidden = pair[0] === "turtle" ? !isGraph : pair[0] === "csv" && isGraph;
    });
    document.getElementById("downloads").hidden = false;
  }

  fetch("/api/workbench/tabs", { headers: { Accept: "application/json" } })
    .then(function (response) { return response.json(); })
    .then(function (config) {
      window.Yasgui.Yasr.registerPlugin("chart", ChartPlugin);
      var endpoint = location.origin + config.endpoint;
      var yasgui = new window.Yasgui(document.getElementById("yasgui"), {
        requestConfig: { endpoint: endpoint, method: "POST" },
        copyEndpointOnNewTab: true,
        endpointCatalogueOptions: { getData: function () { return [{ endpoint: endpoint }]; } },
        persistenceId: null,
        autoAddOnInit: false,
        populateFromUrl: false,
        yasqe: { autocompleters: ["variables"], persistenceId: null },
        yasr: { prefixes: config.prefixes, persistenceId: null, pluginOrder: ["table", "chart", "response"], defaultPlugin: "table" },
      });
      config.tabs.forEach(function (tab, index) {
        yasgui.addTab(index === 0, { name: tab.name, yasqe: { value: tab.query } });
      });
      new MutationObserver(function () { localiseLinks(document.getElementById("yasgui")); })
        .observe(document.getElementById("yasgui"), { childList: true, subtree: true });
      var refresh = function () { var tab = yasgui.getTab(); if (tab) downloadLinks(tab); };
      yasgui.on("tabSelect", function () { setTimeout(refresh, 0); });
      yasgui.on("query", refresh);
      yasgui.on("tabChange", refresh);
      refresh();
      window.filmgraphEditor = yasgui; // for the browser tests and the curious
    });
})();
