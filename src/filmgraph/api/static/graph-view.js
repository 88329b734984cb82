// The graph view: Cytoscape.js (served from /static/vendor) over the entity cards of /api/entities/{id}. Node
// colour by class, edge style by the supporting claim's status; tap a node to expand it, an edge for its evidence.
(function () {
  "use strict";
  var container = document.getElementById("graph");
  if (!container || typeof window.cytoscape !== "function") return;
  var CLASS_COLOURS = [
    ["fg:State", "#1f5fa8"], ["fg:Agreement", "#7a3a94"], ["fg:Event", "#a36b00"], ["fg:Statement", "#00666b"],
    ["fg:Institution", "#2e6b30"], ["org:FormalOrganization", "#2e6b30"], ["foaf:Person", "#8a3b12"],
  ];
  var STATUS_EDGES = {
    "fg:Asserted": ["solid", "#2e6b30"], "fg:Planned": ["dashed", "#1f5fa8"], "fg:Hoped": ["dotted", "#7a3a94"],
    "fg:Expected": ["dashed", "#7a5600"], "fg:Postponed": ["dashed", "#a34700"], "fg:Negated": ["solid", "#b00020"],
    "fg:Possible": ["dotted", "#555555"], "fg:Opinion": ["dotted", "#00666b"],
  };
  var expanded = {};
  var cy = window.cytoscape({
    container: container,
    style: [
      { selector: "node", style: { "background-color": "data(colour)", label: "data(label)", "font-size": 10,
        "text-wrap": "ellipsis", "text-max-width": 120, color: "#1b1b1b", "text-valign": "bottom", "text-margin-y": 3 } },
      { selector: "node.expanded", style: { "border-width": 3, "border-color": "#1b1b1b" } },
      { selector: "edge", style: { width: 2, "curve-style": "bezier", "target-arrow-shape": "triangle",
        "line-style": "data(lineStyle)", "line-color": "data(colour)", "target-arrow-color": "data(colour)",
        label: "data(label)", "font-size": 8, color: "#4f4f4f", "text-rotation": "autorotate" } },
      { selector: ":selected", style: { "overlay-opacity": 0.2, "overlay-color": "#b45f06" } },
    ],
  });
  window.filmgraphGraph = cy; // for the browser tests and the curious

  function colour(types) {
    var found = CLASS_COLOURS.find(function (pair) { return types.indexOf(pair[0]) >= 0; });
    return found ? found[1] : "#555555";
  }
  function addNode(ref) {
    if (!cy.getElementById(ref.iri).length) {
      cy.add({ group: "nodes", data: { id: ref.iri, entity: ref.id, label: ref.label || ref.id || ref.iri, colour: colour(ref.types || []) } });
    }
  }
  function addCard(card) {
    addNode({ iri: card.iri, id: card.id, label: card.label, types: card.types.map(function (t) { return t.curie; }) });
    card.relations.forEach(function (group) {
      group.relations.forEach(function (relation) {
        addNode(relation.other);
        var source = relation.direction === "out" ? card.iri : relation.other.iri;
        var target = relation.direction === "out" ? relation.other.iri : card.iri;
        var id = source + " " + relation.property + " " + target;
        if (cy.getElementById(id).length) return;
        var style = STATUS_EDGES[relation.status] || ["solid", "#888888"];
        cy.add({ group: "edges", data: { id: id, source: source, target: target, label: relation.property_label || "",
          lineStyle: style[0], colour: style[1], relation: relation } });
      });
    });
  }
  function expand(iri) {
    var node = cy.getElementById(iri), entity = node.data("entity");
    if (!entity || expanded[iri]) return Promise.resolve();
    expanded[iri] = true;
    return fetch("/api/entities/" + encodeURIComponent(entity), { headers: { Accept: "application/json" } })
      .then(function (response) { return response.json(); })
      .then(function (card) {
        addCard(card);
        cy.getElementById(iri).addClass("expanded");
        cy.layout({ name: "cose", animate: false, randomize: false, nodeRepulsion: function () { return 9000; } }).run();
        show(nodeDetails(cy.getElementById(iri)));
      });
  }
  function text(tag, value, className) {
    var el = document.createElement(tag); el.textContent = value; if (className) el.className = className; return el;
  }
  function link(href, value) { var a = text("a", value); a.href = href; return a; }
  function show(element) { var panel = document.getElementById("edge-evidence"); panel.replaceChildren(element); }
  function nodeDetails(node) {
    var box = document.createElement("div");
    box.appendChild(text("h3", node.data("label")));
    if (node.data("entity")) box.appendChild(link("/id/" + node.data("entity"), "Entity page"));
    return box;
  }
  function edgeDetails(edge) {
    var relation = edge.data("relation"), box = document.createElement("div");
    box.className = "edge-details";
    box.appendChild(text("h3", edge.source().data("label") + " — " + (relation.property_label || relation.property) + " → " + edge.target().data("label")));
    box.appendChild(text("p", (relation.status || "no status") + (relation.origin !== "asserted" ? " · " + relation.origin : ""), "meta"));
    if (!relation.provenance.length) box.appendChild(text("p", "No evidence recorded for this edge.", "meta"));
    relation.provenance.forEach(function (claim) {
      claim.evidence.forEach(function (evidence) {
        var quote = text("blockquote", "“" + evidence.quote + "”");
        if (evidence.source_id) {
          var where = document.createElement("div"); where.className = "meta";
          where.appendChild(link("/id/" + evidence.source_id + "#span-" + evidence.begin + "-" + evidence.end, "in the source"));
          quote.appendChild(where);
        }
        box.appendChild(quote);
      });
    });
    return box;
  }
  cy.on("tap", "node", function (event) { show(nodeDetails(event.target)); expand(event.target.id()); });
  cy.on("tap", "edge", function (event) { show(edgeDetails(event.target)); });
  document.querySelectorAll("button.expand").forEach(function (button) {
    button.hidden = false;
    button.addEventListener("click", function () { expand(button.dataset.iri); });
  });

  fetch("/api/entities/" + encodeURIComponent(container.dataset.entity), { headers: { Accept: "application/json" } })
    .then(function (response) { return response.json(); })
    .then(function (card) {
      addCard(card);
      expanded[card.iri] = true;
      cy.getElementById(card.iri).addClass("expanded");
      cy.layout({ name: "concentric", animate: false, concentric: function (node) { return node.id() === card.iri ? 2 : 1; }, levelWidth: function () { return 1; } }).run();
      container.dataset.ready = "true";
    });
})();
