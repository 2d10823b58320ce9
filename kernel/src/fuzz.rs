//! Deterministic mutation fuzzing for the host tests of the parsers that
//! read untrusted images (the ELF loader's checks, the initramfs reader).
//!
//! A seeded xorshift generator drives byte-level mutations of valid seed
//! files, so every run is reproducible from one number. The case count and
//! seed come from the environment: `FUZZ_CASES=200000 FUZZ_SEED=123 cargo
//! test ... fuzz` runs longer; `FUZZ_CASE=k` replays case k alone. Each
//! test prints its seed, and a failing case names itself and writes its
//! input under `target/fuzz-failures/` so it can be kept as a regression;
//! `FUZZ_KEEP_GOING=1` runs every case and lists one failure of each kind.

extern crate std;

use std::format;
use std::string::String;
use std::vec::Vec;

/// Cases per property when `FUZZ_CASES` is unset: enough to reach the
/// header fields many times over, and well under a second in a debug build.
const DEFAULT_CASES: u64 = 20_000;
const DEFAULT_SEED: u64 = 0x5eed_1a6e5;

/// Marsaglia's xorshift64: small, fast, and the same sequence everywhere.
pub struct XorShift(u64);

impl XorShift {
    pub fn new(seed: u64) -> Self {
        // SplitMix64's finaliser spreads nearby seeds (case numbers) apart;
        // xorshift's state must not be zero.
        let mut z = seed.wrapping_add(0x9e37_79b9_7f4a_7c15);
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        Self((z ^ (z >> 31)) | 1)
    }

    pub fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x
    }

    /// Uniform enough in `0..n` for fuzzing (`n > 0`).
    pub fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    pub fn chance(&mut self, one_in: usize) -> bool {
        self.below(one_in) == 0
    }
}

/// Values that sit on the edges parsers get wrong: zero, sign bits, all
/// ones, the file's own length and its neighbours (offsets just past the
/// end), page and address-space boundaries.
fn interesting(rng: &mut XorShift, file_len: usize) -> u64 {
    let len = file_len as u64;
    const FIXED: [u64; 16] = [
        0,
        1,
        0x7f,
        0x80,
        0xff,
        0x7fff,
        0xffff,
        0x7fff_ffff,
        0xffff_ffff,
        0x7fff_ffff_ffff_ffff,
        0x8000_0000_0000_0000,
        u64::MAX,
        0xfff,
        0x1000,
        1 << 48,
        (1 << 48) - 0x1000,
    ];
    match rng.below(4) {
        0 => [len, len + 1, len.wrapping_sub(1), len.wrapping_sub(56), len / 2][rng.below(5)],
        1 => rng.next(),
        _ => FIXED[rng.below(FIXED.len())],
    }
}

/// Applies one to four mutations to `data`. Half of the in-place ones land
/// in `hot` (the header bytes, where a change means something; the rest of
/// an image is mostly code). `donor` supplies bytes for splicing.
pub fn mutate(rng: &mut XorShift, data: &mut Vec<u8>, hot: core::ops::Range<usize>, donor: &[u8]) {
    for _ in 0..1 + rng.below(4) {
        if data.is_empty() {
            data.extend_from_slice(&donor[..rng.below(donor.len() + 1)]);
            continue;
        }
        let hot_end = hot.end.min(data.len());
        let at = if hot.start < hot_end && rng.chance(2) {
            hot.start + rng.below(hot_end - hot.start)
        } else {
            rng.below(data.len())
        };
        match rng.below(8) {
            0 => data[at] ^= 1 << rng.below(8),
            1 => data[at] = [0, 0xff, 0x7f, 0x80, 1][rng.below(5)],
            2 | 3 => {
                // A 2-, 4- or 8-byte little-endian field set to an edge value.
                let width = [2, 4, 8][rng.below(3)];
                let value = interesting(rng, data.len()).to_le_bytes();
                let end = (at + width).min(data.len());
                data[at..end].copy_from_slice(&value[..end - at]);
            }
            4 => data.truncate(rng.below(data.len())),
            5 => {
                // Splice: a run of the donor (or the file itself) over this spot.
                let source: Vec<u8> = if rng.chance(2) { donor.to_vec() } else { data.clone() };
                let from = rng.below(source.len());
                let n = (1 + rng.below(64)).min(source.len() - from).min(data.len() - at);
                data[at..at + n].copy_from_slice(&source[from..from + n]);
            }
            6 => {
                // Insert or remove a run: everything after it shifts.
                let n = 1 + rng.below(16);
                if rng.chance(2) {
                    let end = (at + n).min(data.len());
                    data.drain(at..end);
                } else {
                    let fill = data[at];
                    data.splice(at..at, core::iter::repeat_n(fill, n));
                }
            }
            _ => data[at] = rng.next() as u8,
        }
    }
}

/// How many cases to run, from which seed, and whether to replay one.
pub struct Campaign {
    pub name: &'static str,
    pub seed: u64,
    pub cases: u64,
    pub only: Option<u64>,
    /// `FUZZ_KEEP_GOING=1`: run every case and list one failure of each kind.
    pub keep_going: bool,
}

fn env_u64(name: &str) -> Option<u64> {
    let text = std::env::var(name).ok()?;
    let text = text.trim();
    let parsed = match text.strip_prefix("0x") {
        Some(hex) => u64::from_str_radix(hex, 16),
        None => text.parse(),
    };
    Some(parsed.unwrap_or_else(|_| panic!("{} = {:?} is not a number", name, text)))
}

impl Campaign {
    pub fn from_env(name: &'static str) -> Self {
        let campaign = Self {
            name,
            seed: env_u64("FUZZ_SEED").unwrap_or(DEFAULT_SEED),
            cases: env_u64("FUZZ_CASES").unwrap_or(DEFAULT_CASES),
            only: env_u64("FUZZ_CASE"),
            keep_going: env_u64("FUZZ_KEEP_GOING").unwrap_or(0) != 0,
        };
        std::println!("fuzz {}: {} cases, FUZZ_SEED={:#x}", name, campaign.cases, campaign.seed);
        campaign
    }

    /// Runs `check` on case after case, each from its own generator (the
    /// seed and the case number), so any one case replays alone. `check`
    /// builds its input with the generator, stores it in the buffer it is
    /// given (for the failure report), asserts its property and names the
    /// outcome ("accepted", or the kind of refusal): the tally printed at
    /// the end shows how deep the cases got.
    pub fn run(&self, mut check: impl FnMut(&mut XorShift, &mut Vec<u8>) -> String) {
        let cases: Vec<u64> = match self.only {
            Some(k) => std::vec![k],
            None => (0..self.cases).collect(),
        };
        let started = std::time::Instant::now();
        let mut failures: Vec<String> = Vec::new();
        let mut failed = 0u64;
        let mut outcomes: std::collections::BTreeMap<String, u64> = Default::default();
        for case in cases {
            let mut rng = XorShift::new(self.seed ^ case.wrapping_mul(0x1000_0000_01b3));
            let mut input = Vec::new();
            let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| check(&mut rng, &mut input)));
            if let Ok(outcome) = &result {
                *outcomes.entry(outcome.clone()).or_default() += 1;
            }
            if let Err(cause) = result {
                failed += 1;
                let saved = self.save(case, &input);
                let what = cause
                    .downcast_ref::<String>()
                    .cloned()
                    .or_else(|| cause.downcast_ref::<&str>().map(|s| String::from(*s)))
                    .unwrap_or_default();
                let report = format!(
                    "case {} failed: {}\n  replay: FUZZ_SEED={:#x} FUZZ_CASE={} cargo test ... {}\n  input ({} bytes): {}",
                    case, what, self.seed, case, self.name, input.len(), saved
                );
                if !self.keep_going {
                    panic!("fuzz {}: {}", self.name, report);
                }
                // One report per kind of failure: its message up to the
                // first number or ';', where the specifics start.
                let kind = |r: &str| {
                    let message = r.split_once("failed: ").map_or(r, |(_, m)| m);
                    String::from(message.split(|c: char| c.is_ascii_digit() || c == ';').next().unwrap_or(""))
                };
                if failures.len() < 20 && !failures.iter().any(|f| kind(f) == kind(&report)) {
                    failures.push(report);
                }
            }
        }
        let mut tally: Vec<(String, u64)> = outcomes.into_iter().collect();
        tally.sort_by_key(|(_, n)| core::cmp::Reverse(*n));
        let tally: Vec<String> = tally.iter().map(|(what, n)| format!("{} {}", what, n)).collect();
        std::println!("fuzz {}: done in {:.2?}; outcomes: {}", self.name, started.elapsed(), tally.join(", "));
        assert!(failed == 0, "fuzz {}: {} cases failed; one of each kind:\n{}", self.name, failed, failures.join("\n"));
    }

    fn save(&self, case: u64, input: &[u8]) -> String {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/fuzz-failures");
        let path = dir.join(format!("{}-{:x}-{}.bin", self.name, self.seed, case));
        match std::fs::create_dir_all(&dir).and_then(|_| std::fs::write(&path, input)) {
            Ok(()) => format!("{}", path.display()),
            Err(e) => format!("not saved ({})", e),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_seed_gives_the_same_mutations() {
        let seed: Vec<u8> = (0..=255).collect();
        let run = |s| {
            let mut rng = XorShift::new(s);
            let mut data = seed.clone();
            for _ in 0..50 {
                mutate(&mut rng, &mut data, 0..64, &seed);
            }
            data
        };
        assert_eq!(run(7), run(7));
        assert_ne!(run(7), run(8), "different seeds should give different files");
    }
}
