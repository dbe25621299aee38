//! The processes the exercise starts (the real `tallyboard` binary) and a
//! loopback static file server (`tower-http`'s `ServeDir`). Every process is stopped on every
//! path: by its guard's `Drop`, or by the Ctrl-C handler, which knows every
//! process id still running.

use std::ffi::OsString;
use std::io::{BufRead as _, BufReader, Read as _, Write as _};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

use rustix::process::{Pid, Signal, kill_process};
use tower_http::services::ServeDir;

use crate::client::Http;
use crate::error::{Context as _, Result, bail, failed};

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
pub fn set_temp_dir(dir: Option<PathBuf>) {
    *TEMP_DIR.lock().unwrap_or_else(PoisonError::into_inner) = dir;
}

/// On Ctrl-C or SIGTERM: stop every process started (SIGTERM, then SIGKILL
/// after 3 s), remove the temporary directory, exit with status 130.
pub fn install_interrupt_handler() {
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
pub struct Proc {
    pub name: String,
    child: Option<Child>,
    /// `http://ADDR` from its `listening on` line, for servers.
    pub url: String,
    /// Its stderr (and stdout after the first line).
    pub log: PathBuf,
}

impl Proc {
    /// Starts `exe args`, stderr to `log`. With `listens`, waits (at most
    /// 60 s) for the `listening on http://ADDR` line on stdout and then until
    /// the address answers HTTP.
    pub fn start(
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
    pub fn freeze(&self) {
        if let Some(p) = self.pid() {
            send(p, Signal::STOP);
        }
    }

    /// Kills the process at once (SIGKILL), as a crash or power cut would.
    pub fn crash(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
            let id = c.id();
            running().retain(|&p| p != id);
        }
    }

    /// Waits at most `timeout` for the process to exit by itself.
    pub fn wait_exit(&mut self, timeout: Duration) -> Result<Option<ExitStatus>> {
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
    pub fn stop(&mut self) {
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
pub fn tail(path: &Path) -> String {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(15)..].join("\n")
}

/// A loopback static file server: serves the files of a directory (a copy
/// of a log's `public/` tree the exercise altered) the way a web server or
/// CDN in front of a mirror would, with `tower-http`'s `ServeDir` on axum,
/// on a thread of its own. Stopped when dropped.
pub struct FileServer {
    /// `http://127.0.0.1:PORT`
    pub url: String,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl FileServer {
    /// Serves `root` on a free loopback port.
    pub fn start(root: PathBuf) -> Result<FileServer> {
        let listener =
            std::net::TcpListener::bind("127.0.0.1:0").context("binding a loopback port")?;
        let addr = listener.local_addr().context("local address")?;
        listener
            .set_nonblocking(true)
            .context("a non-blocking listener")?;
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .context("starting the file server's runtime")?;
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let app = axum::Router::new()
            .fallback_service(ServeDir::new(root).append_index_html_on_directories(false));
        let thread = std::thread::spawn(move || {
            rt.block_on(async move {
                let Ok(listener) = tokio::net::TcpListener::from_std(listener) else {
                    return;
                };
                let (finish, finished) = tokio::sync::oneshot::channel::<()>();
                let server = tokio::spawn(async move {
                    let _ = axum::serve(listener, app)
                        .with_graceful_shutdown(async move {
                            let _ = finished.await;
                        })
                        .await;
                });
                let _ = stopped.await;
                let _ = finish.send(());
                // Connections still open get 5 s to finish; the runtime
                // drops whatever is left.
                let _ = tokio::time::timeout(Duration::from_secs(5), server).await;
            });
        });
        Ok(FileServer {
            url: format!("http://{addr}"),
            stop: Some(stop),
            thread: Some(thread),
        })
    }
}

impl Drop for FileServer {
    fn drop(&mut self) {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// Copies a directory tree (files only).
pub fn copy_tree(from: &Path, to: &Path) -> Result<()> {
    std::fs::create_dir_all(to).with_context(|| format!("creating {}", to.display()))?;
    for e in std::fs::read_dir(from).with_context(|| format!("listing {}", from.display()))? {
        let e = e?;
        let (src, dst) = (e.path(), to.join(e.file_name()));
        if e.file_type()?.is_dir() {
            copy_tree(&src, &dst)?;
        } else {
            match std::fs::copy(&src, &dst) {
                Ok(_) => {}
                // Gone since it was listed: a writer's temporary file
                // (the static pages are written next to the log while it
                // runs), renamed into place.
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => {
                    return Err(e).with_context(|| {
                        format!("copying {} to {}", src.display(), dst.display())
                    });
                }
            }
        }
    }
    Ok(())
}

/// Files under `dir`, recursively.
pub fn files_under(dir: &Path) -> Result<Vec<PathBuf>> {
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
pub fn run_to_end(
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
    let out = out.join().map_err(|_| failed!("reading output"))?;
    let err = err.join().map_err(|_| failed!("reading output"))?;
    match status {
        Some(s) => Ok((s.code(), out, err)),
        None => Err(crate::Error::TimedOut {
            what: format!("{} {:?}", exe.display(), args),
            secs: timeout.as_secs(),
            stdout: out,
            stderr: err,
        }),
    }
}
