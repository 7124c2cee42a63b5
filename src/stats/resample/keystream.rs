//! The key stream of a replicate generator ([`super::replicate_rng`]), computed sixteen
//! ChaCha blocks at a time, for the bulk draws of the bootstrap.
//!
//! `rand_chacha` computes ChaCha8 four blocks at a time (ppv-lite86, AVX2 where the CPU
//! has it); 10,000 resamples of 100,000 units need 10⁹ words of it. This module computes
//! the same words for 16 consecutive blocks at once, each state word held for all 16
//! blocks side by side ("vertical" layout), which the compiler maps onto 512-bit vectors
//! where the CPU has AVX-512F (one instruction per rotation, no shuffles between rounds).
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
//! bit for bit (the tests compare with `rand_chacha`); only the speed differs. Without
//! AVX-512F (or off x86-64) the batches are filled by a copy of the generator itself.

use rand::RngCore;
use rand_chacha::ChaCha8Rng;

/// Blocks computed per batch.
const BLOCKS: usize = 16;
/// 32-bit words per ChaCha block.
const BLOCK_WORDS: usize = 16;
/// Words per batch.
pub(crate) const BATCH: usize = BLOCKS * BLOCK_WORDS;

/// "expand 32-byte k" as four little-endian words.
const SIGMA: [u32; 4] = [0x6170_7865, 0x3320_646e, 0x7962_2d32, 0x6b20_6574];

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
    /// Without AVX-512F: a copy of the generator at the start of the next batch, which
    /// computes the words itself.
    narrow: Option<ChaCha8Rng>,
}

impl KeyStream {
    /// The key stream of `rng` from its current word position. `rng` itself is not
    /// moved until [`KeyStream::finish`].
    pub fn new(rng: &ChaCha8Rng) -> Self {
        Self::with(rng, wide_available())
    }

    fn with(rng: &ChaCha8Rng, wide: bool) -> Self {
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
        let skip = (start % BLOCK_WORDS as u128) as usize;
        let narrow = (!wide).then(|| {
            let mut copy = rng.clone();
            copy.set_word_pos(start - skip as u128);
            copy
        });
        Self {
            key,
            stream: rng.get_stream(),
            // The block counter is 64 bits and wraps, as rand_chacha's.
            next_block: (start / BLOCK_WORDS as u128) as u64,
            start,
            skip,
            narrow,
        }
    }

    /// Words at the start of the first batch that precede the generator's position
    /// (callers start reading the first batch there).
    pub fn skip(&self) -> usize {
        self.skip
    }

    /// Compute the next batch of 16 blocks into `out`.
    pub fn next_batch(&mut self, out: &mut Batch) {
        match &mut self.narrow {
            Some(rng) => {
                for i in 0..BATCH {
                    out.words[(i % BLOCK_WORDS) * BLOCKS + i / BLOCK_WORDS] = rng.next_u32();
                }
            }
            None => wide_batch(&self.key, self.stream, self.next_block, &mut out.words),
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
        #[cfg(target_arch = "x86_64")]
        if self.narrow.is_none() {
            // SAFETY: without a narrow copy the key stream found AVX-512F
            // (`wide_available`), the one CPU feature `below_avx512` needs.
            return unsafe { below_avx512(&batch.words, bound, threshold, drawn) };
        }
        below_words(&batch.words, bound, threshold, drawn)
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

#[cfg(target_arch = "x86_64")]
fn wide_batch(key: &[u32; 8], stream: u64, first: u64, out: &mut [u32; BATCH]) {
    // SAFETY: a `KeyStream` computes wide batches only when `wide_available()` found
    // AVX-512F, the one CPU feature `batch_avx512` needs.
    unsafe { batch_avx512(key, stream, first, out) }
}

#[cfg(not(target_arch = "x86_64"))]
fn wide_batch(_: &[u32; 8], _: u64, _: u64, _: &mut [u32; BATCH]) {
    unreachable!("wide batches are computed only where AVX-512F is available")
}

#[cfg(target_arch = "x86_64")]
fn wide_available() -> bool {
    std::arch::is_x86_feature_detected!("avx512f")
}

#[cfg(not(target_arch = "x86_64"))]
fn wide_available() -> bool {
    false
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
    use rand::{RngCore, SeedableRng};

    /// The words of `rng` from its position, by rand_chacha itself.
    fn reference(rng: &mut ChaCha8Rng, n: usize) -> Vec<u32> {
        (0..n).map(|_| rng.next_u32()).collect()
    }

    /// The words from the position of `rng` through the batches of a key stream: the
    /// wide (AVX-512F) path when `wide`, else the scalar path that fills the batches
    /// from a copy of the generator.
    fn ours(rng: &ChaCha8Rng, n: usize, wide: bool) -> Vec<u32> {
        let mut ks = KeyStream::with(rng, wide);
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

    /// The paths this machine can run: always the scalar one, and the wide one where
    /// the CPU has AVX-512F.
    fn paths() -> Vec<bool> {
        if wide_available() {
            vec![false, true]
        } else {
            vec![false]
        }
    }

    #[test]
    fn same_words_as_rand_chacha() {
        for wide in paths() {
            for (seed, stream, skip) in [
                (0u64, 0u64, 0usize),
                (20190601, 1, 0),
                (20190601, 9999, 3),
                (7, u64::MAX, 17),
                (1, 12345, 255),
            ] {
                let mut rng = ChaCha8Rng::seed_from_u64(seed);
                rng.set_stream(stream);
                for _ in 0..skip {
                    rng.next_u32();
                }
                let mine = ours(&rng, 3 * BATCH + 5, wide);
                assert_eq!(
                    mine,
                    reference(&mut rng, 3 * BATCH + 5),
                    "seed {seed}, wide {wide}"
                );
            }
        }
    }

    #[test]
    fn counter_carries_into_the_high_word() {
        for wide in paths() {
            let mut rng = ChaCha8Rng::seed_from_u64(3);
            rng.set_word_pos((u128::from(u32::MAX) - 2) * 16 + 5);
            let mine = ours(&rng, BATCH, wide);
            assert_eq!(mine, reference(&mut rng, BATCH), "wide {wide}");
        }
    }

    /// Lemire's map of the words to 0..bound, on each path, against the same map done
    /// one word at a time on rand_chacha's own words.
    #[test]
    fn below_maps_the_words_as_one_at_a_time() {
        let bound = 1000u32;
        let threshold = bound.wrapping_neg() % bound;
        for wide in paths() {
            let mut rng = ChaCha8Rng::seed_from_u64(99);
            let mut ks = KeyStream::with(&rng, wide);
            let mut b = Batch { words: [0; BATCH] };
            ks.next_batch(&mut b);
            let mut drawn = [0u32; BATCH];
            let rejected = ks.below(&b, bound, threshold, &mut drawn);
            let mut any_low = false;
            for i in 0..BATCH {
                let m = u64::from(rng.next_u32()) * u64::from(bound);
                any_low |= (m as u32) < threshold;
                let at = (i % BLOCK_WORDS) * BLOCKS + i / BLOCK_WORDS;
                assert_eq!(drawn[at], (m >> 32) as u32, "word {i}, wide {wide}");
            }
            assert_eq!(rejected, any_low);
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
