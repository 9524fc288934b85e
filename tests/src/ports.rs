//! Loopback ports for servers that must be told their port (Alertmanager, `cargo lambda watch`).
//!
//! A port found free may be taken by a parallel test's server before ours binds it; ours then
//! exits (or never answers as itself), so the server is started again on another port.

use std::net::TcpListener;
use std::process::{Child, Command};
use std::time::{Duration, Instant};

/// Starts before giving up: each one lost a race for its port.
const ATTEMPTS: usize = 3;

pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free loopback port")
        .port()
}

/// A server process listening on `port`, killed when dropped.
pub struct Served {
    pub child: Child,
    pub port: u16,
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Spawns `command(port)` on a free port and waits until `ready(port)` holds while the child is
/// still running; a child that exits first (its port was taken) is started again on another.
/// Panics naming `what` when it never gets ready within `timeout` per attempt.
pub async fn serve_on_free_port(
    what: &str,
    timeout: Duration,
    command: impl Fn(u16) -> Command,
    ready: impl AsyncFn(u16) -> bool,
) -> Served {
    for _ in 0..ATTEMPTS {
        let port = free_port();
        let child = command(port)
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {what}: {e}"));
        let mut served = Served { child, port };
        let started = Instant::now();
        loop {
            if let Ok(Some(status)) = served.child.try_wait() {
                eprintln!("{what} exited ({status}) on port {port}; starting it on another port");
                break;
            }
            // Ready, and still ours: a server that lost the port to another has exited by now.
            if ready(port).await && served.child.try_wait().is_ok_and(|s| s.is_none()) {
                return served;
            }
            assert!(
                started.elapsed() < timeout,
                "{what} did not get ready on port {port} within {timeout:?}"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
    panic!("{what} lost the race for a free port {ATTEMPTS} times")
}
