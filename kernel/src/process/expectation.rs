//! What a test program's name says about how it should end.

use linux_raw_sys::general::{SIGABRT, SIGBUS, SIGFPE, SIGILL, SIGKILL, SIGPIPE, SIGSEGV, SIGTRAP};

use super::outcome::Outcome;

/// How a test program is expected to end, from its name:
/// `name` exits 0, `name--exitN` exits N, `name--sigsegv` dies of SIGSEGV
/// (likewise `--sigbus`, `--sigill`, `--sigtrap`, `--sigabrt`, `--sigfpe`,
/// `--sigkill`, `--sigpipe`), `name--timeout` is stopped by the time limit,
/// `name--refused` is a malformed image the loader must refuse (and the
/// runner must then go on to the next program).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Expectation {
    Exit(u8),
    Signal(u32),
    TimeLimit,
    Refused,
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
            Some("sigpipe") => Expectation::Signal(SIGPIPE),
            Some("timeout") => Expectation::TimeLimit,
            Some("refused") => Expectation::Refused,
            Some(s) if s.starts_with("exit") => s[4..].parse().map_or(Expectation::Exit(0), Expectation::Exit),
            _ => Expectation::Exit(0),
        }
    }

    pub fn met_by(self, outcome: &Outcome) -> bool {
        match (self, outcome) {
            (Expectation::Exit(want), Outcome::Exited(got)) => want == *got,
            (Expectation::Signal(want), Outcome::Killed { signal, .. }) => want == *signal,
            (Expectation::TimeLimit, Outcome::TimeLimit { .. }) => true,
            // Only the loader's refusal: a file that is missing, or a
            // kernel out of memory, is no pass.
            (Expectation::Refused, Outcome::Refused(_)) => true,
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
        assert_eq!(Expectation::from_name("elf_wrong_machine--refused"), Expectation::Refused);
    }

    #[test]
    fn refused_is_met_only_by_the_loaders_refusal() {
        let refused = Outcome::Refused("machine 62 is not AArch64 (EM_AARCH64 = 183)".into());
        assert!(Expectation::Refused.met_by(&refused));
        for other in [
            Outcome::NotStarted("/tests/x--refused not found in the initramfs".into()),
            Outcome::NotStarted("out of memory".into()),
            Outcome::Exited(0),
            Outcome::Killed { signal: SIGSEGV, reason: "SEGV_MAPERR".into() },
        ] {
            assert!(!Expectation::Refused.met_by(&other), "--refused passed on {}", other);
        }
        assert!(!Expectation::Exit(0).met_by(&refused), "a program that must run passed on {}", refused);
    }
}
