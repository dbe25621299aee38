//! nginx in the foreground, serving a directory on 127.0.0.1 (a free
//! port): the static mirror of the tests and the reference web server of
//! the read-path benchmark. Installed by `scripts/install-nginx.sh` when
//! missing.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The nginx binary, installed by `scripts/install-nginx.sh` if missing
/// (`None`: it could not be installed).
pub fn nginx_binary() -> Option<PathBuf> {
    let find = || {
        ["/usr/sbin/nginx", "/usr/bin/nginx", "/usr/local/sbin/nginx"]
            .iter()
            .map(PathBuf::from)
            .find(|p| p.exists())
    };
    if let Some(p) = find() {
        return Some(p);
    }
    let script = crate::repo_root().join("scripts/install-nginx.sh");
    let installed = Command::new("bash")
        .arg(&script)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if installed { find() } else { None }
}

pub struct Nginx {
    child: Child,
    /// `http://127.0.0.1:PORT`
    pub url: String,
}

impl Drop for Nginx {
    fn drop(&mut self) {
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Runs nginx in the foreground serving `root` on a free loopback port,
/// its configuration, logs and temporary files in `work`.
pub fn start_nginx(bin: &Path, work: &Path, root: &Path) -> Nginx {
    start_nginx_with(bin, work, root, "")
}

/// [`start_nginx`] with `server` directives added to its server block
/// (headers, `index`).
pub fn start_nginx_with(bin: &Path, work: &Path, root: &Path, server: &str) -> Nginx {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    std::fs::create_dir_all(work.join("tmp")).unwrap();
    let w = work.display();
    let conf = format!(
        "daemon off; master_process on; worker_processes 1; user root;\n\
         pid {w}/nginx.pid; error_log {w}/error.log;\n\
         events {{ worker_connections 256; }}\n\
         http {{ include /etc/nginx/mime.types; default_type application/octet-stream;\n\
         access_log off;\n\
         client_body_temp_path {w}/tmp; proxy_temp_path {w}/tmp; fastcgi_temp_path {w}/tmp;\n\
         uwsgi_temp_path {w}/tmp; scgi_temp_path {w}/tmp;\n\
         server {{ listen 127.0.0.1:{port}; root {}; {server} }} }}\n",
        root.display()
    );
    let conf_path = work.join("nginx.conf");
    std::fs::write(&conf_path, conf).unwrap();
    let child = Command::new(bin)
        .arg("-c")
        .arg(&conf_path)
        .arg("-p")
        .arg(format!("{w}/"))
        .arg("-e")
        .arg(work.join("error.log"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let nginx = Nginx {
        child,
        url: format!("http://127.0.0.1:{port}"),
    };
    let deadline = Instant::now() + Duration::from_secs(15);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            Instant::now() < deadline,
            "nginx did not start: {}",
            std::fs::read_to_string(work.join("error.log")).unwrap_or_default()
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    nginx
}
