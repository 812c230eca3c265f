//! The review report as one self-contained HTML page: no network, no external scripts, styles
//! or fonts (a Content-Security-Policy forbids them), every value from the claims escaped.

use std::fmt::Write;

use super::{Group, Review, RunTotals, Tally};
use crate::audit::MAX_LISTED_ALTERNATIVES;
use crate::code::System;
use crate::codeset::BILLABLE_UNDER_SHOWN;
use crate::crosswalk::Crosswalk;
use crate::status::CellStatus;
use crate::summary::thousands;

/// Source codes shown one by one unless the caller says otherwise; the rest are counted.
pub const DEFAULT_MAX_GROUPS: usize = 500;

/// What the page says about where its data came from.
#[derive(Clone, Debug)]
pub struct About {
    /// The claim file or audit file the review is of.
    pub source: String,
    /// The audit file reviewers fill in, when there is one.
    pub audit_file: Option<String>,
    /// Totals of the whole run, when known.
    pub totals: Option<RunTotals>,
    /// Source codes shown one by one.
    pub max_groups: usize,
}

/// Write `text` with the characters that mean something in HTML replaced by entities. Control
/// characters (other than tab and line breaks) become U+FFFD; bidi controls and zero-width
/// characters are written as their names (`[U+202E]`).
pub fn escape(out: &mut String, text: &str) {
    for ch in text.chars() {
        match ch {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            '\t' | '\n' | '\r' => out.push(ch),
            c if c.is_control() => out.push('\u{FFFD}'),
            // Shown by name, never applied: a right-to-left override would make `4272` read
            // as `2724`.
            c if crate::inert::is_invisible(c) => {
                let _ = write!(out, "[U+{:04X}]", c as u32);
            }
            c => out.push(c),
        }
    }
}

fn escaped(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    escape(&mut out, text);
    out
}

/// What a status means for the reviewer.
fn explain(status: CellStatus) -> &'static str {
    match status {
        CellStatus::Ambiguous => {
            "The GEM offers several translations. The first was written unless --choose said \
             otherwise: choose one."
        }
        CellStatus::NoMap => "The GEM says this code has no ICD-10 equivalent.",
        CellStatus::NotInCrosswalk => {
            "A valid-looking code that is not a source in the crosswalk (often a code retired \
             before the GEMs, or a typing error)."
        }
        CellStatus::Malformed => "Not a valid code for this column.",
        CellStatus::Overflow => {
            "A combination whose extra codes found no empty cell in the column group; they are \
             kept in the flags column."
        }
        CellStatus::NotBillable => {
            "The translation written is not a billable code of the ICD-10 code set of the chosen \
             fiscal year (a category that has since been split, or a deleted code): choose a \
             valid code."
        }
        CellStatus::DecidedOutsideGem => {
            "Written as a decision says, with codes that are not among the GEM's alternatives."
        }
        CellStatus::PossibleLostZero => {
            "A code as written and another with a leading zero restored, in a column that looks \
             like it went through a spreadsheet: say which was meant."
        }
        CellStatus::ZeroRestored => "A leading zero restored, as --restore-zeros asked.",
        CellStatus::Exact
        | CellStatus::Approximate
        | CellStatus::Combination
        | CellStatus::PassedThrough
        | CellStatus::Decided => "",
    }
}

fn status_class(status: CellStatus) -> &'static str {
    match status {
        s if s.needs_review() => "review",
        CellStatus::Decided | CellStatus::DecidedOutsideGem | CellStatus::ZeroRestored => "decided",
        CellStatus::PassedThrough => "passed",
        CellStatus::Exact
        | CellStatus::Approximate
        | CellStatus::Combination
        | CellStatus::Ambiguous
        | CellStatus::NoMap
        | CellStatus::NotInCrosswalk
        | CellStatus::Malformed
        | CellStatus::Overflow
        | CellStatus::NotBillable
        | CellStatus::PossibleLostZero => "ok",
    }
}

fn plural(n: u64, one: &str, many: &str) -> String {
    format!("{} {}", thousands(n), if n == 1 { one } else { many })
}

const STYLE: &str = r#"
:root{--ink:#1f2328;--muted:#59636e;--line:#d1d9e0;--review:#c2410c;--ok:#15803d;--decided:#1d4ed8;--passed:#6b7280;--bg:#f6f8fa}
*{box-sizing:border-box}
body{font:15px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:var(--ink);margin:0 auto;max-width:72rem;padding:1.5rem}
h1{font-size:1.6rem;margin:0 0 .25rem}h2{font-size:1.2rem;margin:2rem 0 .5rem}h3{font-size:1.05rem;margin:0}
p{margin:.35rem 0}.muted{color:var(--muted)}code,.code{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace}
dl.figures{display:flex;flex-wrap:wrap;gap:.75rem;margin:1rem 0}
dl.figures div{background:var(--bg);border:1px solid var(--line);border-radius:6px;padding:.5rem .9rem;min-width:9rem}
dl.figures dt{font-size:.8rem;color:var(--muted)}dl.figures dd{margin:0;font-size:1.35rem;font-weight:600}
svg.chart text{font:13px system-ui,sans-serif;fill:var(--ink)}
.bar-review{fill:var(--review)}.bar-ok{fill:var(--ok)}.bar-decided{fill:var(--decided)}.bar-passed{fill:var(--passed)}
.filter{position:sticky;top:0;background:#fff;padding:.6rem 0;border-bottom:1px solid var(--line);display:flex;gap:1rem;align-items:center;z-index:1}
.filter input{font:inherit;padding:.35rem .6rem;width:24rem;max-width:60vw;border:1px solid var(--line);border-radius:6px}
article.group{border:1px solid var(--line);border-left:4px solid var(--review);border-radius:6px;padding:.75rem 1rem;margin:.9rem 0;break-inside:avoid}
article.group.settled{border-left-color:var(--decided)}
.group h3 .code{font-size:1.1rem;margin-right:.4rem}.group h3 .system{font-weight:400;color:var(--muted);font-size:.85rem;margin-right:.4rem}
.badge{display:inline-block;border-radius:1rem;padding:0 .55rem;font-size:.8rem;color:#fff;margin-right:.3rem}
.badge.review{background:var(--review)}.badge.decided{background:var(--decided)}.badge.ok{background:var(--ok)}.badge.passed{background:var(--passed)}
table{border-collapse:collapse;margin:.5rem 0;width:100%}th,td{text-align:left;vertical-align:top;padding:.25rem .5rem;border-bottom:1px solid var(--line)}
th{font-size:.8rem;color:var(--muted);font-weight:600;white-space:nowrap}td.n{width:2.5rem;color:var(--muted)}
.validity-billable{color:var(--ok)}.validity-header,.validity-not_in_code_set{color:var(--review);font-weight:600}
.warn{color:var(--review)}.note{background:var(--bg);border:1px solid var(--line);border-radius:6px;padding:.6rem .9rem}
ul.samples{margin:.25rem 0;padding-left:1.2rem}
tr.written td{background:#fff7ed}
div.decide{margin:.5rem 0;padding:.4rem .6rem;background:#fffbeb;border:1px solid #fde68a;border-radius:6px}
div.decide select{max-width:100%}select.claim-choice{margin-left:.4rem;max-width:22rem}
input.other{margin-left:.4rem;font-family:ui-monospace,Menlo,Consolas,monospace}
#decide ol{padding-left:1.3rem}#decide button{font:inherit;padding:.25rem .7rem}
@media print{body{max-width:none;padding:0;font-size:10pt}.filter{display:none}article.group{border-left-width:2px}a{color:inherit;text-decoration:none}}
"#;

const SCRIPT: &str = r#"
(function () {
  var box = document.getElementById('filter');
  var shown = document.getElementById('shown');
  var groups = Array.prototype.slice.call(document.querySelectorAll('article.group'));
  function apply() {
    var words = box.value.toLowerCase().split(/\s+/).filter(function (w) { return w; });
    var count = 0;
    groups.forEach(function (g) {
      var text = g.getAttribute('data-search');
      var hit = words.every(function (w) { return text.indexOf(w) >= 0; });
      g.hidden = !hit;
      if (hit) { count += 1; }
    });
    shown.textContent = count + ' of ' + groups.length + ' codes shown';
  }
  // A link can carry a filter: review.html#filter=272.4
  var hash = /^#filter=(.*)$/.exec(window.location.hash);
  if (hash) {
    try { box.value = decodeURIComponent(hash[1]); } catch (e) { box.value = hash[1]; }
  }
  box.addEventListener('input', apply);
  document.addEventListener('keydown', function (e) {
    if (e.key === '/' && document.activeElement !== box) { e.preventDefault(); box.focus(); }
  });
  apply();
})();
(function () {
  // Decisions made in the page: kept in this browser's local storage for this page, and saved
  // as a decisions file that `crosswalk convert --decisions` reads (an audit file with code and
  // occurrence rows).
  var decide = document.getElementById('decide');
  var download = document.getElementById('download');
  if (!decide || !download) { return; }
  var keyNames = JSON.parse(decide.getAttribute('data-keys') || '[]');
  var storeKey = 'crosswalk-decisions:' + decide.getAttribute('data-page');
  var store = {};
  try { store = JSON.parse(window.localStorage.getItem(storeKey) || '{}') || {}; } catch (e) { store = {}; }
  function save() {
    try { window.localStorage.setItem(storeKey, JSON.stringify(store)); } catch (e) { /* private mode */ }
  }
  function each(list, f) { Array.prototype.forEach.call(list, f); }
  function idOf(block) {
    return block.getAttribute('data-system') + ' ' +
      (block.getAttribute('data-code') || block.getAttribute('data-text'));
  }
  function entry(id) { return store[id] || (store[id] = { all: '', claims: {} }); }
  // A list with "another code…" and its text box.
  function wire(select, other, get, set) {
    function show(value) {
      var listed = false;
      each(select.options, function (o) { if (o.value === value && value !== 'other') { listed = true; } });
      if (!value) { select.value = ''; other.hidden = true; other.value = ''; }
      else if (listed) { select.value = value; other.hidden = true; }
      else { select.value = 'other'; other.hidden = false; other.value = value; }
    }
    show(get());
    select.addEventListener('change', function () {
      if (select.value === 'other') { other.hidden = false; other.focus(); set(other.value.trim()); }
      else { other.hidden = true; set(select.value); }
      update();
    });
    other.addEventListener('input', function () { set(other.value.trim()); update(); });
  }
  var blocks = [];
  each(document.querySelectorAll('article.group'), function (card) {
    var block = card.querySelector('div.decide');
    if (!block) { return; }
    var id = idOf(block);
    var main = block.querySelector('select.choice');
    wire(main, block.querySelector('input.other'),
      function () { return (store[id] || {}).all || ''; },
      function (v) { entry(id).all = v; save(); });
    var samples = [];
    each(card.querySelectorAll('ul.samples li'), function (li) {
      var select = li.querySelector('select.claim-choice');
      if (!select) { return; }
      var first = document.createElement('option');
      first.value = '';
      first.textContent = 'as for all claims';
      select.appendChild(first);
      each(main.options, function (o, i) { if (i > 0) { select.appendChild(o.cloneNode(true)); } });
      var other = document.createElement('input');
      other.type = 'text';
      other.className = 'other';
      other.hidden = true;
      other.setAttribute('aria-label', 'another code for this claim');
      li.appendChild(other);
      var at = li.getAttribute('data-row') + '|' + li.getAttribute('data-column');
      wire(select, other,
        function () { return ((store[id] || {}).claims || {})[at] || ''; },
        function (v) { var e = entry(id); if (v) { e.claims[at] = v; } else { delete e.claims[at]; } save(); });
      samples.push({ li: li, at: at });
    });
    blocks.push({ id: id, block: block, samples: samples });
  });
  // A cell as the audit writes it: a formula guard, then CSV quoting.
  function cell(v) {
    v = String(v);
    function guarded(t) {
      var c = t.charCodeAt(0);
      if (!t.length) { return false; }
      if ('=+-@'.indexOf(t[0]) >= 0 || c < 32 || c === 127) { return true; }
      return t[0] === "'" && guarded(t.slice(1));
    }
    if (guarded(v)) { v = "'" + v; }
    return /[",\r\n]/.test(v) ? '"' + v.replace(/"/g, '""') + '"' : v;
  }
  function rows() {
    var out = [['kind', 'row', 'line'].concat(keyNames, ['column', 'system', 'code', 'original', 'status', 'alternatives', 'fingerprint', 'decision'])];
    var count = 0;
    blocks.forEach(function (b) {
      var e = store[b.id];
      if (!e) { return; }
      var d = b.block;
      var claims = b.samples.filter(function (s) { return e.claims && e.claims[s.at]; });
      if (!e.all && !claims.length) { return; }
      var blank = keyNames.map(function () { return ''; });
      var system = d.getAttribute('data-system'), code = d.getAttribute('data-code'), text = d.getAttribute('data-text');
      out.push(['code', '', ''].concat(blank, ['', system, code, text, '', d.getAttribute('data-listed'), '', e.all]));
      count += e.all ? 1 : 0;
      claims.forEach(function (s) {
        var keys = JSON.parse(s.li.getAttribute('data-keys') || '[]');
        out.push(['occurrence', s.li.getAttribute('data-row'), s.li.getAttribute('data-line')].concat(keys,
          [s.li.getAttribute('data-column'), system, code, text, d.getAttribute('data-status'), '',
            s.li.getAttribute('data-fingerprint'), e.claims[s.at]]));
        count += 1;
      });
    });
    return { rows: out, count: count };
  }
  var told = document.getElementById('decided');
  function update() {
    var n = rows().count;
    download.disabled = n === 0;
    told.textContent = n === 0 ? 'No decision made yet.' : n + (n === 1 ? ' decision' : ' decisions') + ' made.';
  }
  download.addEventListener('click', function () {
    var text = rows().rows.map(function (r) { return r.map(cell).join(','); }).join('\n') + '\n';
    var link = document.createElement('a');
    link.href = URL.createObjectURL(new Blob([text], { type: 'text/csv' }));
    link.download = 'decisions.csv';
    document.body.appendChild(link);
    link.click();
    window.setTimeout(function () { URL.revokeObjectURL(link.href); link.remove(); }, 1000);
  });
  document.getElementById('clear').addEventListener('click', function () {
    store = {};
    save();
    each(document.querySelectorAll('select.choice, select.claim-choice'), function (s) { s.value = ''; });
    each(document.querySelectorAll('div.decide input.other, ul.samples input.other'), function (i) { i.value = ''; i.hidden = true; });
    update();
  });
  update();
})();
"#;

/// Render the review as a complete HTML page. Alternatives, their titles and their validity come
/// from `crosswalk` (the one the run used); a group whose audit rows list other alternatives is
/// marked.
pub fn render(review: &Review, crosswalk: &Crosswalk, about: &About) -> String {
    let mut out = String::with_capacity(64 * 1024);
    let groups = review.groups();
    let shown = groups.len().min(about.max_groups);
    let _ = write!(
        out,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; \
         style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <link rel=\"icon\" href=\"data:,\">\n\
         <title>Conversion review: {}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n",
        escaped(&about.source)
    );
    let _ = write!(
        out,
        "<header>\n<h1>Conversion review</h1>\n<p class=\"muted\">{} · made by crosswalk {}</p>\n\
         </header>\n",
        escaped(&about.source),
        env!("CARGO_PKG_VERSION")
    );

    decide_section(&mut out, about, page_id(about, &groups), review.key_names());
    totals_section(&mut out, review, about, groups.len());
    codes_section(&mut out, &groups, shown, review, crosswalk);
    let _ = write!(
        out,
        "<footer class=\"muted\"><p>{}</p></footer>\n<script>{SCRIPT}</script>\n</body>\n</html>\n",
        crosswalk_note(crosswalk, review, about.totals.as_ref())
    );
    out
}

/// The totals: figures and the chart by status.
fn totals_section(out: &mut String, review: &Review, about: &About, groups: usize) {
    let review_rows = review.review_rows();
    out.push_str("<section id=\"totals\">\n<h2>Totals</h2>\n<dl class=\"figures\">\n");
    let mut figure = |label: &str, id: &str, value: u64| {
        let _ = writeln!(
            out,
            "<div><dt>{label}</dt><dd id=\"{id}\">{}</dd></div>",
            thousands(value)
        );
    };
    if let Some(t) = &about.totals {
        figure("rows converted", "rows", t.rows_in);
        figure("codes converted", "codes", t.codes);
    }
    figure("codes to review", "review-codes", review_rows);
    figure("claims affected", "claims", review.claims());
    figure("distinct source codes", "groups", groups as u64);
    let outside = review.rows() - review_rows;
    if outside > 0 {
        figure("decided outside the GEM", "outside", outside);
    }
    out.push_str("</dl>\n");
    chart(out, review, about.totals.as_ref());
    out.push_str("</section>\n");
}

/// The codes to review, the first `shown` of `groups` as cards, then a note of the others.
fn codes_section(
    out: &mut String,
    groups: &[&Group],
    shown: usize,
    review: &Review,
    crosswalk: &Crosswalk,
) {
    let _ = write!(
        out,
        "<section id=\"codes\">\n<h2>Codes to review, by claims affected</h2>\n\
         <div class=\"filter\"><label>Filter <input id=\"filter\" type=\"search\" \
         placeholder=\"code, title, status, column or alternative\" autocomplete=\"off\"></label>\
         <span id=\"shown\" class=\"muted\">{shown} codes</span></div>\n"
    );
    if groups.is_empty() {
        out.push_str("<p class=\"note\">No code needs review.</p>\n");
    }
    let mut listed_elsewhere = 0usize;
    for group in &groups[..shown] {
        if render_group(out, group, review.key_names(), crosswalk) {
            listed_elsewhere += 1;
        }
    }
    let hidden = &groups[shown..];
    if !hidden.is_empty() || review.untracked_rows() > 0 {
        let rows: u64 = hidden.iter().map(|g| g.occurrences).sum::<u64>() + review.untracked_rows();
        let _ = writeln!(
            out,
            "<p class=\"note\" id=\"not-shown\">{} affecting fewer claims ({}) are not shown here; \
             the audit file lists every one.</p>",
            plural(hidden.len() as u64, "more source code", "more source codes"),
            plural(rows, "occurrence", "occurrences"),
        );
    }
    if listed_elsewhere > 0 {
        let _ = writeln!(
            out,
            "<p class=\"note warn\">{} with other alternatives in the audit than in this \
             crosswalk: the audit was made with other mapping tables.</p>",
            plural(
                listed_elsewhere as u64,
                "code is listed",
                "codes are listed"
            )
        );
    }
    out.push_str("</section>\n");
}

/// How to decide, first on the page: in the page itself, or in the audit file or workbook.
fn decide_section(out: &mut String, about: &About, page: u64, keys: &[String]) {
    let audit = about.audit_file.as_deref().unwrap_or("review.csv");
    let _ = write!(
        out,
        "<section id=\"decide\" data-page=\"{page:016x}\" data-keys=\"{k}\">\n<h2>How to decide</h2>\n\
         <ol><li>For each code below, pick a decision <strong>for all claims</strong> from its \
         list: one of its alternatives (a cluster is written <code>A+B</code>), a billable code \
         under a header, <code>accept</code> for an overflow (what does not fit stays in the \
         flags column), <code>keep</code>, <code>blank</code>, or another code typed in. A sample \
         claim can be decided otherwise with the list beside it.</li>\n\
         <li>Your choices are kept in this browser for this page until you clear them.</li>\n\
         <li><button type=\"button\" id=\"download\" disabled>Download decisions</button> \
         <span id=\"decided\" class=\"muted\">No decision made yet.</span> \
         <button type=\"button\" id=\"clear\">Clear</button></li>\n\
         <li>Convert again with the file: <code>crosswalk convert CLAIMS --decisions \
         decisions.csv --audit remaining.csv</code>. Every decision is checked first; an error \
         names its line.</li></ol>\n\
         <p class=\"muted\">Or fill the <code>decision</code> column of <code>{a}</code> (a \
         <code>code</code> row decides every occurrence, an <code>occurrence</code> row one \
         claim), or the dropdowns of the review workbook (<code>--audit review.xlsx</code>), and \
         pass that file to <code>--decisions</code>.</p>\n</section>\n",
        a = escaped(audit),
        k = escaped(&serde_json::to_string(keys).unwrap_or_default())
    );
}

/// What a page's stored choices are filed under: its source and the codes it shows, so that
/// the page of another run does not inherit them.
fn page_id(about: &About, groups: &[&Group]) -> u64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    let mut eat = |bytes: &[u8]| {
        for &b in bytes.iter().chain(&[0xff]) {
            hash ^= u64::from(b);
            hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
        }
    };
    eat(about.source.as_bytes());
    for g in groups {
        eat(g.system.name().as_bytes());
        eat(g.shown.as_bytes());
    }
    hash
}

/// A card's decision list: the choices for every claim of the code, and a box for another code.
/// The data attributes are what the downloaded decisions file names the code by.
fn decide_block(out: &mut String, g: &Group, listed: &str, crosswalk: &Crosswalk) {
    let overflow = g.statuses.iter().any(|(s, _)| *s == CellStatus::Overflow);
    let offered = crate::audit::choices::choices(crosswalk, g.system, g.code.as_ref(), overflow);
    let (code, text) = match &g.code {
        Some(code) => (code.dotted(g.system), String::new()),
        None => (String::new(), g.shown.clone()),
    };
    let _ = write!(
        out,
        "<div class=\"decide\" data-system=\"{}\" data-code=\"{}\" data-text=\"{}\" \
         data-listed=\"{}\" data-status=\"{}\"><label>Decision for all claims \
         <select class=\"choice\"><option value=\"\">— not decided —</option>",
        g.system.name(),
        escaped(&code),
        escaped(&text),
        escaped(listed),
        g.main_status().as_str()
    );
    for c in &offered {
        let _ = write!(
            out,
            "<option value=\"{}\">{} — {}</option>",
            escaped(&c.value),
            escaped(&c.value),
            escaped(&c.label)
        );
    }
    out.push_str(
        "<option value=\"other\">another code…</option></select></label> \
         <input class=\"other\" type=\"text\" placeholder=\"code, e.g. T86.12\" \
         aria-label=\"another code\" autocomplete=\"off\" hidden></div>\n",
    );
}

/// The tables the alternatives come from.
fn crosswalk_note(crosswalk: &Crosswalk, review: &Review, totals: Option<&RunTotals>) -> String {
    let mut systems: Vec<System> = review.groups.iter().map(|g| g.system).collect();
    systems.sort();
    systems.dedup();
    let mut parts = Vec::new();
    for system in systems {
        if let Ok(gem) = crosswalk.gem(system) {
            parts.push(format!(
                "{}: {}",
                system.name(),
                escaped(&gem.provenance().to_string())
            ));
        }
        let target = system.gem_target();
        let set = crosswalk.code_set(target);
        parts.push(format!(
            "{} code set {}",
            target.label(),
            escaped(set.release())
        ));
    }
    if let Some(t) = totals {
        for (system, table) in &t.crosswalk {
            let line = format!("{}: {}", escaped(system), escaped(table));
            if !parts.contains(&line) {
                parts.push(format!("run used {line}"));
            }
        }
    }
    parts.dedup();
    format!(
        "Alternatives, titles and validity from {}.",
        parts.join("; ")
    )
}

/// A horizontal bar chart of codes by status: every code of the run when the totals are known,
/// else the audit rows.
fn chart(out: &mut String, review: &Review, totals: Option<&RunTotals>) {
    let bars: Vec<(CellStatus, u64)> = match totals {
        Some(t) => CellStatus::ALL
            .into_iter()
            .map(|s| {
                let n = t
                    .by_system
                    .values()
                    .filter_map(|by| by.get(s.as_str()))
                    .sum();
                (s, n)
            })
            .filter(|(_, n)| *n > 0)
            .collect(),
        None => review.by_status(),
    };
    if bars.is_empty() {
        return;
    }
    let (label_w, bar_w, row_h) = (170u64, 420u64, 26u64);
    let max = bars.iter().map(|b| b.1).max().unwrap_or(1).max(1);
    let height = row_h * bars.len() as u64 + 8;
    let caption = if totals.is_some() {
        "Every code of the run by status"
    } else {
        "Codes in the audit by status"
    };
    let _ = write!(
        out,
        "<figure>\n<svg class=\"chart\" role=\"img\" width=\"{w}\" height=\"{height}\" \
         viewBox=\"0 0 {w} {height}\" aria-label=\"{caption}\"><title>{caption}</title>\n",
        w = label_w + bar_w + 110
    );
    for (i, (status, n)) in bars.iter().enumerate() {
        let y = 4 + row_h * i as u64;
        let width = (bar_w * n).div_ceil(max).max(1);
        let _ = writeln!(
            out,
            "<g class=\"bar\" data-status=\"{s}\"><text x=\"{tx}\" y=\"{ty}\" \
             text-anchor=\"end\">{s}</text><rect class=\"bar-{class}\" x=\"{label_w}\" y=\"{y}\" \
             width=\"{width}\" height=\"{bh}\" rx=\"3\"></rect><text x=\"{cx}\" y=\"{ty}\">{count}\
             </text></g>",
            s = status.as_str(),
            tx = label_w - 8,
            ty = y + 16,
            class = status_class(*status),
            bh = row_h - 8,
            cx = label_w + width + 6,
            count = thousands(*n),
        );
    }
    let _ = write!(
        out,
        "</svg>\n<figcaption class=\"muted\">{caption}. Orange: needs review; green: converted; \
         blue: decided; grey: already ICD-10.</figcaption>\n</figure>\n"
    );
}

fn tally_text(tally: &Tally) -> String {
    let mut parts: Vec<String> = tally
        .sorted()
        .into_iter()
        .map(|(v, n)| {
            let v = if v.is_empty() { "(blank)" } else { v };
            format!("<code>{}</code> ({})", escaped(v), thousands(n))
        })
        .collect();
    if tally.others > 0 {
        parts.push(format!("others ({})", thousands(tally.others)));
    }
    parts.join(", ")
}

/// One source code. Returns true when the audit listed other alternatives than the crosswalk.
fn render_group(out: &mut String, g: &Group, names: &[String], crosswalk: &Crosswalk) -> bool {
    let alternatives = g
        .code
        .as_ref()
        .map(|code| crate::audit::alternatives_of(crosswalk, g.system, code))
        .unwrap_or_default();
    let alternatives = &alternatives[..];
    let listed_here = g
        .code
        .as_ref()
        .map(|code| crate::audit::listed_alternatives(g.system, code, alternatives))
        .unwrap_or_default();
    let differs = !g.listed.is_empty() && g.listed != listed_here;

    let title = g.title_in(crosswalk);

    let search = search_text(g, &title, alternatives, crosswalk);
    let main = g.main_status();
    let _ = write!(
        out,
        "<article class=\"group{}\" data-search=\"{}\">\n<h3><span class=\"code\">{}</span>\
         <span class=\"system\">{}</span><span class=\"title\">{}</span></h3>\n<p>",
        if g.needs_review() { "" } else { " settled" },
        escaped(&search.to_lowercase()),
        escaped(&g.shown),
        g.system.label(),
        if title.is_empty() {
            "<span class=\"muted\">(no title: not in the code set)</span>".to_string()
        } else {
            escaped(&title)
        }
    );
    for (status, n) in &g.statuses {
        let _ = write!(
            out,
            "<span class=\"badge {}\">{} {}</span>",
            status_class(*status),
            status.as_str(),
            thousands(*n)
        );
    }
    let _ = writeln!(
        out,
        " <strong class=\"claims\">{}</strong> · {} · in {}</p>",
        plural(g.claims, "claim", "claims"),
        plural(g.occurrences, "occurrence", "occurrences"),
        tally_text(&g.columns)
    );
    let _ = writeln!(out, "<p class=\"muted\">{}</p>", explain(main));
    if !g.reason.is_empty() {
        let _ = writeln!(out, "<p>Reason: {}</p>", escaped(&g.reason));
    }

    alternatives_table(out, g, alternatives, crosswalk);
    decide_block(out, g, &listed_here, crosswalk);
    if differs {
        let _ = writeln!(
            out,
            "<p class=\"warn\">The audit lists other alternatives: <code>{}</code>.</p>",
            escaped(&g.listed)
        );
    }
    group_footer(out, g, names);
    out.push_str("</ul>\n</article>\n");
    differs
}

/// What the filter box searches for a card: code, system, title, statuses, columns, every
/// alternative and the billable codes under a header alternative.
fn search_text(
    g: &Group,
    title: &str,
    alternatives: &[crate::mapping::Alternative],
    crosswalk: &Crosswalk,
) -> String {
    let target = g.system.gem_target();
    let mut search = format!("{} {} {title}", g.shown, g.system.name());
    if let Some(code) = &g.code {
        search.push(' ');
        search.push_str(code.as_str());
    }
    for (s, _) in &g.statuses {
        search.push(' ');
        search.push_str(s.as_str());
    }
    for (c, _) in &g.columns.values {
        search.push(' ');
        search.push_str(c);
    }
    let target_set = crosswalk.code_set(target);
    for a in alternatives {
        for t in &a.codes {
            search.push(' ');
            search.push_str(&t.code.dotted(target));
            // A header's billable codes are shown on the card, so they find it too.
            for c in target_set
                .billable_under(&t.code)
                .take(BILLABLE_UNDER_SHOWN)
            {
                search.push(' ');
                search.push_str(&c.dotted(target));
            }
        }
    }
    search
}

/// The table of a card's alternatives: codes, titles, validity (with the billable codes under a
/// header) and how often each was written.
fn alternatives_table(
    out: &mut String,
    g: &Group,
    alternatives: &[crate::mapping::Alternative],
    crosswalk: &Crosswalk,
) {
    if alternatives.is_empty() {
        return;
    }
    let target = g.system.gem_target();
    let _ = writeln!(
        out,
        "<table class=\"alternatives\"><thead><tr><th>#</th><th>{}</th><th>Title</th>\
         <th>Validity</th><th>Written</th></tr></thead><tbody>",
        target.label()
    );
    // How often each alternative was written: its first code is what lands in the cell.
    let written: Vec<(crate::code::Code, u64)> = g
        .written
        .values
        .iter()
        .filter_map(|(v, n)| Some((crate::code::Code::parse_str(target, v).ok()?, *n)))
        .collect();
    for (i, a) in alternatives
        .iter()
        .take(MAX_LISTED_ALTERNATIVES)
        .enumerate()
    {
        let mut codes = Vec::new();
        let mut titles = Vec::new();
        let mut validity = Vec::new();
        for t in &a.codes {
            codes.push(format!("<code>{}</code>", t.code.dotted(target)));
            titles.push(escaped(
                &crosswalk.title(target, &t.code).unwrap_or_default(),
            ));
            let v = crosswalk.validity(target, &t.code).as_str();
            let mut cell = format!("<span class=\"validity-{v}\">{v}</span>");
            // A header's billable codes are what a reviewer decides between.
            if let Some(under) = crosswalk.code_set(target).billable_under_text(
                &t.code,
                target,
                BILLABLE_UNDER_SHOWN,
            ) {
                cell.push_str(" <span class=\"muted\">billable under it: ");
                cell.push_str(&escaped(&under));
                cell.push_str("</span>");
            }
            validity.push(cell);
        }
        let times: u64 = written
            .iter()
            .filter(|(c, _)| a.codes.first().is_some_and(|t| t.code == *c))
            .map(|(_, n)| n)
            .sum();
        let _ = writeln!(
            out,
            "<tr{}><td class=\"n\">{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            if times > 0 { " class=\"written\"" } else { "" },
            i + 1,
            codes.join(" + "),
            titles.join("<br>"),
            validity.join("<br>"),
            if times > 0 {
                format!("{}×", thousands(times))
            } else {
                String::new()
            }
        );
    }
    out.push_str("</tbody></table>\n");
    if alternatives.len() > MAX_LISTED_ALTERNATIVES {
        let _ = writeln!(
            out,
            "<p class=\"muted\">… and {} more: <code>crosswalk map --system {} {}</code> \
             lists them all.</p>",
            alternatives.len() - MAX_LISTED_ALTERNATIVES,
            g.system.name(),
            escaped(&g.shown)
        );
    }
}

/// The end of a card: what was written and left over, decisions filled in, sample claims.
fn group_footer(out: &mut String, g: &Group, names: &[String]) {
    let _ = writeln!(out, "<p>Written: {}</p>", tally_text(&g.written));
    if !g.leftover.is_empty() {
        let _ = writeln!(
            out,
            "<p>Left over (in the flags column): {}</p>",
            tally_text(&g.leftover)
        );
    }
    if !g.decisions.is_empty() {
        let _ = writeln!(
            out,
            "<p>Decisions filled in: {}</p>",
            tally_text(&g.decisions)
        );
    }
    out.push_str("<p class=\"muted\">Sample claims:</p><ul class=\"samples\">");
    for s in &g.samples {
        let claim: Vec<String> = names
            .iter()
            .zip(&s.claim)
            .map(|(k, v)| format!("{} <code>{}</code>", escaped(k), escaped(v)))
            .collect();
        let keys: Vec<&str> = s.claim.iter().map(|k| &**k).collect();
        let _ = write!(
            out,
            "<li data-row=\"{}\" data-line=\"{}\" data-column=\"{}\" data-keys=\"{}\" \
             data-fingerprint=\"{}\">{}row {}, line {}, {} <select class=\"claim-choice\" \
             aria-label=\"decision for this claim\"></select></li>",
            s.row,
            s.line,
            escaped(&s.column),
            escaped(&serde_json::to_string(&keys).unwrap_or_default()),
            s.fingerprint
                .map(|f| format!("{f:016x}"))
                .unwrap_or_default(),
            if claim.is_empty() {
                String::new()
            } else {
                format!("{}: ", claim.join(", "))
            },
            s.row,
            s.line,
            escaped(&s.column)
        );
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;
    use crate::report::read_audit_from;

    fn page(audit: &str, max_groups: usize) -> String {
        let review = read_audit_from(audit.as_bytes(), Path::new("a.csv")).unwrap();
        let about = About {
            source: "claims <b>.csv".into(),
            audit_file: Some("review.csv".into()),
            totals: None,
            max_groups,
        };
        // One crosswalk for every test (parsing a table is slow in a debug build).
        static CROSSWALK: std::sync::OnceLock<Crosswalk> = std::sync::OnceLock::new();
        render(&review, CROSSWALK.get_or_init(Crosswalk::builtin), &about)
    }

    #[test]
    fn escapes_every_special_character() {
        let mut out = String::new();
        escape(&mut out, "<a href=\"x\" onclick='y'>&amp;\u{0}</a>");
        assert_eq!(
            out,
            "&lt;a href=&quot;x&quot; onclick=&#39;y&#39;&gt;&amp;amp;\u{FFFD}&lt;/a&gt;"
        );
    }

    #[test]
    fn claim_data_cannot_inject_markup() {
        let html = page(
            "row,line,CLM_ID,column,system,original,status,written\n\
             1,2,\"<script>alert(1)</script>\",\"DX\"\" onmouseover=\"\"x\",icd9-dx,\
             \"<img src=x onerror=alert(2)>\",malformed,\"</code><b>\"\n",
            10,
        );
        assert_eq!(
            html.matches("<script").count(),
            1,
            "only the page's own script"
        );
        assert!(!html.contains("<img"));
        assert!(!html.contains("<b>"));
        assert!(!html.contains("\" onmouseover"));
        assert!(html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
        assert!(html.contains("&lt;img src=x onerror=alert(2)&gt;"));
        assert!(html.contains("claims &lt;b&gt;.csv"));
    }

    #[test]
    fn alternatives_come_with_titles_and_validity() {
        let html = page(
            "row,line,column,system,original,status,written\n\
             1,2,DX1,icd9-dx,99681,ambiguous,T8610\n",
            10,
        );
        for expected in [
            "996.81",
            "Complications of transplanted kidney",
            "<code>T86.10</code>",
            "Kidney transplant rejection",
            "validity-billable",
            "1 claim</strong>",
        ] {
            assert!(html.contains(expected), "{expected} missing");
        }
        assert!(!html.contains("billable under it"));
    }

    #[test]
    fn a_header_alternative_names_its_billable_codes() {
        let html = page(
            "row,line,column,system,original,status,written\n\
             1,2,DX1,icd9-dx,2724,ambiguous,E784\n",
            10,
        );
        assert!(
            html.contains(
                "<span class=\"validity-header\">header</span> <span class=\"muted\">billable \
                 under it: E78.41, E78.49</span>"
            ),
            "{html}"
        );
        assert_eq!(html.matches("billable under it").count(), 1, "not E78.5");
        // The filter finds the card by the codes under the header too.
        let search = &html[html.find("data-search=\"").unwrap()..];
        let search = &search[..search.find('>').unwrap()];
        assert!(search.contains("e78.41 e78.49"), "{search}");
    }

    #[test]
    fn groups_beyond_the_cap_are_counted_not_shown() {
        let mut audit = String::from("row,line,column,system,original,status,written\n");
        for i in 0..30 {
            audit.push_str(&format!("{i},{},DX1,icd9-dx,X{i:02},malformed,\n", i + 1));
        }
        let html = page(&audit, 25);
        assert_eq!(html.matches("<article").count(), 25);
        assert!(html.contains("5 more source codes"), "{html}");
        assert!(html.contains("<span id=\"shown\" class=\"muted\">25 codes</span>"));
        assert!(html.contains("<dd id=\"groups\">30</dd>"));
    }

    #[test]
    fn no_external_resources() {
        let html = page(
            "row,line,column,system,original,status,written\n\
             1,2,DX1,icd9-dx,7796,no_map,7796\n",
            10,
        );
        for banned in ["http://", "https://", "src=", "@import", "url("] {
            assert!(!html.contains(banned), "{banned} found");
        }
        assert!(html.contains("default-src 'none'"));
    }

    mod properties {
        use proptest::prelude::*;

        use super::*;

        /// Undo [`escape`] (for checking it).
        fn unescape(text: &str) -> String {
            text.replace("&lt;", "<")
                .replace("&gt;", ">")
                .replace("&quot;", "\"")
                .replace("&#39;", "'")
                .replace("&amp;", "&")
        }

        proptest! {
            #[test]
            fn escaped_text_has_no_markup_and_reads_back(text in any::<String>()) {
                let out = escaped(&text);
                prop_assert!(!out.contains(['<', '>', '"', '\'']));
                let expected: String = text
                    .chars()
                    .map(|c| if c.is_control() && !matches!(c, '\t' | '\n' | '\r') {
                        '\u{FFFD}'.to_string()
                    } else if crate::inert::is_invisible(c) {
                        format!("[U+{:04X}]", c as u32)
                    } else {
                        c.to_string()
                    })
                    .collect();
                prop_assert_eq!(unescape(&out), expected);
            }

            #[test]
            fn any_claim_value_stays_text_on_the_page(
                key in "[^\r\n]{0,40}",
                code in "[^\r\n]{0,20}",
            ) {
                let mut audit = csv::Writer::from_writer(Vec::new());
                audit.write_record(["row", "line", "KEY", "column", "system", "original", "status"]).unwrap();
                audit.write_record(["1", "2", &key, "DX1", "icd9-dx", &code, "malformed"]).unwrap();
                let audit = String::from_utf8(audit.into_inner().unwrap()).unwrap();
                let html = page(&audit, 10);
                // The page's own markup only: one script, one style, and the values as text.
                prop_assert_eq!(html.matches("<script").count(), 1);
                prop_assert_eq!(html.matches("<style").count(), 1);
                let start = html.find("<article").unwrap();
                let end = html.find("</article>").unwrap();
                let card = &html[start..end];
                // Every tag in the card is one the page writes.
                const TAGS: [&str; 20] = [
                    "article", "h3", "span", "p", "strong", "code", "table", "thead", "tbody",
                    "tr", "th", "td", "ul", "li", "br", "div", "label", "select", "option",
                    "input",
                ];
                for (i, _) in card.match_indices('<') {
                    let name: String = card[i + 1..]
                        .trim_start_matches('/')
                        .chars()
                        .take_while(|c| c.is_ascii_alphanumeric())
                        .collect();
                    prop_assert!(TAGS.contains(&name.as_str()), "tag {name:?} in {card}");
                }
                // The searchable text is one attribute value, closed right before `>`.
                let value = &card[card.find("data-search=\"").unwrap() + 13..];
                let close = value.find('"').unwrap();
                prop_assert_eq!(&value[close + 1..close + 2], ">");
            }
        }
    }

    #[test]
    fn thousands_separators() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1000), "1,000");
        assert_eq!(thousands(1234567), "1,234,567");
    }
}
