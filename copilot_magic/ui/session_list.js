// The session browser's list: a table with aligned columns, one row per session.
// Rows come from the kernel (`rows`); the selected session's id is `value`. Every text is set
// with textContent, never as HTML: titles are the person's or the model's words.
const COLUMNS = [
  ["star", "", "★ starred"],
  ["id", "Session", "The session id (a fork's handle)"],
  ["title", "Title", ""],
  ["last", "Last active", ""],
  ["turns", "Turns", ""],
  ["tokens", "Tokens in / out", "Tokens the model read and wrote, all turns"],
  ["abstentions", "🛑", "Abstentions"],
  ["state", "State", ""],
];

function render({ model, el }) {
  el.classList.add("copilot-session-table");
  const scroll = document.createElement("div");
  scroll.className = "cst-scroll";
  scroll.tabIndex = 0;
  scroll.setAttribute("role", "listbox");
  scroll.setAttribute("aria-label", "Copilot sessions");
  // The arrow keys, Home and End are the table's here, not the notebook's shortcuts.
  scroll.setAttribute("data-lm-suppress-shortcuts", "true");
  const table = document.createElement("table");
  const head = table.createTHead().insertRow();
  for (const [key, label, tip] of COLUMNS) {
    const th = document.createElement("th");
    th.className = `cst-${key}`;
    th.textContent = label;
    if (tip) th.title = tip;
    head.appendChild(th);
  }
  const body = table.createTBody();
  scroll.appendChild(table);
  el.appendChild(scroll);

  const select = (id) => {
    if (id === undefined || id === model.get("value")) return;
    model.set("value", id);
    model.save_changes();
  };

  const mark = () => {
    const chosen = model.get("value");
    for (const tr of body.rows) {
      const on = tr.dataset.id === chosen;
      tr.classList.toggle("selected", on);
      tr.setAttribute("aria-selected", on ? "true" : "false");
      if (on) tr.scrollIntoView({ block: "nearest" });
    }
  };

  const draw = () => {
    const rows = model.get("rows");
    body.replaceChildren();
    for (const row of rows) {
      const tr = body.insertRow();
      tr.dataset.id = row.id;
      tr.setAttribute("role", "option");
      for (const [key] of COLUMNS) {
        const td = tr.insertCell();
        td.className = `cst-${key}`;
        const text = row[key] ?? "";
        if (key === "abstentions" && text) {
          const badge = document.createElement("span");
          badge.className = "cst-badge";
          badge.textContent = text;
          td.appendChild(badge);
        } else {
          td.textContent = text;
        }
        const tip = row[`${key}_tip`];
        if (tip) td.title = tip;
      }
      tr.addEventListener("click", () => select(row.id));
    }
    if (!rows.length) {
      const td = body.insertRow().insertCell();
      td.colSpan = COLUMNS.length;
      td.className = "cst-empty";
      td.textContent = model.get("empty_text");
    }
    mark();
  };

  scroll.addEventListener("keydown", (event) => {
    const ids = model.get("rows").map((row) => row.id);
    if (!ids.length) return;
    const at = ids.indexOf(model.get("value"));
    const moves = {
      ArrowDown: Math.min(at + 1, ids.length - 1),
      ArrowUp: Math.max(at - 1, 0),
      Home: 0,
      End: ids.length - 1,
      PageDown: Math.min(at + 10, ids.length - 1),
      PageUp: Math.max(at - 10, 0),
    };
    if (!(event.key in moves)) return;
    event.preventDefault();
    select(ids[at < 0 ? 0 : moves[event.key]]);
  });

  model.on("change:rows", draw);
  model.on("change:value", mark);
  draw();
}

export default { render };
