//! What the benchmarks (`examples/bench_*`, `scripts/bench.sh`) share: the
//! strict-verification limit measured in the same run, the process's CPU
//! time, its peak memory, and the `BENCH|...` line the script collects.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use tallyboard_core::keys::{BatchVerifier, Context};
use tallyboard_core::tally::UnverifiedTally;

/// A new, empty working directory under `target/bench-<what>/` for one
/// run. Earlier runs' directories are not deleted but moved (a rename) to
/// `target/bench-trash/`, which `scripts/bench.sh` empties after the last
/// benchmark: on ext4 without a journal, creating a file or a directory
/// within a minute or more of deleting many skips over every recently
/// deleted inode (`recently_deleted` in the kernel's inode allocator), so
/// deleting the last run's 200,000 pages first would slow the run
/// measured. A real server has not just deleted a site before the night.
pub fn run_dir(what: &str) -> PathBuf {
    let target = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target");
    let work = target.join(format!("bench-{what}"));
    let trash = target.join("bench-trash");
    std::fs::create_dir_all(&work).expect("creating the benchmark's directory");
    std::fs::create_dir_all(&trash).expect("creating target/bench-trash");
    if let Ok(old) = std::fs::read_dir(&work) {
        for (i, o) in old.flatten().enumerate() {
            let stamp = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap_or_default()
                .as_nanos();
            let _ = std::fs::rename(o.path(), trash.join(format!("{what}-{stamp}-{i}")));
        }
    }
    let dir = work.join(format!("run-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("creating the run's directory");
    dir
}

/// Cores this process may use.
pub fn threads() -> usize {
    std::thread::available_parallelism().map_or(1, usize::from)
}

/// The strict-verification limit: the signatures of `tallies` (already
/// decoded) verified strictly, one by one, with core's `BatchVerifier` in
/// chunks of 512 on `threads` threads. Signatures per second.
pub fn strict_limit(tallies: &[UnverifiedTally], threads: usize) -> f64 {
    let per = tallies.len().div_ceil(threads.max(1)).max(1);
    let started = Instant::now();
    std::thread::scope(|s| {
        for part in tallies.chunks(per) {
            s.spawn(move || {
                let mut v = BatchVerifier::new();
                for batch in part.chunks(512) {
                    for t in batch {
                        let (k, body, sig) = t.signature_parts();
                        v.push(k, Context::Tally, body, sig);
                    }
                    assert!(v.verify().is_ok(), "a benchmark tally does not verify");
                }
            });
        }
    });
    tallies.len() as f64 / started.elapsed().as_secs_f64()
}

/// [`strict_limit`] of signed tally encodings (the first 100,000 at most)
/// on every core.
pub fn strict_limit_of(entries: &[Vec<u8>]) -> f64 {
    strict_limit_and_cost(entries).0
}

/// [`strict_limit_of`], and the CPU time one strict check takes (this
/// process's CPU time over the measure, per signature): on a machine
/// shared with other work the limit falls with the cores this process
/// gets, the CPU cost of a check much less.
pub fn strict_limit_and_cost(entries: &[Vec<u8>]) -> (f64, Duration) {
    let tallies: Vec<UnverifiedTally> = entries
        .iter()
        .take(100_000)
        .map(|e| UnverifiedTally::from_bytes(e).unwrap())
        .collect();
    let cpu = cpu_time();
    let limit = strict_limit(&tallies, threads());
    let per = (cpu_time() - cpu) / tallies.len().max(1) as u32;
    (limit, per)
}

fn stat_fields() -> Vec<u64> {
    stat_fields_of("/proc/self/stat")
}

fn stat_fields_of(path: &str) -> Vec<u64> {
    let stat = std::fs::read_to_string(path).unwrap_or_default();
    // The fields after the command name, which is in parentheses.
    let rest = stat.rsplit_once(')').map_or("", |(_, r)| r);
    rest.split_whitespace()
        .map(|x| x.parse().unwrap_or(0))
        .collect()
}

/// User plus system CPU time of this process so far (10 ms resolution).
pub fn cpu_time() -> Duration {
    cpu_of(&stat_fields())
}

/// utime plus stime, fields 14 and 15 of a `/proc/.../stat` (in ticks of
/// 10 ms).
fn cpu_of(f: &[u64]) -> Duration {
    Duration::from_millis((f.get(11).unwrap_or(&0) + f.get(12).unwrap_or(&0)) * 10)
}

/// User plus system CPU time so far of this process's living threads,
/// summed by thread name (`tokio-rt-worker`, `site-writer`, ...; the
/// kernel keeps 15 characters of a name). A thread that has ended is in
/// [`cpu_time`] but no longer here.
pub fn cpu_time_by_thread() -> std::collections::BTreeMap<String, Duration> {
    let mut by = std::collections::BTreeMap::new();
    let Ok(tasks) = std::fs::read_dir("/proc/self/task") else {
        return by;
    };
    for t in tasks.flatten() {
        let dir = t.path();
        let name = std::fs::read_to_string(dir.join("comm")).unwrap_or_default();
        let cpu = cpu_of(&stat_fields_of(&dir.join("stat").to_string_lossy()));
        *by.entry(name.trim().to_string()).or_insert(Duration::ZERO) += cpu;
    }
    by
}

/// The CPU time each thread name took since `before` (an earlier
/// [`cpu_time_by_thread`]).
pub fn cpu_time_by_thread_since(
    before: &std::collections::BTreeMap<String, Duration>,
) -> std::collections::BTreeMap<String, Duration> {
    let mut by = cpu_time_by_thread();
    for (name, c) in &mut by {
        *c = c.saturating_sub(before.get(name).copied().unwrap_or_default());
    }
    by
}

/// User plus system CPU time of the children this process has waited for.
pub fn children_cpu_time() -> Duration {
    let f = stat_fields();
    // cutime and cstime: fields 16 and 17.
    Duration::from_millis((f.get(13).unwrap_or(&0) + f.get(14).unwrap_or(&0)) * 10)
}

/// Peak resident memory of this process (VmHWM), in MiB.
pub fn peak_rss_mib() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse::<f64>().ok())
        })
        .unwrap_or(0.0)
        / 1024.0
}

/// The line `scripts/bench.sh` collects: what was measured, the figure,
/// the limit, their ratio and notes.
pub fn report(what: &str, figure: &str, limit: f64, ratio: f64, notes: &str) {
    println!("BENCH|{what}|{figure}|{limit:.0} signatures/s|{ratio:.2}|{notes}");
}

/// `n` signed tallies of the scaled example election
/// ([`crate::example::scaled_tallies`]), signed once and cached under
/// `target/bench-tallies/<n>/`: the signed manifest's path and the
/// tallies.
pub fn cached_tallies(n: u64) -> (PathBuf, Vec<Vec<u8>>) {
    let root = crate::repo_root()
        .join("target/bench-tallies")
        .join(n.to_string());
    let manifest = root.join("manifest.signed");
    let file = root.join("tallies.bin");
    let done = root.join("complete");
    if !done.exists() {
        let _ = std::fs::remove_dir_all(&root);
        std::fs::create_dir_all(&root).unwrap();
        let t = Instant::now();
        let (signed, entries) = crate::example::scaled_tallies(n);
        std::fs::write(&manifest, signed.to_bytes()).unwrap();
        let mut out = Vec::new();
        for e in &entries {
            out.extend_from_slice(&(e.len() as u32).to_le_bytes());
            out.extend_from_slice(e);
        }
        std::fs::write(&file, out).unwrap();
        std::fs::write(&done, b"").unwrap();
        eprintln!(
            "signed {n} tallies in {:.1} s (cached in {})",
            t.elapsed().as_secs_f64(),
            root.display()
        );
    }
    (manifest, read_tallies(&file))
}

/// Reads a file of tallies written by [`cached_tallies`] (each preceded
/// by its length, 4 bytes little-endian).
pub fn read_tallies(file: &Path) -> Vec<Vec<u8>> {
    let bytes = std::fs::read(file).unwrap();
    let mut out = Vec::new();
    let mut rest = &bytes[..];
    while rest.len() >= 4 {
        let len = u32::from_le_bytes(rest[..4].try_into().unwrap()) as usize;
        out.push(rest[4..4 + len].to_vec());
        rest = &rest[4 + len..];
    }
    out
}

/// Where [`cached_tallies`] keeps the file of `n` tallies.
pub fn tallies_file(n: u64) -> PathBuf {
    crate::repo_root()
        .join("target/bench-tallies")
        .join(n.to_string())
        .join("tallies.bin")
}
