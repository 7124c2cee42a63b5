//! The key stream of a replicate generator ([`super::replicate_rng`]), computed sixteen
//! ChaCha blocks at a time, for the bulk draws of the bootstrap.
//!
//! `rand_chacha` computes ChaCha8 four blocks at a time (ppv-lite86); 10,000 resamples of
//! 100,000 units need 10⁹ words of it. This module computes the same words for 16
//! consecutive blocks at once, each state word held for all 16 blocks side by side
//! ("vertical" layout): no shuffles between rounds, every operation the same on all
//! lanes. Three implementations ([`Path`]), chosen once at run time from the CPU:
//! - AVX-512F: one 512-bit vector per state word, one instruction per rotation;
//! - AVX2: the 16 blocks as two halves of 8, one 256-bit vector per state word and
//!   half; rotations by 16 and 8 are byte shuffles, by 12 and 7 two shifts and an or;
//! - portable: the same vertical rounds on plain `[u32; 16]` lanes, which the compiler
//!   vectorises with the baseline vector unit (SSE2 on x86-64, NEON on aarch64).
//!
//! Algorithm: the ChaCha block function (Bernstein 2008, "ChaCha, a variant of
//! Salsa20"; quarter round and state layout as in RFC 8439 §2.1-2.3) with 8 rounds (4
//! double rounds), in `rand_chacha`'s layout: words 0-3 the constant
//! "expand 32-byte k", 4-11 the 256-bit key (the generator's seed, little-endian), 12-13
//! a 64-bit block counter (low word first) and 14-15 the 64-bit stream number. Word `w`
//! of the stream at position `p` is word `p mod 16` of block `p / 16`.
//!
//! [`KeyStream`] reads key, stream and word position from a `ChaCha8Rng`, and
//! [`KeyStream::finish`] moves the generator past the words used, so the generator then
//! continues exactly as if it had produced those words itself. The words are the same
//! bit for bit on every path (the tests compare each path the machine can run with
//! `rand_chacha`); only the speed differs.

use std::sync::OnceLock;
#[cfg(test)]
use std::sync::atomic::{AtomicU8, Ordering};

use rand_chacha::ChaCha8Rng;

/// Blocks computed per batch.
const BLOCKS: usize = 16;
/// 32-bit words per ChaCha block.
const BLOCK_WORDS: usize = 16;
/// Words per batch.
pub(crate) const BATCH: usize = BLOCKS * BLOCK_WORDS;

/// "expand 32-byte k" as four little-endian words.
const SIGMA: [u32; 4] = [0x6170_7865, 0x3320_646e, 0x7962_2d32, 0x6b20_6574];

/// How the key stream and Lemire's map are computed. All paths give the same words and
/// the same integers; [`Path::best`] is the fastest the CPU supports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Path {
    /// 512-bit vectors (x86-64 with AVX-512F).
    Avx512,
    /// 256-bit vectors (x86-64 with AVX2).
    Avx2,
    /// Plain Rust on `[u32; 16]` lanes, any CPU.
    Portable,
}

impl Path {
    /// The fastest path this CPU runs, detected once per process, no wider than the
    /// [`limit`] set before (if any).
    pub fn best() -> Path {
        static BEST: OnceLock<Path> = OnceLock::new();
        *BEST.get_or_init(|| {
            let ceiling = CEILING.get().copied().unwrap_or(Path::Avx512);
            Path::available()
                .into_iter()
                .find(|p| p.width() <= ceiling.width())
                .unwrap_or(Path::Portable)
        })
    }

    /// Bits per vector register of the path (the portable one counted as 128, the
    /// baseline vector unit).
    fn width(self) -> u32 {
        match self {
            Path::Avx512 => 512,
            Path::Avx2 => 256,
            Path::Portable => 128,
        }
    }

    /// The path in words, for `via-eval cpu-paths`.
    pub fn describe(self) -> &'static str {
        match self {
            Path::Avx512 => "AVX-512F (16 ChaCha8 blocks per batch in 512-bit vectors)",
            Path::Avx2 => "AVX2 (16 ChaCha8 blocks per batch in 256-bit vectors)",
            Path::Portable => "portable loop as compiled",
        }
    }

    /// The paths this CPU runs, fastest first; the portable one always.
    pub fn available() -> Vec<Path> {
        let mut paths = Vec::with_capacity(3);
        #[cfg(target_arch = "x86_64")]
        {
            if std::arch::is_x86_feature_detected!("avx512f") {
                paths.push(Path::Avx512);
            }
            if std::arch::is_x86_feature_detected!("avx2") {
                paths.push(Path::Avx2);
            }
        }
        paths.push(Path::Portable);
        paths
    }

    /// The path key streams use: [`Path::best`], or in tests the one [`force`] set.
    fn current() -> Path {
        #[cfg(test)]
        match FORCED.load(Ordering::Relaxed) {
            1 => return Path::Avx512,
            2 => return Path::Avx2,
            3 => return Path::Portable,
            _ => {}
        }
        Path::best()
    }
}

/// The widest path [`Path::best`] may choose ([`limit`]).
static CEILING: OnceLock<Path> = OnceLock::new();

/// Keep the key stream to paths no wider than `ceiling` for the rest of the process,
/// as on a CPU without the wider vectors (to measure the AVX2 path on an AVX-512
/// machine). The results do not change, only the speed. Must come before the first key
/// stream; `false` when too late or already set.
pub(crate) fn limit(ceiling: Path) -> bool {
    CEILING.set(ceiling).is_ok() && Path::best().width() <= ceiling.width()
}

/// The path forced by [`force`] (0: none).
#[cfg(test)]
static FORCED: AtomicU8 = AtomicU8::new(0);

/// Make every key stream created from now on use `path` (`None`: the best one again),
/// for tests that compare results across paths. The path must be in
/// [`Path::available`]. Process-wide: callers serialise through [`FORCE_LOCK`].
#[cfg(test)]
pub(crate) fn force(path: Option<Path>) {
    assert!(path.is_none_or(|p| Path::available().contains(&p)));
    let code = match path {
        None => 0,
        Some(Path::Avx512) => 1,
        Some(Path::Avx2) => 2,
        Some(Path::Portable) => 3,
    };
    FORCED.store(code, Ordering::Relaxed);
}

/// Held by tests while they force a path.
#[cfg(test)]
pub(crate) static FORCE_LOCK: std::sync::Mutex<()> = std::sync::Mutex::new(());

/// A batch of key stream: word `i` (0-based, in stream order) is at
/// `words[(i % 16) * 16 + i / 16]` (word `i % 16` of block `i / 16`).
pub(crate) struct Batch {
    pub words: [u32; BATCH],
}

#[cfg(test)]
impl Batch {
    /// Word `i` of the batch in stream order.
    pub fn get(&self, i: usize) -> u32 {
        self.words[(i % BLOCK_WORDS) * BLOCKS + i / BLOCK_WORDS]
    }
}

/// The key stream of a `ChaCha8Rng` from its current position on, batch by batch.
pub(crate) struct KeyStream {
    key: [u32; 8],
    stream: u64,
    /// Block of the first word of the next batch.
    next_block: u64,
    /// Word position of the generator when the key stream was taken from it.
    start: u128,
    /// Words to skip at the start of the first batch (the position within its block).
    skip: usize,
    path: Path,
}

impl KeyStream {
    /// The key stream of `rng` from its current word position. `rng` itself is not
    /// moved until [`KeyStream::finish`].
    pub fn new(rng: &ChaCha8Rng) -> Self {
        Self::with(rng, Path::current())
    }

    fn with(rng: &ChaCha8Rng, path: Path) -> Self {
        let seed = rng.get_seed();
        let key = std::array::from_fn(|j| {
            u32::from_le_bytes([
                seed[4 * j],
                seed[4 * j + 1],
                seed[4 * j + 2],
                seed[4 * j + 3],
            ])
        });
        let start = rng.get_word_pos();
        Self {
            key,
            stream: rng.get_stream(),
            // The block counter is 64 bits and wraps, as rand_chacha's.
            next_block: (start / BLOCK_WORDS as u128) as u64,
            start,
            skip: (start % BLOCK_WORDS as u128) as usize,
            path,
        }
    }

    /// Words at the start of the first batch that precede the generator's position
    /// (callers start reading the first batch there).
    pub fn skip(&self) -> usize {
        self.skip
    }

    /// Compute the next batch of 16 blocks into `out`.
    pub fn next_batch(&mut self, out: &mut Batch) {
        let (key, stream, first, out) = (&self.key, self.stream, self.next_block, &mut out.words);
        match self.path {
            #[cfg(target_arch = "x86_64")]
            // SAFETY: a key stream takes `Path::Avx512` only from `Path::available`,
            // which lists it when the CPU has AVX-512F, the feature `batch_avx512` needs.
            Path::Avx512 => unsafe { batch_avx512(key, stream, first, out) },
            #[cfg(target_arch = "x86_64")]
            // SAFETY: `Path::Avx2` is listed by `Path::available` only when the CPU has
            // AVX2, the feature `batch_avx2` needs.
            Path::Avx2 => unsafe { batch_avx2(key, stream, first, out) },
            _ => batch_portable(key, stream, first, out),
        }
        self.next_block = self.next_block.wrapping_add(BLOCKS as u64);
    }

    /// Lemire's map of every word of `batch` to `0..bound`, the high half of
    /// word·bound, into `drawn` (same layout as the words); true when the low half of
    /// some word is below `threshold` (`2³² mod bound`), i.e. the word is rejected.
    pub fn below(
        &self,
        batch: &Batch,
        bound: u32,
        threshold: u32,
        drawn: &mut [u32; BATCH],
    ) -> bool {
        let words = &batch.words;
        match self.path {
            #[cfg(target_arch = "x86_64")]
            // SAFETY: `Path::Avx512` is listed by `Path::available` only when the CPU
            // has AVX-512F, the feature `below_avx512` is compiled for.
            Path::Avx512 => unsafe { below_avx512(words, bound, threshold, drawn) },
            #[cfg(target_arch = "x86_64")]
            // SAFETY: `Path::Avx2` is listed only when the CPU has AVX2, the feature
            // `below_avx2` is compiled for.
            Path::Avx2 => unsafe { below_avx2(words, bound, threshold, drawn) },
            _ => below_words(words, bound, threshold, drawn),
        }
    }

    /// Move `rng` past the first `used` words from its position when the key stream was
    /// taken from it (`used` counts from that position, not from the batch start).
    pub fn finish(self, rng: &mut ChaCha8Rng, used: u64) {
        rng.set_word_pos(self.start + u128::from(used));
    }
}

/// See [`KeyStream::below`]; a loop the compiler vectorises.
#[inline(always)]
fn below_words(words: &[u32; BATCH], bound: u32, threshold: u32, drawn: &mut [u32; BATCH]) -> bool {
    let mut rejected = false;
    for (d, &w) in drawn.iter_mut().zip(words) {
        let m = u64::from(w) * u64::from(bound);
        *d = (m >> 32) as u32;
        rejected |= (m as u32) < threshold;
    }
    rejected
}

/// [`below_words`] compiled for AVX-512F.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f")]
fn below_avx512(
    words: &[u32; BATCH],
    bound: u32,
    threshold: u32,
    drawn: &mut [u32; BATCH],
) -> bool {
    below_words(words, bound, threshold, drawn)
}

/// [`below_words`] compiled for AVX2.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
fn below_avx2(words: &[u32; BATCH], bound: u32, threshold: u32, drawn: &mut [u32; BATCH]) -> bool {
    below_words(words, bound, threshold, drawn)
}

/// The 16 initial state words of blocks `first .. first + 16` of `stream` under `key`,
/// lane `l` of each for block `first + l` (the 64-bit counter wraps, as rand_chacha's).
#[inline(always)]
fn initial_state(key: &[u32; 8], stream: u64, first: u64) -> [[u32; BLOCKS]; 16] {
    let same = |v: u32| [v; BLOCKS];
    let counter: [u64; BLOCKS] = std::array::from_fn(|l| first.wrapping_add(l as u64));
    [
        same(SIGMA[0]),
        same(SIGMA[1]),
        same(SIGMA[2]),
        same(SIGMA[3]),
        same(key[0]),
        same(key[1]),
        same(key[2]),
        same(key[3]),
        same(key[4]),
        same(key[5]),
        same(key[6]),
        same(key[7]),
        counter.map(|c| c as u32),
        counter.map(|c| (c >> 32) as u32),
        same(stream as u32),
        same((stream >> 32) as u32),
    ]
}

/// ChaCha8 blocks `first .. first + 16` of `stream` under `key`, portable: word `w` of
/// block `l` (relative to `first`) is stored at `out[w * 16 + l]`. Every operation acts
/// on the 16 lanes of a `[u32; 16]`, which the compiler turns into vector instructions.
fn batch_portable(key: &[u32; 8], stream: u64, first: u64, out: &mut [u32; BATCH]) {
    type Lanes = [u32; BLOCKS];
    /// The quarter round on state words a, b, c, d (RFC 8439 §2.1), lane by lane.
    #[inline(always)]
    fn quarter(x: &mut [Lanes; 16], a: usize, b: usize, c: usize, d: usize) {
        #[inline(always)]
        fn step(x: &mut [Lanes; 16], a: usize, b: usize, d: usize, r: u32) {
            let (mut xa, xb, mut xd) = (x[a], x[b], x[d]);
            for ((pa, pb), pd) in xa.iter_mut().zip(&xb).zip(&mut xd) {
                *pa = pa.wrapping_add(*pb);
                *pd = (*pd ^ *pa).rotate_left(r);
            }
            (x[a], x[d]) = (xa, xd);
        }
        step(x, a, b, d, 16);
        step(x, c, d, b, 12);
        step(x, a, b, d, 8);
        step(x, c, d, b, 7);
    }
    let init = initial_state(key, stream, first);
    let mut x = init;
    for _ in 0..4 {
        // Columns, then diagonals.
        quarter(&mut x, 0, 4, 8, 12);
        quarter(&mut x, 1, 5, 9, 13);
        quarter(&mut x, 2, 6, 10, 14);
        quarter(&mut x, 3, 7, 11, 15);
        quarter(&mut x, 0, 5, 10, 15);
        quarter(&mut x, 1, 6, 11, 12);
        quarter(&mut x, 2, 7, 8, 13);
        quarter(&mut x, 3, 4, 9, 14);
    }
    for ((chunk, xw), iw) in out.chunks_exact_mut(BLOCKS).zip(&x).zip(&init) {
        for ((o, w), i) in chunk.iter_mut().zip(xw).zip(iw) {
            *o = w.wrapping_add(*i);
        }
    }
}

/// [`batch_portable`] with AVX2 intrinsics: the 16 blocks as two halves of 8, one
/// 256-bit vector per state word of a half.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
fn batch_avx2(key: &[u32; 8], stream: u64, first: u64, out: &mut [u32; BATCH]) {
    use std::arch::x86_64::*;

    // Rotation left by 16 and by 8 of every 32-bit lane: byte shuffles within each
    // 128-bit half (byte j of a lane from byte (j − 2) mod 4, resp. (j − 1) mod 4).
    let rot16 = _mm256_setr_epi8(
        2, 3, 0, 1, 6, 7, 4, 5, 10, 11, 8, 9, 14, 15, 12, 13, 2, 3, 0, 1, 6, 7, 4, 5, 10, 11, 8, 9,
        14, 15, 12, 13,
    );
    let rot8 = _mm256_setr_epi8(
        3, 0, 1, 2, 7, 4, 5, 6, 11, 8, 9, 10, 15, 12, 13, 14, 3, 0, 1, 2, 7, 4, 5, 6, 11, 8, 9, 10,
        15, 12, 13, 14,
    );
    /// The quarter round on state words a, b, c, d (RFC 8439 §2.1).
    macro_rules! quarter {
        ($a:ident, $b:ident, $c:ident, $d:ident) => {
            $a = _mm256_add_epi32($a, $b);
            $d = _mm256_shuffle_epi8(_mm256_xor_si256($d, $a), rot16);
            $c = _mm256_add_epi32($c, $d);
            $b = _mm256_xor_si256($b, $c);
            $b = _mm256_or_si256(_mm256_slli_epi32::<12>($b), _mm256_srli_epi32::<20>($b));
            $a = _mm256_add_epi32($a, $b);
            $d = _mm256_shuffle_epi8(_mm256_xor_si256($d, $a), rot8);
            $c = _mm256_add_epi32($c, $d);
            $b = _mm256_xor_si256($b, $c);
            $b = _mm256_or_si256(_mm256_slli_epi32::<7>($b), _mm256_srli_epi32::<25>($b));
        };
    }

    let state = initial_state(key, stream, first);
    for half in 0..2 {
        let lanes = 8 * half..8 * half + 8;
        // SAFETY: each load reads 8 u32s (32 bytes) inside a `[u32; 16]`, the size of
        // one 256-bit vector; `loadu` has no alignment requirement.
        let init: [__m256i; 16] = std::array::from_fn(|w| unsafe {
            _mm256_loadu_si256(state[w][lanes.clone()].as_ptr().cast())
        });
        let [
            mut x0,
            mut x1,
            mut x2,
            mut x3,
            mut x4,
            mut x5,
            mut x6,
            mut x7,
            mut x8,
            mut x9,
            mut x10,
            mut x11,
            mut x12,
            mut x13,
            mut x14,
            mut x15,
        ] = init;
        for _ in 0..4 {
            // Columns, then diagonals.
            quarter!(x0, x4, x8, x12);
            quarter!(x1, x5, x9, x13);
            quarter!(x2, x6, x10, x14);
            quarter!(x3, x7, x11, x15);
            quarter!(x0, x5, x10, x15);
            quarter!(x1, x6, x11, x12);
            quarter!(x2, x7, x8, x13);
            quarter!(x3, x4, x9, x14);
        }
        let x = [
            x0, x1, x2, x3, x4, x5, x6, x7, x8, x9, x10, x11, x12, x13, x14, x15,
        ];
        for ((chunk, xw), iw) in out.chunks_exact_mut(BLOCKS).zip(x).zip(init) {
            let sum = _mm256_add_epi32(xw, iw);
            // SAFETY: `chunk[lanes]` is 8 u32s (32 bytes) of writable memory, the size of
            // one 256-bit vector; the store has no alignment requirement.
            unsafe { _mm256_storeu_si256(chunk[lanes.clone()].as_mut_ptr().cast(), sum) };
        }
    }
}

/// ChaCha8 blocks `first .. first + 16` of `stream` under `key` with AVX-512F: word `w`
/// of block `l` (relative to `first`) is stored at `out[w * 16 + l]`. One 512-bit
/// vector holds one state word of the 16 blocks.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f")]
fn batch_avx512(key: &[u32; 8], stream: u64, first: u64, out: &mut [u32; BATCH]) {
    use std::arch::x86_64::*;

    /// The quarter round on state words a, b, c, d (RFC 8439 §2.1).
    macro_rules! quarter {
        ($a:ident, $b:ident, $c:ident, $d:ident) => {
            $a = _mm512_add_epi32($a, $b);
            $d = _mm512_rol_epi32::<16>(_mm512_xor_si512($d, $a));
            $c = _mm512_add_epi32($c, $d);
            $b = _mm512_rol_epi32::<12>(_mm512_xor_si512($b, $c));
            $a = _mm512_add_epi32($a, $b);
            $d = _mm512_rol_epi32::<8>(_mm512_xor_si512($d, $a));
            $c = _mm512_add_epi32($c, $d);
            $b = _mm512_rol_epi32::<7>(_mm512_xor_si512($b, $c));
        };
    }

    let word = |v: u32| _mm512_set1_epi32(v as i32);
    // 64-bit block counters first + l: the low words, and the high words with the carry
    // of the lanes where the low word wrapped.
    let lo0 = word(first as u32);
    let lo = _mm512_add_epi32(
        lo0,
        _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15),
    );
    let wrapped = _mm512_cmplt_epu32_mask(lo, lo0);
    let hi0 = word((first >> 32) as u32);
    let hi = _mm512_mask_add_epi32(hi0, wrapped, hi0, word(1));
    let init = [
        word(SIGMA[0]),
        word(SIGMA[1]),
        word(SIGMA[2]),
        word(SIGMA[3]),
        word(key[0]),
        word(key[1]),
        word(key[2]),
        word(key[3]),
        word(key[4]),
        word(key[5]),
        word(key[6]),
        word(key[7]),
        lo,
        hi,
        word(stream as u32),
        word((stream >> 32) as u32),
    ];
    let [
        mut x0,
        mut x1,
        mut x2,
        mut x3,
        mut x4,
        mut x5,
        mut x6,
        mut x7,
        mut x8,
        mut x9,
        mut x10,
        mut x11,
        mut x12,
        mut x13,
        mut x14,
        mut x15,
    ] = init;
    for _ in 0..4 {
        // Columns, then diagonals.
        quarter!(x0, x4, x8, x12);
        quarter!(x1, x5, x9, x13);
        quarter!(x2, x6, x10, x14);
        quarter!(x3, x7, x11, x15);
        quarter!(x0, x5, x10, x15);
        quarter!(x1, x6, x11, x12);
        quarter!(x2, x7, x8, x13);
        quarter!(x3, x4, x9, x14);
    }
    let x = [
        x0, x1, x2, x3, x4, x5, x6, x7, x8, x9, x10, x11, x12, x13, x14, x15,
    ];
    for ((chunk, xw), iw) in out.chunks_exact_mut(BLOCKS).zip(x).zip(init) {
        let sum = _mm512_add_epi32(xw, iw);
        // SAFETY: `chunk` is 16 u32s (64 bytes) of writable memory, the size of one
        // 512-bit vector; the store has no alignment requirement.
        unsafe { _mm512_storeu_si512(chunk.as_mut_ptr().cast(), sum) };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The path `via-eval cpu-paths` names is the one the key stream takes, and it
    /// follows the CPU: AVX-512F where present, else AVX2, else the portable loop.
    #[test]
    fn the_reported_path_is_the_one_taken() {
        let (_, named) = super::super::kernel_paths()[0];
        assert_eq!(named, Path::best().describe());
        #[cfg(target_arch = "x86_64")]
        {
            let want = if std::arch::is_x86_feature_detected!("avx512f") {
                "AVX-512F"
            } else if std::arch::is_x86_feature_detected!("avx2") {
                "AVX2"
            } else {
                "portable"
            };
            assert!(named.starts_with(want), "{named}");
        }
    }
    use rand::{RngCore, SeedableRng};

    /// The words of `rng` from its position, by rand_chacha itself.
    fn reference(rng: &mut ChaCha8Rng, n: usize) -> Vec<u32> {
        (0..n).map(|_| rng.next_u32()).collect()
    }

    /// The words from the position of `rng` through the batches of a key stream on
    /// `path`.
    fn ours(rng: &ChaCha8Rng, n: usize, path: Path) -> Vec<u32> {
        let mut ks = KeyStream::with(rng, path);
        let mut b = Batch { words: [0; BATCH] };
        let mut out = Vec::new();
        let mut from = ks.skip();
        while out.len() < n {
            ks.next_batch(&mut b);
            for i in from..BATCH {
                out.push(b.get(i));
            }
            from = 0;
        }
        out.truncate(n);
        out
    }

    #[test]
    fn the_portable_path_is_always_available_and_last() {
        let paths = Path::available();
        assert_eq!(paths.last(), Some(&Path::Portable));
        assert_eq!(paths[0], Path::best());
        #[cfg(target_arch = "x86_64")]
        assert_eq!(
            paths.contains(&Path::Avx2),
            std::arch::is_x86_feature_detected!("avx2")
        );
    }

    #[test]
    fn same_words_as_rand_chacha() {
        for path in Path::available() {
            for (seed, stream, skip) in [
                (0u64, 0u64, 0usize),
                (20190601, 1, 0),
                (20190601, 9999, 3),
                (7, u64::MAX, 17),
                (1, 12345, 255),
                (1, 12345, 256),
                (u64::MAX, 1 << 40, 1000),
            ] {
                let mut rng = ChaCha8Rng::seed_from_u64(seed);
                rng.set_stream(stream);
                for _ in 0..skip {
                    rng.next_u32();
                }
                let mine = ours(&rng, 3 * BATCH + 5, path);
                assert_eq!(
                    mine,
                    reference(&mut rng, 3 * BATCH + 5),
                    "seed {seed}, stream {stream}, skip {skip}, {path:?}"
                );
            }
        }
    }

    #[test]
    fn counter_carries_into_the_high_word() {
        for path in Path::available() {
            // Batches that straddle block 2³² (the low counter word wraps in the middle
            // of a batch), from positions within a block and on block starts.
            for (block, within) in [
                (u64::from(u32::MAX) - 2, 5u128),
                (u64::from(u32::MAX) - 14, 0),
                (u64::from(u32::MAX), 15),
                (3 << 32, 1),
                ((5 << 32) - 1, 9),
            ] {
                let mut rng = ChaCha8Rng::seed_from_u64(3);
                rng.set_stream(17);
                rng.set_word_pos(u128::from(block) * 16 + within);
                let mine = ours(&rng, 2 * BATCH, path);
                assert_eq!(
                    mine,
                    reference(&mut rng, 2 * BATCH),
                    "block {block}, {path:?}"
                );
            }
        }
    }

    /// Lemire's map of the words to 0..bound, on each path, against the same map done
    /// one word at a time on rand_chacha's own words.
    #[test]
    fn below_maps_the_words_as_one_at_a_time() {
        for path in Path::available() {
            for bound in [1000u32, 1, 7, 3 << 30, u32::MAX] {
                let threshold = bound.wrapping_neg() % bound;
                let mut rng = ChaCha8Rng::seed_from_u64(99);
                rng.set_stream(u64::from(bound));
                let mut ks = KeyStream::with(&rng, path);
                let mut b = Batch { words: [0; BATCH] };
                let mut drawn = [0u32; BATCH];
                for _ in 0..4 {
                    ks.next_batch(&mut b);
                    let rejected = ks.below(&b, bound, threshold, &mut drawn);
                    let mut any_low = false;
                    for i in 0..BATCH {
                        let m = u64::from(rng.next_u32()) * u64::from(bound);
                        any_low |= (m as u32) < threshold;
                        let at = (i % BLOCK_WORDS) * BLOCKS + i / BLOCK_WORDS;
                        assert_eq!(drawn[at], (m >> 32) as u32, "word {i}, {path:?}");
                    }
                    assert_eq!(rejected, any_low, "bound {bound}, {path:?}");
                }
            }
        }
    }

    #[test]
    fn finish_moves_the_generator_as_if_it_had_drawn() {
        let mut a = replicate(11);
        let mut b = replicate(11);
        a.next_u32();
        b.next_u32();
        let ks = KeyStream::new(&a);
        ks.finish(&mut a, 1001);
        for _ in 0..1001 {
            b.next_u32();
        }
        assert_eq!(a.next_u64(), b.next_u64());
    }

    fn replicate(r: u64) -> ChaCha8Rng {
        super::super::replicate_rng(5, r)
    }
}
