//! How a process ended, and what that means to whoever waits for it.

use alloc::string::String;
use core::fmt;

use linux_raw_sys::general::SIGKILL;

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// exit()/exit_group() with this status (low 8 bits, as wait() sees).
    Exited(u8),
    /// Ended by a signal the process did not handle.
    Killed { signal: u32, reason: String },
    /// Stopped by the runner's time limit (delivered as SIGKILL).
    TimeLimit { limit_ms: u64 },
    /// The loader refused the file (a malformed or unsupported ELF): the
    /// one-line reason. execve gives ENOEXEC for the same files.
    Refused(String),
    /// The program could not be started for another reason (not found,
    /// out of memory).
    NotStarted(String),
}

impl Outcome {
    /// The heap bytes this outcome holds (its text): the runner leaves them
    /// out when it checks that a program gave back all it took.
    pub fn heap_bytes(&self) -> usize {
        match self {
            Outcome::Killed { reason: text, .. } | Outcome::Refused(text) | Outcome::NotStarted(text) => {
                crate::mm::heap::bytes_of_string(text)
            }
            Outcome::Exited(_) | Outcome::TimeLimit { .. } => 0,
        }
    }
}

/// Linux's names of the standard signals (signal(7)), by number.
const NAMES: [&str; 32] = [
    "signal 0",
    "SIGHUP",
    "SIGINT",
    "SIGQUIT",
    "SIGILL",
    "SIGTRAP",
    "SIGABRT",
    "SIGBUS",
    "SIGFPE",
    "SIGKILL",
    "SIGUSR1",
    "SIGSEGV",
    "SIGUSR2",
    "SIGPIPE",
    "SIGALRM",
    "SIGTERM",
    "SIGSTKFLT",
    "SIGCHLD",
    "SIGCONT",
    "SIGSTOP",
    "SIGTSTP",
    "SIGTTIN",
    "SIGTTOU",
    "SIGURG",
    "SIGXCPU",
    "SIGXFSZ",
    "SIGVTALRM",
    "SIGPROF",
    "SIGWINCH",
    "SIGIO",
    "SIGPWR",
    "SIGSYS",
];

pub fn signal_name(signal: u32) -> &'static str {
    NAMES.get(signal as usize).copied().unwrap_or("a real-time signal")
}

impl Outcome {
    /// The shell's view: the exit status, or 128 + signal number.
    pub fn shell_status(&self) -> u32 {
        match self {
            Outcome::Exited(code) => *code as u32,
            Outcome::Killed { signal, .. } => 128 + signal,
            Outcome::TimeLimit { .. } => 128 + SIGKILL,
            // What a shell reports for a file it cannot execute (ENOEXEC).
            Outcome::Refused(_) => 126,
            Outcome::NotStarted(_) => 127,
        }
    }
}

impl fmt::Display for Outcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Outcome::Exited(code) => write!(f, "exit {}", code),
            Outcome::Killed { signal, reason } => write!(f, "killed by {} ({})", signal_name(*signal), reason),
            Outcome::TimeLimit { limit_ms } => write!(f, "stopped by the {} ms time limit", limit_ms),
            Outcome::Refused(why) => write!(f, "refused by the loader: {}", why),
            Outcome::NotStarted(why) => write!(f, "not started: {}", why),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signal_names_follow_linux_numbers() {
        assert_eq!(signal_name(linux_raw_sys::general::SIGSEGV), "SIGSEGV");
        assert_eq!(signal_name(linux_raw_sys::general::SIGUSR2), "SIGUSR2");
        assert_eq!(signal_name(linux_raw_sys::general::SIGSYS), "SIGSYS");
        assert_eq!(signal_name(40), "a real-time signal");
    }
}
