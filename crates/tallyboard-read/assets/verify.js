// verify.js: the results pages check themselves in the reader's browser.
//
// A dependency-free ES module. It fetches the signed manifest, the log's
// checkpoint, the signed totals, tiles and entry bundles (relative to its
// own address, so it works on the origin, on every mirror and on a static
// copy), hands their bytes to the WebAssembly build of tallyboard's formats
// crate (tallyboard_web_bg.wasm) and marks the page with the verdicts. It
// has no format logic of its own: every signature, hash, proof and figure is
// checked by the WebAssembly, the same code as the command-line verifier.
//
// Built from crates/tallyboard-web/js/verify.js by scripts/build-web.sh.

import { initSync, Web, sha256_hex, paper_read_image, paper_read_text } from './tallyboard_web.js';

// Every text the script shows, in one place (translate here).
const TEXT = {
  checking: 'Checking these results against the log…',
  verifiedFig: (size, witnesses) =>
    `verified against the log at size ${size}, cosigned by ${witnesses}`,
  verifiedAll: (n, size, witnesses, ms) =>
    `All ${n} figures on this page are verified against the log at size ${size}, cosigned by ${witnesses} (checked in your browser in ${ms} ms).`,
  verifiedLog: (size, witnesses, ms) =>
    `The log's checkpoint at size ${size}, cosigned by ${witnesses}, and the signed totals are verified (checked in your browser in ${ms} ms).`,
  failedSome: (bad, n) =>
    `Warning: ${bad} of the ${n} figures on this page could not be verified. They are marked below.`,
  failedFig: (why) => `NOT VERIFIED: ${why}`,
  whatToDo:
    'Do not rely on this figure. Reload the page; if it stays, compare with another mirror (below) or run the tallyboard verify command shown on this page, and report it to the election authority and observers.',
  stageFailed: (why) => `The check could not be completed: ${why}`,
  provenEntry: (index, size, centre) =>
    `proven: signed by ${centre}, included as leaf ${index} in the log at size ${size}`,
  entriesProven: (n, ms) => `All ${n} signed tallies on this page are proven (signature and inclusion in the log, ${ms} ms).`,
  entriesFailed: (bad, n) => `Warning: ${bad} of the ${n} signed tallies on this page could not be proven. They are marked below.`,
  leafMismatch: (shown, got) => `the page shows leaf hash ${shown}, the log holds ${got}`,
  broken: (v) => `the tally breaks the manifest's rules: ${v}`,
  steps: 'What was checked',
  timing: (name, ms) => `${name}: ${ms} ms`,
  stepManifest: (sha) => `Election manifest signed by the authority key on this page (SHA-256 ${sha})`,
  stepCheckpoint: (size, witnesses, quorum) => `Checkpoint at size ${size} signed by the log, cosigned by ${witnesses} (quorum ${quorum})`,
  stepTotals: (size) => `Signed totals at size ${size}, signed by the log key and bound to the checkpoint`,
  stepFigures: (n) => `${n} figures compared with the signed totals`,
  hashes: (js, wasm) => `This check ran verify.js SHA-256 ${js} and tallyboard_web_bg.wasm SHA-256 ${wasm}; rebuild them from the source to compare (README, "Checking the checker").`,
  recountButton: 'Check this region against its units\u2019 signed tallies',
  recountProgress: (done, total) => `Fetching and proving the units' tallies: ${done} of ${total} units…`,
  recountOk: (units, entries, rows, ms) =>
    `Recount matches: ${entries} signed tallies of ${units} units, proven in the log, add up to every figure of ${rows} rows of the signed totals (${ms} ms).`,
  recountBad: (n) => `Recount does NOT match the signed totals (${n} differences):`,
  recountProblem: 'Entries that are not counted:',
  compareLegend: 'Compare with another mirror',
  compareLabel: 'Address of a mirror',
  compareButton: 'Compare',
  compareSame: (size) => `Same log: the other mirror shows the same checkpoint (size ${size}).`,
  compareAhead: (a, b) => `Same log: the other mirror is at size ${b}, this site at size ${a}; the smaller tree is a prefix of the larger (consistency proven).`,
  compareFailed: (why) => `Could not compare: ${why}`,
  splitView: 'SPLIT VIEW: ',
  evidenceMine: 'Checkpoint of this site:',
  evidenceTheirs: 'Checkpoint of the other mirror:',
  resultsOk: (n, size) => `verified: all ${n} figures of results.json are those of the signed totals at size ${size}`,
  resultsBad: (count) => `results.json does NOT match the signed totals (${count === 1 ? '1 figure differs' : `${count} figures differ`}):`,
  resultsMissing: 'results.json is not published here yet',
  stepResults: (n) => `results.json compared with the results computed from the signed totals (${n} figures)`,
  paperReading: 'Reading the codes and checking the sheet against the log…',
  paperNothing: 'choose a photo or scan of the sheet, or paste the text of its codes',
  pasted: 'pasted text',
  sheetName: (name, fp) => `${name} (fingerprint ${fp})`,
  paperTime: (ms) => `Checked in your browser in ${ms} ms.`,
  paperCli: 'The same check with the command-line verifier:',
  paperDiffers: 'Figures that differ:',
  paperVerdict: {
    match: {
      head: 'This paper MATCHES what is published.',
      todo: 'The count centre signed exactly these figures, the public log holds them, and they are the figures that count.',
    },
    superseded: {
      head: 'This paper is OUT OF DATE: a correction replaced it.',
      todo: 'The figures that count are those of the correction. Ask the polling station or the count centre for the sheet of the correction and check it here; if no correction was announced, report it to the election authority and observers.',
    },
    differs: {
      head: 'This paper does NOT match what is published.',
      todo: 'The count centre signed these figures, but the log holds others for this polling station. Keep the paper and your photo, note where and when it was posted, and report it to the election authority and observers (the command below gives evidence they can re-check).',
    },
    'not-in-log': {
      head: 'This paper is NOT in the published results.',
      todo: 'The count centre signed it, but the log has no tally of this polling station and contest yet. It may not have been submitted: check again later; if it is still missing when the results are final, report it to the election authority and observers.',
    },
    'not-genuine': {
      head: 'This paper is NOT a genuine signed tally.',
      todo: 'Its codes do not carry a tally signed by a count centre key of this election: the paper may be forged or altered. Keep it and your photo, and report it to the election authority and observers.',
    },
    unreadable: {
      head: 'The codes on this paper could not be read.',
      todo: 'Take a sharper photo, straight above the sheet, in good light, with every QR code in view (one photo per page), or paste the text of the codes.',
    },
  },
};

const ROOT = new URL('../', import.meta.url); // the site's root: verify.js is site/verify.js
const status = document.getElementById('tb-check');

function meta(name) {
  const m = document.querySelector(`meta[name="${name}"]`);
  return m ? m.getAttribute('content') || '' : '';
}

async function get(url, fresh) {
  const r = await fetch(url, fresh ? { cache: 'no-cache' } : {});
  if (!r.ok) throw new Error(`${new URL(url, ROOT).pathname}: HTTP ${r.status}`);
  return new Uint8Array(await r.arrayBuffer());
}

const ms = (t0) => (performance.now() - t0).toFixed(1);

function el(tag, attrs = {}, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
  for (const c of children) e.append(c);
  return e;
}

// Styles for the marks (a constructed sheet: allowed by a CSP without
// 'unsafe-inline', and no file beyond the three assets).
function addStyles() {
  const css = `
.tb-mark{font-size:.8em;margin-left:.25em;white-space:normal}
.tb-ok .tb-mark{color:#0a6b2d}
.tb-bad{outline:2px solid #b00020;background:#fde7ea}
.tb-bad .tb-mark{color:#8a0019;font-weight:bold;display:block;max-width:40ch;overflow-wrap:anywhere}
#tb-check{overflow-wrap:anywhere}
#tb-check .tb-bad-text{color:#8a0019;font-weight:bold}
#tb-check pre{white-space:pre-wrap;overflow-wrap:anywhere}
#tb-check input{max-width:100%}
#tb-paper fieldset{min-width:0}
#tb-paper input{max-width:100%}
#tb-paper textarea{width:100%;font-family:ui-monospace,monospace}
.tb-paper-ok{border-left:6px solid #0a6b2d;padding-left:.75em}
.tb-paper-bad{border-left:6px solid #b00020;padding-left:.75em}
.tb-paper-ok h2,.tb-paper-bad h2{font-size:1.1em}`;
  try {
    const s = new CSSStyleSheet();
    s.replaceSync(css);
    document.adoptedStyleSheets = [...document.adoptedStyleSheets, s];
  } catch (_) {
    /* marks still carry their words */
  }
}

// The figure's own text, without the marks this script added.
function shownText(e) {
  let t = '';
  for (const n of e.childNodes) {
    if (n.nodeType === Node.ELEMENT_NODE && n.classList.contains('tb-mark')) continue;
    t += n.textContent;
  }
  return t;
}

function mark(e, ok, words) {
  e.querySelectorAll(':scope > .tb-mark').forEach((m) => m.remove());
  e.classList.toggle('tb-ok', ok);
  e.classList.toggle('tb-bad', !ok);
  e.setAttribute('data-tb-verdict', ok ? 'verified' : 'failed');
  e.setAttribute('title', words);
  const m = el('span', { class: 'tb-mark' }, ok ? '\u2713' : `\u2717 ${words}`);
  if (ok) {
    m.setAttribute('role', 'img');
    m.setAttribute('aria-label', words);
  }
  e.append(m);
}

function say(...lines) {
  status.replaceChildren(...lines);
}

// Runs a step that may ask for tiles first: fetches them (from this site,
// or from `otherBase` when the step says so) until the step is done.
async function withTiles(web, call, otherBase) {
  for (let round = 0; round < 32; round++) {
    const a = JSON.parse(call());
    if ('done' in a) return a.done;
    const need = a.need.slice();
    let other = false;
    if (need.length && need[0].startsWith('from:')) other = need.shift() === 'from:other';
    const base = other ? otherBase : ROOT;
    await Promise.all(need.map(async (p) => web.add_tile(p, await get(new URL(p, base)), other)));
  }
  throw new Error('the tiles needed kept changing');
}

const bundles = new Map();
function bundle(path) {
  if (!bundles.has(path)) bundles.set(path, get(new URL(path, ROOT)));
  return bundles.get(path);
}

async function proveEntry(web, index) {
  const b = await bundle(web.bundle_path(BigInt(index)));
  return withTiles(web, () => web.verify_entry(BigInt(index), b));
}

// Unit pages: every revision proven (signature, inclusion) and its figures
// compared with the signed tally.
async function checkEntries(web, ctx, timings) {
  const entries = [...document.querySelectorAll('[data-tb-entry]')];
  if (!entries.length) return { n: 0, bad: 0 };
  const t0 = performance.now();
  let bad = 0;
  for (const e of entries) {
    const figs = [...e.querySelectorAll('[data-tb-unitfig]')];
    try {
      const idx = e.getAttribute('data-tb-entry');
      const r = await proveEntry(web, idx);
      const shown = (e.getAttribute('data-tb-leaf-hash') || '').toLowerCase();
      if (shown !== r.leaf_hash) throw new Error(TEXT.leafMismatch(shown, r.leaf_hash));
      if (r.violations.length) throw new Error(TEXT.broken(r.violations.join('; ')));
      const verdicts = JSON.parse(
        web.check_entry_figures(BigInt(idx), JSON.stringify(figs.map((f) => [f.getAttribute('data-tb-unitfig'), shownText(f)]))),
      );
      let entryOk = true;
      verdicts.forEach((v, i) => {
        mark(figs[i], v.ok, v.ok ? TEXT.provenEntry(r.index, r.size, r.centre || r.signer) : TEXT.failedFig(`${v.problem}. ${TEXT.whatToDo}`));
        if (!v.ok) entryOk = false;
      });
      e.classList.toggle('tb-entry-ok', entryOk);
      e.setAttribute('data-tb-verdict', entryOk ? 'verified' : 'failed');
      if (!entryOk) bad++;
    } catch (err) {
      bad++;
      e.setAttribute('data-tb-verdict', 'failed');
      const words = TEXT.failedFig(`${err.message}. ${TEXT.whatToDo}`);
      if (figs.length) figs.forEach((f) => mark(f, false, words));
      else mark(e, false, words);
    }
  }
  timings.push(TEXT.timing('unit tallies proven', ms(t0)));
  ctx.entryMs = ms(t0);
  return { n: entries.length, bad };
}

// The units' leaf indexes, read from their pages (data-tb-entry): every
// index is proven in the log, and the recount compares with signed totals.
async function unitIndexes(unit) {
  const url = new URL(`units/${encodeURIComponent(unit)}/`, ROOT);
  const r = await fetch(url);
  if (r.status === 404) return [];
  if (!r.ok) throw new Error(`${url.pathname}: HTTP ${r.status}`);
  const doc = new DOMParser().parseFromString(await r.text(), 'text/html');
  return [...doc.querySelectorAll('[data-tb-entry]')].map((x) => x.getAttribute('data-tb-entry'));
}

function recountUi(web, region, box) {
  const out = el('div', { role: 'status', 'aria-live': 'polite' });
  const button = el('button', { type: 'button', id: 'tb-recount' }, TEXT.recountButton);
  button.addEventListener('click', async () => {
    button.disabled = true;
    const t0 = performance.now();
    try {
      const units = JSON.parse(web.region_units(region));
      let done = 0;
      const queue = units.slice();
      const worker = async () => {
        while (queue.length) {
          const u = queue.shift();
          for (const idx of await unitIndexes(u)) await proveEntry(web, idx);
          done++;
          out.textContent = TEXT.recountProgress(done, units.length);
        }
      };
      await Promise.all([worker(), worker(), worker(), worker()]);
      const r = JSON.parse(web.recount(region));
      const lines = [];
      if (!r.differences.length && !r.problems.length) {
        lines.push(el('p', { 'data-tb-recount': 'match' }, TEXT.recountOk(r.units, r.entries, r.rows, ms(t0))));
      } else {
        lines.push(el('p', { class: 'tb-bad-text', 'data-tb-recount': 'mismatch' }, TEXT.recountBad(r.differences.length)));
        lines.push(el('ul', {}, ...r.differences.map((d) => el('li', {}, d.text))));
        for (const d of r.differences) {
          const key = `${d.contest}|${d.region}|${d.figure}`;
          document.querySelectorAll(`[data-tb-fig="${CSS.escape(key)}"]`).forEach((f) => mark(f, false, TEXT.failedFig(`${d.text}. ${TEXT.whatToDo}`)));
        }
        if (r.problems.length) lines.push(el('p', {}, TEXT.recountProblem), el('ul', {}, ...r.problems.map((p) => el('li', {}, p))));
      }
      out.replaceChildren(...lines);
    } catch (err) {
      out.replaceChildren(el('p', { class: 'tb-bad-text', 'data-tb-recount': 'error' }, TEXT.stageFailed(err.message)));
    } finally {
      button.disabled = false;
    }
  });
  box.append(el('p', {}, button), out);
}

function compareUi(web, box) {
  const input = el('input', { type: 'url', id: 'tb-mirror', name: 'mirror', placeholder: 'https://', size: '30', required: '' });
  const out = el('div', { role: 'status', 'aria-live': 'polite', id: 'tb-compare-result' });
  const form = el(
    'form',
    { id: 'tb-compare' },
    el('fieldset', {}, el('legend', {}, TEXT.compareLegend), el('label', { for: 'tb-mirror' }, TEXT.compareLabel), ' ', input, ' ', el('button', { type: 'submit' }, TEXT.compareButton)),
  );
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const t0 = performance.now();
    try {
      let base = new URL(input.value, location.href);
      if (!base.pathname.endsWith('/')) base = new URL(base.pathname + '/', base);
      const theirs = await get(new URL('checkpoint', base), true);
      try {
        const r = await withTiles(web, () => web.compare(theirs), base);
        const words =
          r.relation === 'same' ? TEXT.compareSame(r.mine.size) : TEXT.compareAhead(r.mine.size, r.theirs.size);
        out.replaceChildren(el('p', { 'data-tb-compare': 'consistent' }, `${words} (${ms(t0)} ms)`));
      } catch (err) {
        if (!/split view/i.test(err.message)) throw err;
        out.replaceChildren(
          el('p', { class: 'tb-bad-text', 'data-tb-compare': 'split-view' }, TEXT.splitView + err.message),
          el('p', {}, TEXT.evidenceMine),
          el('pre', {}, web.checkpoint_note()),
          el('p', {}, TEXT.evidenceTheirs),
          el('pre', {}, new TextDecoder().decode(theirs)),
        );
      }
    } catch (err) {
      out.replaceChildren(el('p', { class: 'tb-bad-text', 'data-tb-compare': 'error' }, TEXT.compareFailed(err.message)));
    }
  });
  box.append(form, out);
}

// The site's results.json, checked figure by figure against the results
// the WebAssembly computes from the verified signed totals; the link to
// the download is marked.
async function checkResults(web, size, steps) {
  const link = document.querySelector('[data-tb-download="results.json"]');
  if (!link) return [];
  const r = await fetch(new URL('results.json', ROOT), { cache: 'no-cache' });
  if (r.status === 404) {
    link.setAttribute('data-tb-verdict', 'missing');
    link.setAttribute('title', TEXT.resultsMissing);
    return [];
  }
  if (!r.ok) throw new Error(`${new URL('results.json', ROOT).pathname}: HTTP ${r.status}`);
  const v = JSON.parse(web.check_results_json(new Uint8Array(await r.arrayBuffer())));
  steps.push(TEXT.stepResults(v.figures));
  if (v.ok) {
    mark(link, true, TEXT.resultsOk(v.figures, size));
    return [];
  }
  mark(link, false, TEXT.failedFig(`${TEXT.resultsBad(v.count)} ${v.differences.map((d) => d.text).join('; ')}. ${TEXT.whatToDo}`));
  // Lines for the status box.
  return [
    el('p', { class: 'tb-bad-text', 'data-tb-results': 'mismatch' }, TEXT.resultsBad(v.count)),
    el('ul', {}, ...v.differences.map((d) => el('li', { 'data-tb-results-figure': d.figure }, d.text))),
  ];
}

// One sheet of the paper check: its unit's entries proven in the log, then
// the verdict of the WebAssembly in words.
async function paperSheet(web, s) {
  const name = s.fingerprint ? TEXT.sheetName(s.name, s.fingerprint) : s.name;
  let state = s.state;
  let detail = [el('p', {}, s.problem || '')];
  if (state === 'genuine') {
    for (const idx of await unitIndexes(s.unit)) await proveEntry(web, idx);
    const v = JSON.parse(web.paper_verdict(s.sheet));
    state = v.verdict;
    detail = [el('p', {}, v.text)];
    if (v.differences.length) {
      detail.push(el('p', {}, TEXT.paperDiffers), el('ul', {}, ...v.differences.map((d) => el('li', { 'data-tb-paper-figure': d.figure }, d.text))));
    }
  }
  const words = TEXT.paperVerdict[state];
  const ok = state === 'match';
  return el(
    'section',
    { class: ok ? 'tb-paper-ok' : 'tb-paper-bad', 'data-tb-paper': state },
    el('h2', {}, name),
    el('p', { class: ok ? '' : 'tb-bad-text' }, words.head),
    ...detail,
    el('p', {}, words.todo),
  );
}

// The paper page: photos or scans of a posted sheet, or its codes' text.
function paperUi(web) {
  const form = document.getElementById('tb-paper');
  const out = document.getElementById('tb-paper-result');
  if (!form || !out) return;
  form.hidden = false;
  const nojs = document.getElementById('tb-paper-nojs');
  if (nojs) nojs.textContent = TEXT.paperCli;
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const body = document.body;
    body.removeAttribute('data-tb-paper-done');
    const t0 = performance.now();
    out.replaceChildren(el('p', {}, TEXT.paperReading));
    try {
      const inputs = [];
      for (const f of document.getElementById('tb-paper-files').files) {
        inputs.push([f.name, JSON.parse(paper_read_image(new Uint8Array(await f.arrayBuffer())))]);
      }
      const text = document.getElementById('tb-paper-text').value;
      if (text.trim()) inputs.push([TEXT.pasted, JSON.parse(paper_read_text(text))]);
      if (!inputs.length) throw new Error(TEXT.paperNothing);
      const sheets = JSON.parse(web.paper_sheets(JSON.stringify(inputs)));
      const items = [];
      for (const s of sheets) items.push(await paperSheet(web, s));
      body.setAttribute('data-tb-paper-ms', ms(t0));
      out.replaceChildren(...items, el('p', {}, TEXT.paperTime(ms(t0))));
    } catch (err) {
      out.replaceChildren(el('p', { class: 'tb-bad-text', 'data-tb-paper': 'error' }, TEXT.stageFailed(err.message)));
    }
    body.setAttribute('data-tb-paper-done', '1');
  });
}

async function main() {
  if (!status) return;
  addStyles();
  say(el('p', {}, TEXT.checking));
  const t0 = performance.now();
  const timings = [];
  const steps = [];
  const figs = [...document.querySelectorAll('[data-tb-fig]')];
  const body = document.body;
  let web;
  let ctx = {};
  try {
    const [jsBytes, wasmBytes] = await Promise.all([get(import.meta.url), get(new URL('tallyboard_web_bg.wasm', import.meta.url))]);
    let t = performance.now();
    // Compiled at once on this thread (the module is well under the 8 MB
    // browsers allow for that): no compile running unseen in the background.
    initSync({ module: wasmBytes });
    timings.push(TEXT.timing('WebAssembly loaded', ms(t)));
    ctx.hashes = TEXT.hashes(sha256_hex(jsBytes), sha256_hex(wasmBytes));

    const manifest = await get(new URL('manifest', ROOT), true);
    t = performance.now();
    web = new Web(meta('tb-authority'), manifest, meta('tb-manifest-sha256'));
    const summary = JSON.parse(web.summary());
    timings.push(TEXT.timing('manifest', ms(t)));
    if (meta('tb-origin') && meta('tb-origin') !== summary.origin) {
      throw new Error(`the page names log ${meta('tb-origin')}, the manifest ${summary.origin}`);
    }
    steps.push(TEXT.stepManifest(summary.manifest_sha256));

    const [note, totals] = await Promise.all([get(new URL('checkpoint', ROOT), true), get(new URL('totals', ROOT), true)]);
    t = performance.now();
    const cp = JSON.parse(web.open_checkpoint(note));
    timings.push(TEXT.timing('checkpoint', ms(t)));
    const witnesses = cp.cosigned_by.join(', ') || 'no witness';
    steps.push(TEXT.stepCheckpoint(cp.size, witnesses, summary.quorum));
    ctx = { ...ctx, cp, witnesses };

    t = performance.now();
    const tot = await withTiles(web, () => web.verify_totals(totals));
    timings.push(TEXT.timing('totals', ms(t)));
    steps.push(TEXT.stepTotals(tot.size));

    t = performance.now();
    const verdicts = JSON.parse(web.check_figures(JSON.stringify(figs.map((f) => [f.getAttribute('data-tb-fig'), shownText(f)]))));
    let bad = 0;
    verdicts.forEach((v, i) => {
      if (v.ok) mark(figs[i], true, TEXT.verifiedFig(tot.size, witnesses));
      else {
        bad++;
        mark(figs[i], false, TEXT.failedFig(`${v.problem}. ${TEXT.whatToDo}`));
      }
    });
    timings.push(TEXT.timing('figures', ms(t)));
    steps.push(TEXT.stepFigures(figs.length));

    let resultsBad = [];
    if (body.getAttribute('data-tb-page') === 'front') {
      t = performance.now();
      resultsBad = await checkResults(web, tot.size, steps);
      timings.push(TEXT.timing('results.json', ms(t)));
    }

    const entries = await checkEntries(web, ctx, timings);
    const total = ms(t0);
    body.setAttribute('data-tb-check-ms', total);
    if (ctx.entryMs) body.setAttribute('data-tb-entries-ms', ctx.entryMs);
    const ok = bad === 0 && entries.bad === 0 && resultsBad.length === 0;
    body.setAttribute('data-tb-verified', ok ? 'ok' : 'failed');
    const head = [];
    if (figs.length) {
      head.push(
        bad
          ? el('p', { class: 'tb-bad-text' }, TEXT.failedSome(bad, figs.length))
          : el('p', {}, TEXT.verifiedAll(figs.length, tot.size, witnesses, total)),
      );
    } else if (!entries.n) {
      head.push(el('p', {}, TEXT.verifiedLog(tot.size, witnesses, total)));
    }
    if (entries.n) {
      head.push(
        entries.bad
          ? el('p', { class: 'tb-bad-text' }, TEXT.entriesFailed(entries.bad, entries.n))
          : el('p', {}, TEXT.entriesProven(entries.n, ctx.entryMs)),
      );
    }
    say(
      ...head,
      ...resultsBad,
      el('details', {}, el('summary', {}, TEXT.steps), el('ol', {}, ...steps.map((s) => el('li', {}, s))), el('p', {}, timings.join('; ')), el('p', {}, ctx.hashes)),
    );
  } catch (err) {
    body.setAttribute('data-tb-verified', 'failed');
    body.setAttribute('data-tb-check-ms', ms(t0));
    const words = TEXT.failedFig(`${err.message}. ${TEXT.whatToDo}`);
    figs.forEach((f) => mark(f, false, words));
    document.querySelectorAll('[data-tb-entry]').forEach((e) => {
      e.setAttribute('data-tb-verdict', 'failed');
      const fs = e.querySelectorAll('[data-tb-unitfig]');
      if (fs.length) fs.forEach((f) => mark(f, false, words));
      else mark(e, false, words);
    });
    say(el('p', { class: 'tb-bad-text' }, TEXT.stageFailed(err.message)), el('p', {}, TEXT.whatToDo), ...(ctx.hashes ? [el('p', {}, ctx.hashes)] : []));
  }
  if (web && ctx.cp) {
    const kind = body.getAttribute('data-tb-page');
    if (kind === 'region' || kind === 'front') recountUi(web, body.getAttribute('data-tb-region') || '*', status);
    compareUi(web, status);
    if (kind === 'paper') paperUi(web);
  }
  // Links may ask for more: #compare=MIRROR compares with that mirror at
  // once, #recount starts the region check; #tb-layout records the page's
  // layout figures (the browser tests check for horizontal overflow).
  const ask = new URLSearchParams(location.hash.slice(1));
  if (ask.has('compare') && document.getElementById('tb-mirror')) {
    document.getElementById('tb-mirror').value = ask.get('compare');
    document.getElementById('tb-compare').requestSubmit();
  }
  if (ask.has('recount') && document.getElementById('tb-recount')) {
    document.getElementById('tb-recount').click();
  }
  if (ask.has('tb-layout')) {
    const d = document.documentElement;
    d.setAttribute('data-tb-scroll-width', String(d.scrollWidth));
    d.setAttribute('data-tb-inner-width', String(window.innerWidth));
  }
  body.setAttribute('data-tb-done', '1');
}

main();
