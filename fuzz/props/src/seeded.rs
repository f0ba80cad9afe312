//! Deterministic inputs for the stable-toolchain tests (`fuzz/props/tests/`): the same
//! property functions the fuzz targets run, fed from fixed seeds (random bytes and mutations of
//! valid seed inputs), plus every file of the target's committed regressions
//! (`fuzz/regressions/<target>/`) and of a local corpus (`fuzz/corpus/<target>/`), so crashes
//! once found by cargo-fuzz are replayed by `cargo nextest run --workspace` forever after.

use std::path::{Path, PathBuf};

/// The repository's root (this package lives in `fuzz/props/`).
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// `SLUICE_FUZZ_CASES` if set to a number: the case count the stable-toolchain tests scale to.
pub fn cases_from_env() -> Option<usize> {
    std::env::var("SLUICE_FUZZ_CASES").ok()?.parse().ok()
}

/// xorshift64*: tiny, seedable, good enough to drive mutations.
pub struct Xorshift(pub u64);

impl Xorshift {
    pub fn next_u64(&mut self) -> u64 {
        let mut x = self.0.max(1);
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    /// Uniform-ish in `0..bound` (bound > 0).
    pub fn below(&mut self, bound: u64) -> u64 {
        self.next_u64() % bound.max(1)
    }

    pub fn bytes(&mut self, len: usize) -> Vec<u8> {
        (0..len).map(|_| self.next_u64() as u8).collect()
    }
}

/// Values that make length and count fields interesting.
const INTERESTING_I32: [i32; 10] = [0, 1, -1, 2, 48, 49, 0x7f, i32::MAX, i32::MIN, 0x0100_0000];

/// One mutation of `seed`: a bit flip, a byte set, a truncation, an inserted random run, or an
/// interesting 32-bit value written at a random place.
pub fn mutate(rng: &mut Xorshift, seed: &[u8]) -> Vec<u8> {
    let mut out = seed.to_vec();
    let rounds = 1 + rng.below(4);
    for _ in 0..rounds {
        let len = out.len();
        match rng.below(5) {
            0 if len > 0 => {
                let at = rng.below(len as u64) as usize;
                out[at] ^= 1 << rng.below(8);
            }
            1 if len > 0 => {
                let at = rng.below(len as u64) as usize;
                out[at] = rng.next_u64() as u8;
            }
            2 if len > 0 => out.truncate(rng.below(len as u64) as usize),
            3 => {
                let at = rng.below(len as u64 + 1) as usize;
                let run_len = 1 + rng.below(16) as usize;
                let run = rng.bytes(run_len);
                out.splice(at..at, run);
            }
            _ if len >= 4 => {
                let at = rng.below(len as u64 - 3) as usize;
                let value = INTERESTING_I32[rng.below(INTERESTING_I32.len() as u64) as usize];
                out[at..at + 4].copy_from_slice(&value.to_be_bytes());
            }
            _ => out.push(rng.next_u64() as u8),
        }
    }
    out
}

/// `count` inputs from `seed`: a third random bytes (up to `random_len_max`), the rest
/// mutations of the seed inputs (which are included as they are, first).
pub fn inputs(seeds: &[Vec<u8>], count: usize, seed: u64, random_len_max: usize) -> Vec<Vec<u8>> {
    let mut rng = Xorshift(seed);
    let mut out: Vec<Vec<u8>> = seeds.to_vec();
    while out.len() < count {
        if seeds.is_empty() || rng.below(3) == 0 {
            let len = rng.below(random_len_max as u64 + 1) as usize;
            out.push(rng.bytes(len));
        } else {
            let pick = &seeds[rng.below(seeds.len() as u64) as usize];
            out.push(mutate(&mut rng, pick));
        }
    }
    out
}

/// The committed corpus of a fuzz target: `<repo>/fuzz/corpus/<target>/*` and
/// `<repo>/fuzz/regressions/<target>/*` (inputs that once crashed). Missing dirs are empty.
pub fn corpus(repo_root: &Path, target: &str) -> Vec<(PathBuf, Vec<u8>)> {
    let mut files = Vec::new();
    for kind in ["corpus", "regressions"] {
        let dir = repo_root.join("fuzz").join(kind).join(target);
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        let mut paths: Vec<PathBuf> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
        paths.sort();
        for path in paths {
            if let Ok(data) = std::fs::read(&path) {
                files.push((path, data));
            }
        }
    }
    files
}
