//! Serving a directory on 127.0.0.1 (a free port) with `tower-http`'s
//! `ServeDir`, the exercise's file server.

use std::path::PathBuf;

use tallyboard_exercise::procs::FileServer;

/// A static file server over a directory on 127.0.0.1 (port 0), on a
/// thread of its own. Dropping it (or [`StaticServer::stop`]) stops it.
pub struct StaticServer {
    /// `http://127.0.0.1:PORT`
    pub url: String,
    server: FileServer,
}

impl StaticServer {
    /// Serves `root`. Async so that tokio tests call it as they call their
    /// other servers; it does not block.
    pub async fn start(root: PathBuf) -> StaticServer {
        StaticServer::start_blocking(root)
    }

    /// Serves `root` (from code outside a runtime).
    pub fn start_blocking(root: PathBuf) -> StaticServer {
        let server = FileServer::start(root).unwrap();
        StaticServer {
            url: server.url.clone(),
            server,
        }
    }

    /// Stops the server.
    pub async fn stop(self) {
        let StaticServer { server, .. } = self;
        // Joining the server's thread blocks: leave the runtime's thread.
        let _ = std::thread::spawn(move || drop(server)).join();
    }
}
