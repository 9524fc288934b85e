//! A spawned function process and what the kernel knows about it: peak RSS and CPU time.

use crate::Result;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub struct Running {
    child: Child,
    /// Just before the spawn: the start of the cold start.
    pub started: Instant,
    /// Where its stdout and stderr go.
    pub log: PathBuf,
}

impl Running {
    pub fn spawn(mut command: Command, log: PathBuf) -> Result<Running> {
        let file = std::fs::File::create(&log).map_err(|e| format!("{}: {e}", log.display()))?;
        let err = file.try_clone().map_err(|e| e.to_string())?;
        command.stdin(Stdio::null()).stdout(file).stderr(err);
        let started = Instant::now();
        let child = command
            .spawn()
            .map_err(|e| format!("cannot start {:?}: {e}", command.get_program()))?;
        Ok(Running {
            child,
            started,
            log,
        })
    }

    /// The exit status, if it has exited.
    pub fn exited(&mut self) -> Option<std::process::ExitStatus> {
        self.child.try_wait().ok().flatten()
    }

    /// `VmHWM` from `/proc/<pid>/status`: the peak resident set, in KiB.
    pub fn peak_rss_kib(&self) -> Result<u64> {
        let path = format!("/proc/{}/status", self.child.id());
        let status = std::fs::read_to_string(&path).map_err(|e| format!("{path}: {e}"))?;
        status
            .lines()
            .find_map(|l| l.strip_prefix("VmHWM:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            .ok_or_else(|| format!("{path} has no VmHWM"))
    }

    /// CPU time used so far by all its threads (the process CPU-time clock, in nanoseconds).
    pub fn cpu_time(&self) -> Result<Duration> {
        let pid = self.child.id() as libc::pid_t;
        let mut clock: libc::clockid_t = 0;
        let mut ts = libc::timespec {
            tv_sec: 0,
            tv_nsec: 0,
        };
        // SAFETY: both calls only write to the locals passed by pointer.
        let ok = unsafe {
            libc::clock_getcpuclockid(pid, &mut clock) == 0
                && libc::clock_gettime(clock, &mut ts) == 0
        };
        if !ok {
            return Err(format!("cannot read the CPU time of process {pid}"));
        }
        Ok(Duration::new(ts.tv_sec as u64, ts.tv_nsec as u32))
    }

    /// The last lines it logged, for an error message.
    pub fn log_tail(&self) -> String {
        let text = std::fs::read_to_string(&self.log).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        let tail = lines[lines.len().saturating_sub(15)..].join("\n");
        format!("{}:\n{tail}", self.log.display())
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
