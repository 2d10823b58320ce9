//! What a test program's name says about how it should end.

use linux_raw_sys::general::{SIGABRT, SIGBUS, SIGFPE, SIGILL, SIGKILL, SIGSEGV, SIGTRAP};

use super::outcome::Outcome;

/// How a test program is expected to end, from its name:
/// `name` exits 0, `name--exitN` exits N, `name--sigsegv` dies of SIGSEGV
/// (likewise `--sigbus`, `--sigill`, `--sigtrap`, `--sigabrt`, `--sigfpe`,
/// `--sigkill`), `name--timeout` is stopped by the time limit.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Expectation {
    Exit(u8),
    Signal(u32),
    TimeLimit,
}

impl Expectation {
    pub fn from_name(name: &str) -> Self {
        match name.rsplit_once("--").map(|(_, s)| s) {
            Some("sigsegv") => Expectation::Signal(SIGSEGV),
            Some("sigbus") => Expectation::Signal(SIGBUS),
            Some("sigill") => Expectation::Signal(SIGILL),
            Some("sigtrap") => Expectation::Signal(SIGTRAP),
            Some("sigabrt") => Expectation::Signal(SIGABRT),
            Some("sigfpe") => Expectation::Signal(SIGFPE),
            Some("sigkill") => Expectation::Signal(SIGKILL),
            Some("timeout") => Expectation::TimeLimit,
            Some(s) if s.starts_with("exit") => s[4..].parse().map_or(Expectation::Exit(0), Expectation::Exit),
            _ => Expectation::Exit(0),
        }
    }

    pub fn met_by(self, outcome: &Outcome) -> bool {
        match (self, outcome) {
            (Expectation::Exit(want), Outcome::Exited(got)) => want == *got,
            (Expectation::Signal(want), Outcome::Killed { signal, .. }) => want == *signal,
            (Expectation::TimeLimit, Outcome::TimeLimit { .. }) => true,
            _ => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expectations_come_from_the_name() {
        assert_eq!(Expectation::from_name("hello"), Expectation::Exit(0));
        assert_eq!(Expectation::from_name("exit_status--exit42"), Expectation::Exit(42));
        assert_eq!(Expectation::from_name("kernel_load--sigsegv"), Expectation::Signal(SIGSEGV));
        assert_eq!(Expectation::from_name("spin--timeout"), Expectation::TimeLimit);
        assert_eq!(Expectation::from_name("brk--sigtrap"), Expectation::Signal(SIGTRAP));
        assert_eq!(Expectation::from_name("odd--name--sigbus"), Expectation::Signal(SIGBUS));
    }
}
