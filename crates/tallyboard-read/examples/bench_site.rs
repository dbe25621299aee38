//! The static site at scale: page weights and generation times for an
//! election of N units (the exercise's deterministic generator, every unit
//! reporting every contest).
//!
//!     cargo run --release -p tallyboard-read --example bench_site -- 1000000
//!
//! Options after N: `--contests C` (default 2), `--sample K` unit pages
//! rendered and written (default 5,000: the per-unit cost times N gives
//! the first full generation, which a million unit pages on disk would
//! need about 15 GB to show), `--out DIR` (default a temporary directory,
//! removed at the end), `--batch B` units changed per checkpoint
//! (default 1,000).
//!
//! It prints, for the front page, the region pages, the search page and
//! shards and the unit pages, the largest file and the time to render and
//! write them; then the cost of one checkpoint round (the front page and
//! regions re-rendered, B unit pages written) and of a round where nothing
//! changed; and it finds a unit through the search index as the search
//! page's script does.

use std::sync::Arc;
use std::time::Instant;

use tallyboard_core::hash::Hash;
use tallyboard_core::tally::Tally;
use tallyboard_core::totals::TotalsBuilder;
use tallyboard_exercise::election::{Plan, generate_plan};
use tallyboard_read::site::search::{normalise, shard_file};
use tallyboard_read::site::{Site, SiteConfig, SiteWriter, Status, UnitEntries, unit_files};

type R<T> = Result<T, Box<dyn std::error::Error>>;

fn arg<T: std::str::FromStr>(args: &[String], name: &str, default: T) -> T {
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn kb(n: usize) -> String {
    format!("{:.1} KB", n as f64 / 1000.0)
}

fn main() -> R<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let n: usize = args.first().and_then(|a| a.parse().ok()).unwrap_or(200_000);
    let contests: usize = arg(&args, "--contests", 2);
    let sample: usize = arg(&args, "--sample", 5_000).min(n);
    let batch: usize = arg(&args, "--batch", 1_000).min(n);
    let tmp;
    let out = match args
        .iter()
        .position(|a| a == "--out")
        .and_then(|i| args.get(i + 1))
    {
        Some(d) => std::path::PathBuf::from(d),
        None => {
            tmp = tempfile::tempdir()?;
            tmp.path().to_path_buf()
        }
    };
    let public = out.join("public");
    std::fs::create_dir_all(&public)?;

    let t = Instant::now();
    let g = generate_plan(Plan::scaled(n, contests)?, false)?;
    let manifest_bytes = g.manifest.to_bytes();
    let manifest = Arc::new(g.manifest.manifest().clone());
    println!(
        "election: {} units, {} regions, {} contests (generated in {:.1?})",
        manifest.units.len(),
        manifest.regions.len(),
        manifest.contests.len(),
        t.elapsed()
    );

    // Every unit reports every contest it takes part in.
    let t = Instant::now();
    let tally = |i: usize, c: usize| -> Tally {
        let u = &g.units[i];
        let spec = &g.contests()[c];
        let f = g.figures(u, c);
        Tally::new(
            &manifest.election,
            &spec.id,
            &u.id,
            spec.choices.iter().map(|(id, _)| id.clone()).zip(f.votes),
            f.blank,
            f.invalid,
            f.cast,
            g.counted_at(i),
            g.centre_key(&u.centre, g.counted_at(i))
                .map(|k| k.key.signer.secret().public_key())
                .unwrap_or(manifest.authority),
        )
    };
    let mut builder = TotalsBuilder::new(manifest.clone());
    let mut entries = 0u64;
    for (i, u) in g.units.iter().enumerate() {
        for &c in &u.contests {
            builder.add(&tally(i, c))?;
            entries += 1;
        }
    }
    let root = Hash::sha256(b"bench");
    let totals = Arc::new(builder.finish(&manifest.log.origin, entries, root));
    println!(
        "totals of {entries} tallies: {} rows ({:.1?})",
        totals.rows.len(),
        t.elapsed()
    );

    let site = Site::new(
        manifest.clone(),
        &manifest_bytes,
        SiteConfig {
            authority: Some(g.authority.signer.verifier().to_string()),
            mirror: None,
        },
    );
    let st = Status {
        totals: Some(totals.clone()),
        updated_at: g.counted_at(n - 1) + 600,
        ..Status::default()
    };
    let mut w = SiteWriter::new(&public);

    // Files that do not depend on the results: assets, search index.
    let t = Instant::now();
    let shards = site.write_fixed(&mut w)?;
    let fixed = w.take_counts();
    let fixed_time = t.elapsed();
    let largest_shard = std::fs::read_dir(public.join("search"))?
        .filter_map(|e| e.ok()?.metadata().ok())
        .map(|m| m.len() as usize)
        .max()
        .unwrap_or(0);

    // Front page, regions, search page: rendered (the results model
    // computed once), then written.
    let t = Instant::now();
    let front = site.front_page(&st);
    let front_time = t.elapsed();
    let t = Instant::now();
    let pages = site.results_pages(&st, shards);
    let pages_time = t.elapsed();
    let mut region_max = (0usize, String::new());
    let mut region_files = 0usize;
    for (path, page) in &pages {
        if path.starts_with("regions/") {
            region_files += 1;
            if page.len() > region_max.0 {
                region_max = (page.len(), path.clone());
            }
        }
    }
    let search_page = site.search_page(shards, &st);
    let t = Instant::now();
    site.write_results(&mut w, &st, shards)?;
    let first_results = w.take_counts();
    let first_results_time = t.elapsed();

    // Unit pages: a sample, with a correction for every tenth unit.
    let signed_of = |i: usize| -> Vec<(u64, Vec<u8>)> {
        let u = &g.units[i];
        let at = g.counted_at(i);
        let Some(key) = g.centre_key(&u.centre, at) else {
            return Vec::new();
        };
        let secret = key.key.signer.secret();
        let mut v = Vec::new();
        let mut idx = (i * 3) as u64;
        for &c in &u.contests {
            let first = tally(i, c).sign(secret);
            let leaf = first.leaf_hash();
            v.push((idx, first.into_bytes()));
            idx += 1;
            if i.is_multiple_of(10) {
                let mut fix =
                    tally(i, c).correction(leaf, "recount ordered by the district commission");
                let moved = fix.choices.values_mut().next().map_or(0, |x| {
                    let m = (*x).min(1);
                    *x -= m;
                    m
                });
                fix.blank += moved;
                v.push((idx, fix.sign(secret).into_bytes()));
                idx += 1;
            }
        }
        v
    };
    let step = (n / sample.max(1)).max(1);
    let picked: Vec<usize> = (0..n).step_by(step).take(sample).collect();
    let signed: Vec<UnitEntries> = picked.iter().map(|&i| (i, signed_of(i))).collect();
    let t = Instant::now();
    let mut unit_max = 0usize;
    for (i, e) in &signed {
        for (path, bytes) in unit_files(&site, *i, e) {
            if path.ends_with("index.html") {
                unit_max = unit_max.max(bytes.len());
            }
        }
    }
    let unit_render = t.elapsed();
    // Rendered again and written as the site's writer does (rendering on
    // other threads while this one writes).
    let t = Instant::now();
    site.write_units(&mut w, &signed)?;
    w.flush()?;
    let units_written = w.take_counts();
    let unit_write = t.elapsed();
    let per_unit = unit_write.as_secs_f64() / signed.len().max(1) as f64;

    // A checkpoint round: figures changed, `batch` units gained an entry.
    let st2 = Status {
        updated_at: st.updated_at + 1,
        ..st.clone()
    };
    let changed: Vec<UnitEntries> = signed
        .iter()
        .take(batch)
        .map(|(i, e)| {
            let mut e = e.clone();
            if let Some((idx, bytes)) = e.first().cloned() {
                // A further revision of the unit's first entry (same
                // bytes, new index: enough to change the page).
                e.push((idx + 7, bytes));
            }
            (*i, e)
        })
        .collect();
    let t = Instant::now();
    site.write_results(&mut w, &st2, shards)?;
    site.write_units(&mut w, &changed)?;
    w.flush()?;
    let round = w.take_counts();
    let round_time = t.elapsed();
    let t = Instant::now();
    site.write_results(&mut w, &st2, shards)?;
    let idle = w.take_counts();
    let idle_time = t.elapsed();

    // Find a unit as the search page's script does: by its id, by its name.
    let target = &manifest.units[n - 1];
    let find = |query: &str| -> R<(String, bool)> {
        let key = normalise(query);
        let file = shard_file(&key, shards);
        let shard: serde_json::Value = serde_json::from_slice(&std::fs::read(public.join(&file))?)?;
        let found = shard[&key]
            .as_array()
            .is_some_and(|l| l.iter().any(|x| x[0] == target.id.as_str()));
        Ok((file, found))
    };
    let (by_id, found_id) = find(&target.id)?;
    let (by_name, found_name) = find(&target.name)?;
    let found = found_id && found_name;

    println!("\npage weights (uncompressed):");
    println!(
        "  front page (index.html)        {}   (limit 100 KB)",
        kb(front.len())
    );
    println!(
        "  largest region page            {}   ({}; {region_files} region files)",
        kb(region_max.0),
        region_max.1
    );
    println!("  search page                    {}", kb(search_page.len()));
    println!(
        "  largest search shard           {}   ({shards} shards)",
        kb(largest_shard)
    );
    println!(
        "  largest unit page (sample)     {}   (limit 200 KB for every page but the front)",
        kb(unit_max)
    );
    println!("\ngeneration:");
    println!("  front page render              {front_time:.1?}");
    println!("  front, region and search pages render {pages_time:.1?}  (results model included)");
    println!(
        "  assets + search index written  {fixed_time:.1?}  ({} files, {})",
        fixed.written,
        kb(fixed.bytes as usize)
    );
    println!(
        "  results pages first write      {first_results_time:.1?}  ({} files, {})",
        first_results.written,
        kb(first_results.bytes as usize)
    );
    println!(
        "  unit pages: {} units rendered in {unit_render:.1?}; rendered and written in {unit_write:.1?} ({} files); {:.0} us per unit, so about {:.0} s for all {n} units at first start",
        signed.len(),
        units_written.written,
        per_unit * 1e6,
        per_unit * n as f64
    );
    println!(
        "  checkpoint round               {round_time:.1?}  ({} files written, {} unchanged; {} units changed)",
        round.written,
        round.unchanged,
        changed.len()
    );
    println!(
        "  round with nothing new         {idle_time:.1?}  ({} written, {} unchanged)",
        idle.written, idle.unchanged
    );
    let yes = |f: bool| if f { "yes" } else { "NO" };
    println!(
        "\nsearch: unit {} found by its id through {by_id}: {}; by its name \"{}\" through {by_name}: {}",
        target.id,
        yes(found_id),
        target.name,
        yes(found_name)
    );
    if !found || front.len() >= 100_000 || region_max.0 >= 200_000 || unit_max >= 200_000 {
        return Err("a weight limit is exceeded or the unit was not found".into());
    }
    Ok(())
}
