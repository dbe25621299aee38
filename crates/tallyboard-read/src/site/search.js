// The search page of a tallyboard results site: looks a unit up in the
// static, sharded index (search/<shard>.json). Same normalisation and
// hash as the index's writer (tallyboard-read, site/search.rs): letters and
// digits only, lower case; FNV-1a 32 over UTF-8, modulo the shard count.
const form = document.getElementById("tb-search");
const out = document.getElementById("tb-results");
const nojs = document.getElementById("tb-nojs");

function normalise(s) {
  return [...s].filter((c) => /[\p{Alphabetic}\p{N}]/u.test(c)).map((c) => c.toLowerCase()).join("");
}

function fnv1a(bytes) {
  let h = 0x811c9dc5;
  for (const b of bytes) {
    h ^= b;
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h >>> 0;
}

function say(text) {
  const p = document.createElement("p");
  p.textContent = text;
  out.replaceChildren(p);
}

async function search(q) {
  const key = normalise(q);
  if (!key) return say("Type a unit id or name.");
  const shards = Number(form.dataset.tbShards) || 1;
  const shard = (fnv1a(new TextEncoder().encode(key)) % shards).toString(16).padStart(4, "0");
  let index;
  try {
    const r = await fetch(`/search/${shard}.json`);
    if (!r.ok) throw new Error(`HTTP ${r.status}`);
    index = await r.json();
  } catch (e) {
    return say(`The search index could not be read (${e.message}).`);
  }
  const found = index[key] || [];
  if (found.length === 0) return say(`No unit found for “${q}”.`);
  const ul = document.createElement("ul");
  for (const [id, name] of found) {
    const li = document.createElement("li");
    const a = document.createElement("a");
    a.href = `/units/${encodeURIComponent(id)}/`;
    a.textContent = name;
    const code = document.createElement("code");
    code.textContent = id;
    li.append(a, " ", code);
    ul.append(li);
  }
  out.replaceChildren(ul);
}

if (form) {
  form.hidden = false;
  if (nojs) nojs.hidden = true;
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    search(document.getElementById("tb-q").value);
  });
  const q = new URLSearchParams(location.search).get("q");
  if (q) {
    document.getElementById("tb-q").value = q;
    search(q);
  }
}
