//! The processes the exercise starts (the real `tallyboard` binary) and a
//! small loopback file server of its own. Every process is stopped on every
//! path: by its guard's `Drop`, or by the Ctrl-C handler, which knows every
//! process id still running.

use std::ffi::OsString;
use std::io::{BufRead as _, BufReader, Read as _, Write as _};
use std::net::{TcpListener, TcpStream};
use std::path::{Component, Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use anyhow::{Context as _, Result, anyhow, bail};
use rustix::process::{Pid, Signal, kill_process};

use crate::http::Http;

/// Process ids started and not yet reaped, and the temporary data directory
/// to remove, for the Ctrl-C handler.
static RUNNING: Mutex<Vec<u32>> = Mutex::new(Vec::new());
static TEMP_DIR: Mutex<Option<PathBuf>> = Mutex::new(None);
/// Set by the Ctrl-C handler: nothing new may start.
static INTERRUPTED: AtomicBool = AtomicBool::new(false);

/// Records a started process; if the exercise is being interrupted, kills
/// it at once (the handler may have taken its list before it was added).
fn register(child: &mut Child) {
    running().push(child.id());
    if INTERRUPTED.load(Ordering::SeqCst) {
        let _ = child.kill();
        let _ = child.wait();
        // The handler is stopping everything and exits with status 130
        // within seconds; this thread has nothing left to do.
        loop {
            std::thread::park();
        }
    }
}

fn running() -> std::sync::MutexGuard<'static, Vec<u32>> {
    RUNNING.lock().unwrap_or_else(PoisonError::into_inner)
}

fn send(pid: u32, sig: Signal) {
    if let Some(p) = i32::try_from(pid).ok().and_then(Pid::from_raw) {
        // The process may have exited already; nothing to do then.
        let _ = kill_process(p, sig);
    }
}

/// Registers the temporary directory the Ctrl-C handler removes.
pub(crate) fn set_temp_dir(dir: Option<PathBuf>) {
    *TEMP_DIR.lock().unwrap_or_else(PoisonError::into_inner) = dir;
}

/// On Ctrl-C or SIGTERM: stop every process started (SIGTERM, then SIGKILL
/// after 3 s), remove the temporary directory, exit with status 130.
pub(crate) fn install_interrupt_handler() {
    std::thread::spawn(|| {
        let Ok(rt) = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
        else {
            return;
        };
        rt.block_on(tallyboard_server::shutdown_signal());
        INTERRUPTED.store(true, Ordering::SeqCst);
        eprintln!("\ninterrupted: stopping every process the exercise started");
        let deadline = Instant::now() + Duration::from_secs(3);
        while Instant::now() < deadline {
            let pids: Vec<u32> = running().clone();
            for &pid in &pids {
                send(pid, Signal::CONT);
                send(pid, Signal::TERM);
            }
            std::thread::sleep(Duration::from_millis(200));
        }
        for &pid in running().iter() {
            send(pid, Signal::KILL);
        }
        if let Some(dir) = TEMP_DIR
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take()
        {
            let _ = std::fs::remove_dir_all(dir);
        }
        std::process::exit(130);
    });
}

/// A running `tallyboard` process; stopped (SIGTERM, then SIGKILL) and
/// reaped when dropped.
pub(crate) struct Proc {
    pub(crate) name: String,
    child: Option<Child>,
    /// `http://ADDR` from its `listening on` line, for servers.
    pub(crate) url: String,
    /// Its stderr (and stdout after the first line).
    pub(crate) log: PathBuf,
}

impl Proc {
    /// Starts `exe args`, stderr to `log`. With `listens`, waits (at most
    /// 60 s) for the `listening on http://ADDR` line on stdout and then until
    /// the address answers HTTP.
    pub(crate) fn start(
        exe: &Path,
        name: &str,
        args: &[OsString],
        log: PathBuf,
        listens: bool,
    ) -> Result<Proc> {
        // Both stderr and the stdout copier append, so neither overwrites
        // the other.
        let err = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&log)
            .with_context(|| format!("creating {}", log.display()))?;
        let mut cmd = Command::new(exe);
        cmd.args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(err)
            .env("TALLYBOARD_LOG", "info");
        let mut child = cmd
            .spawn()
            .with_context(|| format!("starting {name} ({})", exe.display()))?;
        register(&mut child);
        let stdout = child.stdout.take();
        let mut proc = Proc {
            name: name.to_owned(),
            child: Some(child),
            url: String::new(),
            log: log.clone(),
        };
        let (tx, rx) = mpsc::channel();
        if let Some(out) = stdout {
            let log = log.clone();
            std::thread::spawn(move || {
                let mut lines = BufReader::new(out).lines();
                let mut sent = false;
                let mut rest = std::fs::OpenOptions::new().append(true).open(&log).ok();
                while let Some(Ok(line)) = lines.next() {
                    if !sent && let Some(url) = line.strip_prefix("listening on ") {
                        let _ = tx.send(url.trim().to_owned());
                        sent = true;
                        continue;
                    }
                    if let Some(f) = rest.as_mut() {
                        let _ = writeln!(f, "{line}");
                    }
                }
            });
        }
        if !listens {
            return Ok(proc);
        }
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            match rx.recv_timeout(Duration::from_millis(100)) {
                Ok(url) => {
                    proc.url = url;
                    break;
                }
                Err(mpsc::RecvTimeoutError::Timeout) if Instant::now() < deadline => {
                    if let Some(status) = proc.try_wait()? {
                        bail!(
                            "{name} exited ({status}) before listening; its log {}:\n{}",
                            proc.log.display(),
                            tail(&proc.log)
                        );
                    }
                }
                _ => bail!(
                    "{name} did not print its listening address within 60 s; its log {}:\n{}",
                    proc.log.display(),
                    tail(&proc.log)
                ),
            }
        }
        let http = Http::parse(&proc.url)?.with_timeout(Duration::from_secs(5))?;
        let deadline = Instant::now() + Duration::from_secs(30);
        // Any HTTP answer will do (a witness has no /checkpoint).
        while http.get("/checkpoint", 1 << 16).is_err() {
            if Instant::now() > deadline {
                bail!("{name} at {} does not answer HTTP", proc.url);
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        Ok(proc)
    }

    fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(Child::id)
    }

    fn try_wait(&mut self) -> Result<Option<ExitStatus>> {
        let Some(c) = self.child.as_mut() else {
            return Ok(None);
        };
        let s = c.try_wait().context("waiting for a process")?;
        if s.is_some() {
            self.reaped();
        }
        Ok(s)
    }

    fn reaped(&mut self) {
        if let Some(c) = self.child.take() {
            let id = c.id();
            running().retain(|&p| p != id);
        }
    }

    /// Pauses the process (SIGSTOP): it keeps its sockets but answers nothing.
    pub(crate) fn freeze(&self) {
        if let Some(p) = self.pid() {
            send(p, Signal::STOP);
        }
    }

    /// Kills the process at once (SIGKILL), as a crash or power cut would.
    pub(crate) fn crash(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
            let id = c.id();
            running().retain(|&p| p != id);
        }
    }

    /// Waits at most `timeout` for the process to exit by itself.
    pub(crate) fn wait_exit(&mut self, timeout: Duration) -> Result<Option<ExitStatus>> {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(s) = self.try_wait()? {
                return Ok(Some(s));
            }
            if self.child.is_none() || Instant::now() > deadline {
                return Ok(None);
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Stops the process cleanly (SIGTERM; SIGKILL after 10 s).
    pub(crate) fn stop(&mut self) {
        let Some(pid) = self.pid() else { return };
        send(pid, Signal::CONT);
        send(pid, Signal::TERM);
        if let Ok(Some(_)) = self.wait_exit(Duration::from_secs(10)) {
            return;
        }
        self.crash();
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        self.stop();
    }
}

/// The last lines of a log file, for error messages.
pub(crate) fn tail(path: &Path) -> String {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(15)..].join("\n")
}

/// A loopback static file server of the exercise's own: serves the files of
/// a directory (a copy of a log's `public/` tree the exercise altered) the
/// way a web server or CDN in front of a mirror would. Stopped when dropped.
pub(crate) struct FileServer {
    pub(crate) url: String,
    stop: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
    addr: std::net::SocketAddr,
}

impl FileServer {
    pub(crate) fn start(root: PathBuf) -> Result<FileServer> {
        let listener = TcpListener::bind("127.0.0.1:0").context("binding a loopback port")?;
        let addr = listener.local_addr().context("local address")?;
        let stop = Arc::new(AtomicBool::new(false));
        let flag = stop.clone();
        let thread = std::thread::spawn(move || {
            for conn in listener.incoming() {
                if flag.load(Ordering::Relaxed) {
                    break;
                }
                if let Ok(s) = conn {
                    let root = root.clone();
                    std::thread::spawn(move || serve_file(s, &root));
                }
            }
        });
        Ok(FileServer {
            url: format!("http://{addr}"),
            stop,
            thread: Some(thread),
            addr,
        })
    }
}

impl Drop for FileServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        // Wake the accept loop so that it sees the flag.
        let _ = TcpStream::connect_timeout(&self.addr, Duration::from_secs(1));
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn serve_file(mut s: TcpStream, root: &Path) {
    let _ = s.set_read_timeout(Some(Duration::from_secs(10)));
    let mut buf = [0u8; 8192];
    let mut req = Vec::new();
    while !req.windows(4).any(|w| w == b"\r\n\r\n") && req.len() < 8192 {
        match s.read(&mut buf) {
            Ok(0) | Err(_) => return,
            Ok(n) => req.extend_from_slice(&buf[..n]),
        }
    }
    let line = String::from_utf8_lossy(&req);
    let mut parts = line.split_whitespace();
    let (method, target) = (parts.next().unwrap_or(""), parts.next().unwrap_or(""));
    let path = target
        .split('?')
        .next()
        .unwrap_or("")
        .trim_start_matches('/');
    let rel = Path::new(path);
    let safe = !path.is_empty() && rel.components().all(|c| matches!(c, Component::Normal(_)));
    let file = root.join(rel);
    let (status, body) = match (method, safe, std::fs::read(&file)) {
        ("GET", true, Ok(b)) if file.is_file() => ("200 OK", b),
        ("GET", _, _) => ("404 Not Found", b"not found\n".to_vec()),
        _ => ("405 Method Not Allowed", b"read only\n".to_vec()),
    };
    let _ = write!(
        s,
        "HTTP/1.1 {status}\r\nContent-Length: {}\r\nContent-Type: application/octet-stream\r\n\
         Cache-Control: no-cache\r\nConnection: close\r\n\r\n",
        body.len()
    );
    let _ = s.write_all(&body);
}

/// Copies a directory tree (files only).
pub(crate) fn copy_tree(from: &Path, to: &Path) -> Result<()> {
    std::fs::create_dir_all(to).with_context(|| format!("creating {}", to.display()))?;
    for e in std::fs::read_dir(from).with_context(|| format!("listing {}", from.display()))? {
        let e = e?;
        let (src, dst) = (e.path(), to.join(e.file_name()));
        if e.file_type()?.is_dir() {
            copy_tree(&src, &dst)?;
        } else {
            std::fs::copy(&src, &dst)
                .with_context(|| format!("copying {} to {}", src.display(), dst.display()))?;
        }
    }
    Ok(())
}

/// Files under `dir`, recursively.
pub(crate) fn files_under(dir: &Path) -> Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).with_context(|| format!("listing {}", d.display()))? {
            let e = e?;
            if e.file_type()?.is_dir() {
                stack.push(e.path());
            } else {
                out.push(e.path());
            }
        }
    }
    out.sort();
    Ok(out)
}

/// Runs `exe args` to completion (at most `timeout`), stdout and stderr
/// captured; the process is killed if it runs over.
pub(crate) fn run_to_end(
    exe: &Path,
    args: &[OsString],
    timeout: Duration,
) -> Result<(Option<i32>, String, String)> {
    let mut child = Command::new(exe)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .env_remove("TALLYBOARD_LOG")
        .spawn()
        .with_context(|| format!("starting {}", exe.display()))?;
    register(&mut child);
    let read = |r: Option<Box<dyn std::io::Read + Send>>| {
        std::thread::spawn(move || {
            let mut s = String::new();
            if let Some(mut r) = r {
                let _ = r.read_to_string(&mut s);
            }
            s
        })
    };
    let out = read(
        child
            .stdout
            .take()
            .map(|r| Box::new(r) as Box<dyn std::io::Read + Send>),
    );
    let err = read(
        child
            .stderr
            .take()
            .map(|r| Box::new(r) as Box<dyn std::io::Read + Send>),
    );
    let deadline = Instant::now() + timeout;
    let status = loop {
        if let Some(s) = child.try_wait()? {
            break Some(s);
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let id = child.id();
    running().retain(|&p| p != id);
    let out = out.join().map_err(|_| anyhow!("reading output"))?;
    let err = err.join().map_err(|_| anyhow!("reading output"))?;
    match status {
        Some(s) => Ok((s.code(), out, err)),
        None => bail!(
            "{} {:?} did not finish within {} s",
            exe.display(),
            args,
            timeout.as_secs()
        ),
    }
}
