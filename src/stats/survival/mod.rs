//! Survival (time-to-event) analysis: Kaplan-Meier curves, the log-rank test,
//! restricted mean survival time, the Cox proportional-hazards model, and the
//! derivation of (time, event) from a person-by-month status panel.
//!
//! Inputs are plain slices: `time` (finite, ≥ 0, in the outcome's unit), `event`
//! (`true` = the event happened at `time`, `false` = censored at `time`), group and
//! stratum codes as `u32` (any values; results are ordered by code). Nothing here
//! reads data or knows about arms' names.
//!
//! Conventions, as R's `survival` package (Therneau), which the reference fixtures in
//! `tests/fixtures/survival/` come from:
//! - Kaplan-Meier (Kaplan & Meier 1958) with the Greenwood (1926) variance
//!   Σ d/(n(n−d)) of −log S; the reported `std_error` is that of S itself,
//!   S·√(Σ d/(n(n−d))), as `summary.survfit` prints it. Intervals are computed on the
//!   log-log scale by default (Borgan & Liestøl 1990; R `conf.type = "log-log"`,
//!   lifelines' default), or on the log or plain scale ([`CiTransform`]).
//! - Tied times: at a time with both events and censorings, the censored subjects are
//!   counted at risk for the events (they leave just after).
//! - Log-rank: Mantel (1966) / Peto & Peto (1972) with the hypergeometric variance for
//!   ties (R `survdiff`, `rho = 0`); stratified by summing O, E and V over strata.
//! - RMST (Royston & Parmar 2013): area under the KM curve up to τ, variance as in
//!   R `survRM2::rmst1` (Uno et al.) and `print.survfit(rmean = τ)`.
//! - Cox (Cox 1972): Efron (1977) ties, Newton-Raphson to full convergence, model and
//!   robust sandwich (Lin & Wei 1989) standard errors.
//!
//! Sorting once: each of [`kaplan_meier`], [`log_rank`] and [`cox_ph`] sorts its
//! subjects by time. A caller that runs several of them on the same subjects sorts once
//! with [`SortedSubjects::new`] (and narrows to a subset with [`SortedSubjects::subset`],
//! e.g. two arms of three) and calls the `*_sorted` variants, which give the same
//! results: the subjects' order within a tied time does not change any count, and in
//! the Cox model only the last bits of sums over tied subjects.

mod cox;
mod km;
mod logrank;
mod panel;
mod rmst;

pub use cox::{CoxCoef, CoxFit, cox_ph, cox_ph_sorted, cox_ph_sorted_indicator};
pub use km::{
    Censoring, CiTransform, KmAtTime, KmCurve, KmRow, Quantile, kaplan_meier, kaplan_meier_sorted,
};
pub use logrank::{LogRank, LogRankGroup, log_rank, log_rank_sorted};
pub use panel::{PanelSurvival, survival_from_panel};
pub use rmst::{Rmst, RmstComparison, rmst_difference};

use rayon::prelude::*;

use super::{StatsError, StatsResult};

/// Checks that `time` and `event` (and any further per-subject slices, given by name
/// and length) have one entry per subject, and that every time is finite and ≥ 0.
fn check_subjects(time: &[f64], event: &[bool], others: &[(&str, usize)]) -> StatsResult<()> {
    let n = time.len();
    if event.len() != n {
        return Err(StatsError::Invalid(format!(
            "{} event indicators for {n} times",
            event.len()
        )));
    }
    for (name, len) in others {
        if *len != n {
            return Err(StatsError::Invalid(format!("{len} {name} for {n} times")));
        }
    }
    if n > u32::MAX as usize {
        return Err(StatsError::Invalid(format!(
            "{n} subjects: more than the {} supported",
            u32::MAX
        )));
    }
    for (i, &t) in time.iter().enumerate() {
        if t.is_nan() {
            return Err(StatsError::Invalid(format!(
                "time of subject {} (row {i}, 0-based) is missing",
                i + 1
            )));
        }
        if !t.is_finite() || t < 0.0 {
            return Err(StatsError::Invalid(format!(
                "time of subject {} (row {i}, 0-based) is {t}: times must be finite and ≥ 0",
                i + 1
            )));
        }
    }
    if n == 0 {
        return Err(StatsError::TooFew { needed: 1, got: 0 });
    }
    Ok(())
}

/// `conf_level` must be a probability strictly between 0 and 1.
fn check_level(conf_level: f64) -> StatsResult<()> {
    if conf_level > 0.0 && conf_level < 1.0 {
        Ok(())
    } else {
        Err(StatsError::Invalid(format!(
            "confidence level {conf_level} is not between 0 and 1"
        )))
    }
}

/// −0.0 becomes +0.0, so that sorting with `total_cmp` treats the two as one time.
fn normalise(t: f64) -> f64 {
    t + 0.0
}

/// Subjects sorted by time once, for the `*_sorted` functions ([`kaplan_meier_sorted`],
/// [`log_rank_sorted`], [`cox_ph_sorted`]); their other per-subject inputs (groups,
/// strata, covariates, clusters) stay in the caller's order and are looked up through
/// [`SortedSubjects`]' subject numbers.
///
/// The sort is by increasing time (−0 counted as +0) with an LSD radix sort on the bit
/// patterns of the times, which for finite times ≥ 0 order as the times do (IEEE 754);
/// subjects with equal times keep their input order. O(n) time and memory.
///
/// The event indicators, and the group codes when sorted [`SortedSubjects::with_codes`],
/// move with the times through the sort, so that the functions find them in sorted
/// order without looking each one up by subject: on 10^8 subjects such a look-up
/// misses the cache nearly every time (about 20 ns each here, against 4-9 ns at 10^7).
#[derive(Debug, Clone)]
pub struct SortedSubjects {
    /// The times, increasing.
    time: Vec<f64>,
    /// The subject at each sorted position (0-based index into the caller's slices).
    subject: Vec<u32>,
    /// Of each sorted subject: the event indicator in bit 0, and the group code in
    /// the bits above it when the codes were carried in them ([`SortedCodes::Marks`]).
    marks: Vec<u8>,
    /// The group code of each sorted subject, when sorted with codes.
    codes: SortedCodes,
}

/// The group codes carried by [`SortedSubjects`], in sorted order.
#[derive(Debug, Clone)]
enum SortedCodes {
    /// Sorted without codes ([`SortedSubjects::new`]).
    None,
    /// Codes below [`CARRIED`], in bits 1-7 of the marks: moved through the sort with
    /// the event indicator.
    Marks,
    /// Larger codes, looked up by subject after the sort.
    Wide(Vec<u32>),
}

/// Codes below this travel through the sort in one byte with the event indicator.
const CARRIED: u32 = 128;

/// Where a `*_sorted` function finds each subject's code: a group, a stratum, or a
/// 0/1 indicator.
#[derive(Debug, Clone, Copy)]
pub enum Codes<'a> {
    /// One code per subject, in the caller's order of subjects.
    BySubject(&'a [u32]),
    /// The codes the subjects were sorted with ([`SortedSubjects::with_codes`]).
    Carried,
    /// 1 for subjects whose carried code is this one, 0 for the others (one arm
    /// against the rest, as an indicator).
    CarriedIs(u32),
}

impl<'a> From<&'a [u32]> for Codes<'a> {
    fn from(codes: &'a [u32]) -> Self {
        Codes::BySubject(codes)
    }
}

impl<'a> From<&'a Vec<u32>> for Codes<'a> {
    fn from(codes: &'a Vec<u32>) -> Self {
        Codes::BySubject(codes)
    }
}

impl<'a, const N: usize> From<&'a [u32; N]> for Codes<'a> {
    fn from(codes: &'a [u32; N]) -> Self {
        Codes::BySubject(codes)
    }
}

impl SortedSubjects {
    /// Sort subjects by time. Fails as the single-call functions do: with
    /// [`StatsError::Invalid`] for slices of different lengths or a missing, infinite or
    /// negative time, with [`StatsError::TooFew`] when there are no subjects.
    pub fn new(time: &[f64], event: &[bool]) -> StatsResult<Self> {
        check_subjects(time, event, &[])?;
        Ok(Self::sort(time, event, None))
    }

    /// [`SortedSubjects::new`] with each subject's group code (`codes`, one per
    /// subject) carried into sorted order, for [`Codes::Carried`] and
    /// [`Codes::CarriedIs`]. Fails as `new` does, and when `codes` does not have one
    /// entry per subject.
    pub fn with_codes(time: &[f64], event: &[bool], codes: &[u32]) -> StatsResult<Self> {
        check_subjects(time, event, &[("group codes", codes.len())])?;
        Ok(Self::sort(time, event, Some(codes)))
    }

    /// The number of subjects.
    pub fn len(&self) -> usize {
        self.time.len()
    }

    pub fn is_empty(&self) -> bool {
        self.time.is_empty()
    }

    /// The time at sorted position `p`.
    #[inline]
    fn time(&self, p: usize) -> f64 {
        self.time[p]
    }

    /// The subject at sorted position `p`.
    #[inline]
    fn subject(&self, p: usize) -> u32 {
        self.subject[p]
    }

    /// Whether the subject at sorted position `p` had the event.
    #[inline]
    fn event(&self, p: usize) -> bool {
        self.marks[p] & 1 == 1
    }

    /// The number of events.
    fn events(&self) -> usize {
        self.marks.iter().filter(|&&m| m & 1 == 1).count()
    }

    /// The subjects with `keep[i]` true, numbered 0, 1, … in their input order: the
    /// sorted form of the slices the caller gets by keeping those entries. Fails with
    /// [`StatsError::Invalid`] when `keep` does not have one entry per subject.
    pub fn subset(&self, keep: &[bool]) -> StatsResult<Self> {
        if keep.len() != self.len() {
            return Err(StatsError::Invalid(format!(
                "{} selection flags for {} subjects",
                keep.len(),
                self.len()
            )));
        }
        let mut renumber = vec![u32::MAX; keep.len()];
        let mut next = 0u32;
        for (r, &k) in renumber.iter_mut().zip(keep) {
            if k {
                *r = next;
                next += 1;
            }
        }
        let m = next as usize;
        let mut out = Self {
            time: Vec::with_capacity(m),
            subject: Vec::with_capacity(m),
            marks: Vec::with_capacity(m),
            codes: SortedCodes::None,
        };
        let wide = matches!(self.codes, SortedCodes::Wide(_));
        let mut kept = Vec::with_capacity(if wide { m } else { 0 });
        for (p, ((&t, &i), &mark)) in self
            .time
            .iter()
            .zip(&self.subject)
            .zip(&self.marks)
            .enumerate()
        {
            let new = renumber[i as usize];
            if new != u32::MAX {
                out.time.push(t);
                out.subject.push(new);
                out.marks.push(mark);
                if wide {
                    kept.push(p);
                }
            }
        }
        out.codes = match &self.codes {
            SortedCodes::None => SortedCodes::None,
            SortedCodes::Marks => SortedCodes::Marks,
            SortedCodes::Wide(c) => SortedCodes::Wide(kept.iter().map(|&p| c[p]).collect()),
        };
        Ok(out)
    }

    /// Sort already validated subjects, carrying `codes` when given.
    fn sort(time: &[f64], event: &[bool], codes: Option<&[u32]>) -> Self {
        // The sorted keys are the times' bits, kept as the times (in the same
        // allocation): no look-up of the times by subject. The event indicator rides
        // in bit 0 of a byte beside each key, a small code in the bits above it.
        let mut keys: Vec<u64> = time.par_iter().map(|&t| normalise(t).to_bits()).collect();
        // Few distinct times: sorted by their ranks, in fewer passes.
        let distinct = if keys.len() >= RANKED_FROM {
            ranked(&mut keys, RANKED_MAX)
        } else {
            None
        };
        let small = codes.filter(|c| c.par_iter().all(|&v| v < CARRIED));
        let payload: Vec<u8> = match small {
            Some(c) => event
                .par_iter()
                .zip(c)
                .map(|(&e, &v)| u8::from(e) | (v as u8) << 1)
                .collect(),
            None => event.par_iter().map(|&e| u8::from(e)).collect(),
        };
        let key_bits = distinct
            .as_ref()
            .map_or(64, |d| usize::BITS - (d.len() - 1).leading_zeros());
        let (mut keys, subject, marks) = radix_sort(keys, payload, key_bits);
        let codes = match (codes, small) {
            (Some(_), Some(_)) => SortedCodes::Marks,
            (Some(c), None) => {
                SortedCodes::Wide(subject.par_iter().map(|&i| c[i as usize]).collect())
            }
            (None, _) => SortedCodes::None,
        };
        if let Some(d) = distinct {
            keys.par_iter_mut().for_each(|k| *k = d[*k as usize]);
        }
        let time = keys.into_iter().map(f64::from_bits).collect();
        Self {
            time,
            subject,
            marks,
            codes,
        }
    }

    /// Each sorted subject's code, in sorted order. Fails when per-subject codes
    /// (`name`, for the message) are not one per subject, or when carried codes are
    /// asked of subjects sorted without them.
    fn sorted_codes(&self, codes: Codes, name: &str) -> StatsResult<Vec<u32>> {
        self.sorted_codes_as(codes, name, |v| v)
    }

    /// [`SortedSubjects::sorted_codes`], each code stored as `f` makes it.
    fn sorted_codes_as<T: Send>(
        &self,
        codes: Codes,
        name: &str,
        f: impl Fn(u32) -> T + Sync,
    ) -> StatsResult<Vec<T>> {
        let carried = || {
            StatsError::Invalid(format!(
                "{name}: the subjects were sorted without group codes"
            ))
        };
        match (codes, &self.codes) {
            (Codes::BySubject(c), _) => {
                check_len(self, name, c.len())?;
                Ok(self.subject.par_iter().map(|&i| f(c[i as usize])).collect())
            }
            (Codes::Carried, SortedCodes::Marks) => Ok(self
                .marks
                .par_iter()
                .map(|&m| f(u32::from(m >> 1)))
                .collect()),
            (Codes::Carried, SortedCodes::Wide(c)) => Ok(c.par_iter().map(|&v| f(v)).collect()),
            (Codes::CarriedIs(g), SortedCodes::Marks) => Ok(self
                .marks
                .par_iter()
                .map(|&m| f(u32::from(u32::from(m >> 1) == g)))
                .collect()),
            (Codes::CarriedIs(g), SortedCodes::Wide(c)) => {
                Ok(c.par_iter().map(|&v| f(u32::from(v == g))).collect())
            }
            (Codes::Carried | Codes::CarriedIs(_), SortedCodes::None) => Err(carried()),
        }
    }

    /// Per-subject `codes` (one per subject, checked by the caller) in sorted order.
    fn in_sorted_order(&self, codes: &[u32]) -> Vec<u32> {
        self.sorted_codes(Codes::BySubject(codes), "codes")
            .expect("one code per subject")
    }

    /// The sorted positions grouped by `codes` (one code per sorted position, as
    /// [`SortedSubjects::sorted_codes`] gives them): groups in increasing order of
    /// code, positions (so times) increasing within each.
    fn grouped(&self, mut codes: Vec<u32>) -> Grouped {
        let n = self.len();
        debug_assert_eq!(codes.len(), n);
        let levels = levels(&codes);
        let index = LevelIndex::new(&levels);
        let mut starts = vec![0usize; levels.len() + 1];
        for c in codes.iter_mut() {
            *c = index.of(*c);
            starts[*c as usize + 1] += 1;
        }
        let rank = codes;
        for g in 0..levels.len() {
            starts[g + 1] += starts[g];
        }
        let mut next = starts.clone();
        let mut positions = vec![0u32; n];
        for (p, &r) in rank.iter().enumerate() {
            positions[next[r as usize]] = p as u32;
            next[r as usize] += 1;
        }
        Grouped {
            levels,
            starts,
            positions,
        }
    }
}

/// Sorted positions grouped by a code: group g has code `levels[g]` and the positions
/// `positions[starts[g]..starts[g + 1]]`.
struct Grouped {
    levels: Vec<u32>,
    starts: Vec<usize>,
    positions: Vec<u32>,
}

impl Grouped {
    fn group(&self, g: usize) -> &[u32] {
        &self.positions[self.starts[g]..self.starts[g + 1]]
    }
}

/// The distinct codes, in increasing order.
fn levels(codes: &[u32]) -> Vec<u32> {
    // Arms and strata usually have small codes: mark them in a table; otherwise sort a
    // copy.
    let mut seen = [false; SMALL];
    let mut large = false;
    for &c in codes {
        seen[(c as usize).min(SMALL - 1)] = true;
        large |= c as usize >= SMALL;
    }
    if large {
        let mut all = codes.to_vec();
        all.sort_unstable();
        all.dedup();
        return all;
    }
    (0..SMALL as u32).filter(|&c| seen[c as usize]).collect()
}

/// Codes below this are looked up in tables rather than searched.
const SMALL: usize = 256;

/// The index of a code in its levels (which hold it): a table for small codes, a binary
/// search otherwise.
struct LevelIndex<'a> {
    levels: &'a [u32],
    table: Option<Vec<u32>>,
}

impl<'a> LevelIndex<'a> {
    fn new(levels: &'a [u32]) -> Self {
        let table = levels.last().filter(|&&c| (c as usize) < SMALL).map(|_| {
            let mut t = vec![u32::MAX; SMALL];
            for (i, &c) in levels.iter().enumerate() {
                t[c as usize] = i as u32;
            }
            t
        });
        Self { levels, table }
    }

    #[inline]
    fn of(&self, code: u32) -> u32 {
        match &self.table {
            Some(t) => t[code as usize],
            None => self
                .levels
                .binary_search(&code)
                .expect("every code is a level") as u32,
        }
    }
}

/// Subjects from which the sort looks for few distinct times ([`ranked`]).
const RANKED_FROM: usize = 1 << 16;

/// Distinct times up to which the sort works on their ranks ([`ranked`]).
const RANKED_MAX: usize = 1 << 16;

/// A slot of [`ranked`]'s hash tables that holds no key (the key with these bits is
/// counted apart).
const EMPTY: u64 = u64::MAX;

/// When `keys` take at most `max` distinct values, each key replaced by its rank
/// among them (0 for the smallest), and the distinct keys in increasing order;
/// otherwise `None`, with `keys` as they were. Ranks order and tie as their keys do,
/// so sorting the ranks gives the keys' order: with fewer than 2^11 distinct keys in
/// one radix pass and fewer than 2^22 in two, where the bit patterns of times take
/// six. Times in days or months take a few thousand values, however many subjects.
///
/// Each part of the keys (one per thread) collects its distinct keys in a hash table
/// with linear probing, and stops once it has seen more than `max`; a second pass
/// looks each key's rank up in a table of the distinct keys.
fn ranked(keys: &mut [u64], max: usize) -> Option<Vec<u64>> {
    let parts = rayon::current_num_threads().max(1);
    let len = keys.len().div_ceil(parts).max(1);
    let seen: Option<Vec<Vec<u64>>> = keys.par_chunks(len).map(|c| distinct(c, max)).collect();
    let mut all = seen?.concat();
    all.sort_unstable();
    all.dedup();
    if all.len() > max {
        return None;
    }
    let table = RankTable::new(&all);
    keys.par_chunks_mut(len)
        .for_each(|c| c.iter_mut().for_each(|k| *k = table.rank(*k)));
    Some(all)
}

/// Slots of a hash table for `entries` keys: a power of two, at least twice as many.
fn table_len(entries: usize) -> usize {
    (2 * entries).next_power_of_two().max(2)
}

/// The slot of `k` in `slots` (a power of two of them, linear probing from a
/// Fibonacci hash): the slot that holds it, or the empty slot where it goes.
#[inline(always)]
fn probe(slots: &[u64], k: u64) -> usize {
    let bits = slots.len().trailing_zeros();
    let mask = slots.len() - 1;
    let mut h = (k.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> (64 - bits)) as usize;
    while slots[h] != k && slots[h] != EMPTY {
        h = (h + 1) & mask;
    }
    h
}

/// The distinct values of `keys` (in no order), or `None` when there are more than
/// `max`.
fn distinct(keys: &[u64], max: usize) -> Option<Vec<u64>> {
    let mut slots = vec![EMPTY; table_len(max)];
    let (mut count, mut empty_key) = (0usize, false);
    // Neighbouring keys are often equal: no look-up for a repeat.
    let mut last = None;
    for &k in keys {
        if last == Some(k) {
            continue;
        }
        last = Some(k);
        if k == EMPTY {
            count += usize::from(!empty_key);
            empty_key = true;
        } else {
            let h = probe(&slots, k);
            if slots[h] == EMPTY {
                slots[h] = k;
                count += 1;
            }
        }
        if count > max {
            return None;
        }
    }
    slots.retain(|&s| s != EMPTY);
    if empty_key {
        slots.push(EMPTY);
    }
    Some(slots)
}

/// The rank of each of a few distinct keys: a hash table with linear probing, at
/// most half full.
struct RankTable {
    keys: Vec<u64>,
    ranks: Vec<u64>,
    /// The rank of the key [`EMPTY`], when it is one of the keys.
    empty_rank: Option<u64>,
}

impl RankTable {
    /// The table of `sorted`, distinct keys in increasing order.
    fn new(sorted: &[u64]) -> Self {
        let mut keys = vec![EMPTY; table_len(sorted.len())];
        let mut ranks = vec![0u64; keys.len()];
        let mut empty_rank = None;
        for (r, &k) in sorted.iter().enumerate() {
            if k == EMPTY {
                empty_rank = Some(r as u64);
                continue;
            }
            let h = probe(&keys, k);
            keys[h] = k;
            ranks[h] = r as u64;
        }
        Self {
            keys,
            ranks,
            empty_rank,
        }
    }

    /// The rank of `k`, one of the table's keys.
    #[inline]
    fn rank(&self, k: u64) -> u64 {
        if k == EMPTY {
            return self.empty_rank.expect("a key of the table");
        }
        self.ranks[probe(&self.keys, k)]
    }
}

/// Subjects below which the radix sort runs on one thread.
const PARALLEL_FROM: usize = 1 << 17;

/// `keys` with their indices and `payload` (one byte per key, moved with it), sorted
/// by key, stable: an LSD radix sort on digits of at most 11 bits, with the counts of
/// all digits taken in one pass and the digits in which all keys agree skipped. Keys
/// below 2^`key_bits` need only that many bits sorted: the fewest digits of at most
/// 11 bits that cover them, of equal width (ranks of 13 bits: two digits of 7 bits,
/// whose fewer places to write to stay in the caches). From [`PARALLEL_FROM`] keys,
/// one part per thread ([`radix_sort_in`]).
fn radix_sort(keys: Vec<u64>, payload: Vec<u8>, key_bits: u32) -> (Vec<u64>, Vec<u32>, Vec<u8>) {
    let parts = if keys.len() < PARALLEL_FROM {
        1
    } else {
        rayon::current_num_threads().clamp(1, keys.len() / (PARALLEL_FROM / 2))
    };
    radix_sort_in(keys, payload, parts, key_bits)
}

/// The widest digit of the radix sort, in bits.
const RADIX_BITS: u32 = 11;
const BUCKETS: usize = 1 << RADIX_BITS;

/// Counts of one digit's values.
type Counts = [u32; BUCKETS];

/// Digit `d` of `k`, digits `width` bits wide.
#[inline(always)]
fn digit(k: u64, d: u32, width: u32) -> usize {
    ((k >> (d * width)) as usize) & ((1 << width) - 1)
}

/// [`radix_sort`] in `parts` consecutive parts of the array. In each pass every part
/// counts its digits, and writes its keys to the places after the keys of all smaller
/// digits and of the earlier parts with the same digit: the order one part alone
/// would give, whatever the number of parts. The parts run in parallel (rayon).
fn radix_sort_in(
    keys: Vec<u64>,
    payload: Vec<u8>,
    parts: usize,
    key_bits: u32,
) -> (Vec<u64>, Vec<u32>, Vec<u8>) {
    let n = keys.len();
    debug_assert_eq!(payload.len(), n);
    debug_assert!(key_bits == 64 || keys.iter().all(|&k| k >> key_bits == 0));
    if n == 0 {
        return (keys, Vec::new(), payload);
    }
    let digits = key_bits.max(1).div_ceil(RADIX_BITS);
    let width = key_bits.max(1).div_ceil(digits);
    let values = 1usize << width;
    let len = n.div_ceil(parts.max(1));
    let ranges: Vec<std::ops::Range<usize>> = (0..n.div_ceil(len))
        .map(|p| p * len..((p + 1) * len).min(n))
        .collect();
    // Every digit's counts, part by part: the totals tell which digits move anything
    // (the same for any order of the keys), and the first pass that does uses its
    // parts' counts as they are.
    let first: Vec<Vec<Counts>> = ranges
        .par_iter()
        .map(|r| {
            let mut c = vec![[0u32; BUCKETS]; digits as usize];
            for &k in &keys[r.clone()] {
                for (d, cd) in (0..digits).zip(c.iter_mut()) {
                    cd[digit(k, d, width)] += 1;
                }
            }
            c
        })
        .collect();
    let moving: Vec<u32> = (0..digits)
        .filter(|&d| {
            let b = digit(keys[0], d, width);
            first
                .iter()
                .map(|c| c[d as usize][b] as usize)
                .sum::<usize>()
                != n
        })
        .collect();
    let (mut cur, mut cur_p) = (keys, payload);
    // The subjects are 0, 1, … until the first pass that moves them.
    let mut cur_i: Vec<u32> = Vec::new();
    let (mut next, mut next_i, mut next_p) = (Vec::new(), Vec::new(), Vec::new());
    for (pass, &d) in moving.iter().enumerate() {
        let counts: Vec<Counts> = if pass == 0 {
            first.iter().map(|c| c[d as usize]).collect()
        } else {
            ranges
                .par_iter()
                .map(|r| {
                    let mut c = [0u32; BUCKETS];
                    for &k in &cur[r.clone()] {
                        c[digit(k, d, width)] += 1;
                    }
                    c
                })
                .collect()
        };
        if pass == 0 {
            // Zeroed by the allocator (fresh pages), not by a pass over them.
            next = vec![0u64; n];
            next_i = vec![0u32; n];
            next_p = vec![0u8; n];
            // The buffer the second pass writes the subjects to.
            cur_i = vec![0u32; n];
        }
        let out_k = cut(&mut next, &counts, values);
        let out_i = cut(&mut next_i, &counts, values);
        let out_p = cut(&mut next_p, &counts, values);
        let (keys, subjects, bytes) = (&cur, &cur_i, &cur_p);
        ranges.par_iter().zip(out_k).zip(out_i).zip(out_p).for_each(
            |(((r, mut ok), mut oi), mut op)| {
                let mut at = [0u32; BUCKETS];
                for j in r.clone() {
                    let k = keys[j];
                    let b = digit(k, d, width);
                    let a = at[b] as usize;
                    ok[b][a] = k;
                    oi[b][a] = if pass == 0 { j as u32 } else { subjects[j] };
                    op[b][a] = bytes[j];
                    at[b] += 1;
                }
            },
        );
        std::mem::swap(&mut cur, &mut next);
        std::mem::swap(&mut cur_i, &mut next_i);
        std::mem::swap(&mut cur_p, &mut next_p);
    }
    if moving.is_empty() {
        cur_i = (0..n as u32).collect();
    }
    (cur, cur_i, cur_p)
}

/// `out` cut into one slice per part and digit value (of `values`), `counts[p][b]`
/// long: digit values in increasing order, parts in order within a value.
fn cut<'a, T>(mut out: &'a mut [T], counts: &[Counts], values: usize) -> Vec<Vec<&'a mut [T]>> {
    let mut slices: Vec<Vec<&'a mut [T]>> = (0..counts.len())
        .map(|_| Vec::with_capacity(values))
        .collect();
    for b in 0..values {
        for (p, c) in counts.iter().enumerate() {
            let (head, tail) = std::mem::take(&mut out).split_at_mut(c[b] as usize);
            slices[p].push(head);
            out = tail;
        }
    }
    slices
}

/// Checks that a per-subject slice of the `*_sorted` functions has one entry per subject.
fn check_len(s: &SortedSubjects, name: &str, len: usize) -> StatsResult<()> {
    if len != s.len() {
        return Err(StatsError::Invalid(format!(
            "{len} {name} for {} times",
            s.len()
        )));
    }
    Ok(())
}

/// No subjects: the `*_sorted` functions fail as the single-call ones do.
fn check_nonempty(s: &SortedSubjects) -> StatsResult<()> {
    if s.is_empty() {
        return Err(StatsError::TooFew { needed: 1, got: 0 });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sorted_by_time_stable_and_subset_renumbers() {
        let time = [3.0, 1.0, -0.0, 2.5, 1.0, 0.0, 1e300, 7.0];
        let event = [true, false, true, true, true, false, false, true];
        let s = SortedSubjects::new(&time, &event).unwrap();
        let subjects = |s: &SortedSubjects| (0..s.len()).map(|p| s.subject(p)).collect::<Vec<_>>();
        let times = |s: &SortedSubjects| (0..s.len()).map(|p| s.time(p)).collect::<Vec<_>>();
        assert_eq!(subjects(&s), vec![2, 5, 1, 4, 3, 0, 7, 6]);
        assert_eq!(times(&s), vec![0.0, 0.0, 1.0, 1.0, 2.5, 3.0, 7.0, 1e300]);
        assert!(s.time(0).is_sign_positive());
        assert_eq!([s.event(2), s.event(3)], [false, true]);
        let keep = [true, false, true, false, true, true, false, false];
        let sub = s.subset(&keep).unwrap();
        // Kept subjects 0, 2, 4, 5 become 0, 1, 2, 3.
        assert_eq!(subjects(&sub), vec![1, 3, 2, 0]);
        assert_eq!(times(&sub), vec![0.0, 0.0, 1.0, 3.0]);
        assert!(s.subset(&keep[1..]).is_err());
        let g = s.grouped(s.in_sorted_order(&[5, 9, 5, 9, 9, 5, 5, 9]));
        assert_eq!(g.levels, vec![5, 9]);
        assert_eq!(g.group(0), &[0, 1, 5, 7]);
        assert_eq!(g.group(1), &[2, 3, 4, 6]);
        assert!(matches!(
            SortedSubjects::new(&[1.0, f64::NAN], &[true, true]),
            Err(StatsError::Invalid(_))
        ));
        // Enough subjects for the sort by ranks: times on a grid of days (few distinct
        // values, −0 among them), and times all distinct; the order of a stable sort.
        let n = RANKED_FROM + 1000;
        let grid: Vec<f64> = (0..n)
            .map(|i| {
                if i % 997 == 0 {
                    -0.0
                } else {
                    ((i * 7919) % 3650) as f64 / 100.0
                }
            })
            .collect();
        let spread: Vec<f64> = (0..n).map(|i| ((i * 7919) % n) as f64 * 1.5).collect();
        let event: Vec<bool> = (0..n).map(|i| i % 3 != 0).collect();
        for time in [grid, spread] {
            let s = SortedSubjects::new(&time, &event).unwrap();
            let mut want: Vec<u32> = (0..n as u32).collect();
            want.sort_by(|&a, &b| {
                normalise(time[a as usize]).total_cmp(&normalise(time[b as usize]))
            });
            assert_eq!(s.subject, want);
            assert!(
                (0..n).all(|p| s.time(p).to_bits() == normalise(time[want[p] as usize]).to_bits())
            );
            assert!((0..n).all(|p| s.event(p) == event[want[p] as usize]));
        }
    }

    #[test]
    fn sorted_variants_give_the_single_call_results() {
        use crate::stats::ols::Clusters;
        // 600 subjects, 3 groups, times on a coarse grid (many ties), 4 strata, 30
        // clusters; a deterministic pseudo-random sequence.
        let mut x = 12345u64;
        let mut next = move || {
            x = x
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (x >> 33) as u32
        };
        let n = 600;
        let group: Vec<u32> = (0..n).map(|_| [2, 7, 9][(next() % 3) as usize]).collect();
        let time: Vec<f64> = (0..n)
            .map(|i| f64::from(next() % (40 + group[i] * 3)) / 2.0)
            .collect();
        let event: Vec<bool> = (0..n).map(|_| next() % 10 < 7).collect();
        let strata: Vec<u32> = (0..n).map(|_| next() % 4 + 10).collect();
        let cluster_labels: Vec<u32> = (0..n).map(|_| next() % 30).collect();
        let sorted = SortedSubjects::new(&time, &event).unwrap();

        let km = kaplan_meier(&time, &event, &group, CiTransform::LogLog, 0.9).unwrap();
        let km_s = kaplan_meier_sorted(&sorted, &group, CiTransform::LogLog, 0.9).unwrap();
        assert_eq!(km.len(), 3);
        // Bit for bit (NaN standard errors where a curve reaches 0 included).
        assert!(format!("{km:?}") == format!("{km_s:?}"));
        let lr = log_rank(&time, &event, &group, Some(&strata)).unwrap();
        assert_eq!(lr, log_rank_sorted(&sorted, &group, Some(&strata)).unwrap());
        assert_eq!(lr.strata, 4);

        // Two of the three groups, as the analysis compares arms.
        let keep: Vec<bool> = group.iter().map(|&g| g != 7).collect();
        let pick =
            |v: &dyn Fn(usize) -> f64| -> Vec<f64> { (0..n).filter(|&i| keep[i]).map(v).collect() };
        let t2 = pick(&|i| time[i]);
        let e2: Vec<bool> = (0..n).filter(|&i| keep[i]).map(|i| event[i]).collect();
        let x2 = pick(&|i| f64::from(u8::from(group[i] == 9)));
        let g2: Vec<u32> = x2.iter().map(|&v| v as u32).collect();
        let s2: Vec<u32> = (0..n).filter(|&i| keep[i]).map(|i| strata[i]).collect();
        let cl2 = Clusters::from_labels(
            &(0..n)
                .filter(|&i| keep[i])
                .map(|i| cluster_labels[i])
                .collect::<Vec<_>>(),
        );
        let sub = sorted.subset(&keep).unwrap();
        assert_eq!(sub.len(), t2.len());
        assert_eq!(
            log_rank(&t2, &e2, &g2, None).unwrap(),
            log_rank_sorted(&sub, &g2, None).unwrap()
        );
        for strata in [None, Some(&s2[..])] {
            let a = cox_ph(&t2, &e2, &[&x2], strata, Some(&cl2), 0.95).unwrap();
            let b = cox_ph_sorted(&sub, &[&x2], strata, Some(&cl2), 0.95).unwrap();
            assert_eq!((a.n, a.events, a.clusters), (b.n, b.events, b.clusters));
            let close = |p: f64, q: f64| (p - q).abs() <= 1e-12 * p.abs().max(1.0);
            assert!(close(a.loglik, b.loglik));
            assert!(close(a.coefficients[0].coef, b.coefficients[0].coef));
            assert!(close(a.vcov[0][0], b.vcov[0][0]));
            let (ra, rb) = (a.robust_vcov.unwrap(), b.robust_vcov.unwrap());
            assert!(close(ra[0][0], rb[0][0]));
        }

        // The group codes carried through the sort give the same curves, tests and
        // fits as codes looked up by subject: small codes in the marks, and codes from
        // 128 up looked up once after the sort; through a subset too.
        let wide: Vec<u32> = group.iter().map(|&g| g * 1000).collect();
        for codes in [&group, &wide] {
            let carried = SortedSubjects::with_codes(&time, &event, codes).unwrap();
            assert_eq!(
                matches!(carried.codes, SortedCodes::Marks),
                codes.iter().all(|&c| c < CARRIED)
            );
            let by_subject = kaplan_meier_sorted(&sorted, codes, CiTransform::LogLog, 0.9);
            let km_c = kaplan_meier_sorted(&carried, Codes::Carried, CiTransform::LogLog, 0.9);
            assert!(format!("{by_subject:?}") == format!("{km_c:?}"));
            assert_eq!(
                log_rank_sorted(&carried, Codes::Carried, Some(&strata)).unwrap(),
                log_rank_sorted(&sorted, codes, Some(&strata)).unwrap()
            );
            let sub_c = carried.subset(&keep).unwrap();
            let is_9 = codes[group.iter().position(|&g| g == 9).unwrap()];
            assert_eq!(
                log_rank_sorted(&sub_c, Codes::CarriedIs(is_9), None).unwrap(),
                log_rank_sorted(&sub, &g2, None).unwrap()
            );
            for strata in [None, Some(&s2[..])] {
                let a = cox_ph_sorted_indicator(&sub, &g2, strata, Some(&cl2), 0.95).unwrap();
                let b = cox_ph_sorted_indicator(
                    &sub_c,
                    Codes::CarriedIs(is_9),
                    strata,
                    Some(&cl2),
                    0.95,
                )
                .unwrap();
                assert_eq!(format!("{a:?}"), format!("{b:?}"));
            }
        }
        // Carried codes asked of subjects sorted without them: an error, not a guess.
        assert!(matches!(
            kaplan_meier_sorted(&sorted, Codes::Carried, CiTransform::LogLog, 0.9),
            Err(StatsError::Invalid(_))
        ));
        assert!(matches!(
            log_rank_sorted(&sub, Codes::CarriedIs(1), None),
            Err(StatsError::Invalid(_))
        ));
        // An indicator code other than 0 or 1 is named with its subject.
        let mut bad = g2.clone();
        bad[5] = 3;
        bad[9] = 4;
        let err = cox_ph_sorted_indicator(&sub, &bad, None, None, 0.95).unwrap_err();
        assert!(
            format!("{err}").contains("subject 6 (row 5, 0-based) is 3"),
            "{err}"
        );
        assert!(SortedSubjects::with_codes(&time, &event, &group[1..]).is_err());

        // Inputs that do not fit the sorted subjects fail as the single calls do.
        assert!(matches!(
            kaplan_meier_sorted(&sorted, &group[1..], CiTransform::LogLog, 0.9),
            Err(StatsError::Invalid(_))
        ));
        assert!(matches!(
            log_rank_sorted(&sorted, &group, Some(&strata[1..])),
            Err(StatsError::Invalid(_))
        ));
        assert!(matches!(
            cox_ph_sorted(&sub, &[&x2[1..]], None, None, 0.95),
            Err(StatsError::Invalid(_))
        ));
        let none = sorted.subset(&vec![false; n]).unwrap();
        assert!(matches!(
            kaplan_meier_sorted(&none, &[], CiTransform::LogLog, 0.9),
            Err(StatsError::TooFew { needed: 1, got: 0 })
        ));
        assert!(matches!(
            cox_ph_sorted(&none, &[&[]], None, None, 0.95),
            Err(StatsError::TooFew { .. })
        ));
    }

    #[test]
    fn radix_sort_matches_a_stable_sort() {
        let mut x = 0x9E37_79B9_7F4A_7C15u64;
        let keys: Vec<u64> = (0..5000)
            .map(|i| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                if i % 3 == 0 { x % 7 } else { x }
            })
            .collect();
        let payload: Vec<u8> = (0..keys.len()).map(|i| (i * 7 % 251) as u8).collect();
        let mut want: Vec<u32> = (0..keys.len() as u32).collect();
        want.sort_by_key(|&i| keys[i as usize]);
        let want_keys: Vec<u64> = want.iter().map(|&i| keys[i as usize]).collect();
        let want_payload: Vec<u8> = want.iter().map(|&i| payload[i as usize]).collect();
        // Any number of parts (more parts than a few keys each too) gives the order of
        // one part; the payload moves with its key.
        for parts in [1, 2, 3, 7, 4999, 5000, 6000] {
            let (sorted_keys, got, moved) = radix_sort_in(keys.clone(), payload.clone(), parts, 64);
            assert_eq!(got, want, "{parts} parts");
            assert_eq!(sorted_keys, want_keys, "{parts} parts");
            assert_eq!(moved, want_payload, "{parts} parts");
        }
        // Keys already in order move nothing; no keys give nothing.
        for parts in [1, 3] {
            let sorted = radix_sort_in(vec![1u64, 1, 5, 9], vec![4, 3, 2, 1], parts, 64);
            assert_eq!(
                sorted,
                (vec![1, 1, 5, 9], vec![0, 1, 2, 3], vec![4, 3, 2, 1])
            );
            let (none, none_i, none_p) = radix_sort_in(Vec::new(), Vec::new(), parts, 64);
            assert!(none.is_empty() && none_i.is_empty() && none_p.is_empty());
        }
        // Keys ranked among few distinct values sort in the keys' order; with more
        // distinct values than allowed they are left as they are.
        // Ranks of 9 bits sort in one pass, of 12 bits in two of 6 bits.
        for m in [300, 3000] {
            let few: Vec<u64> = (0..keys.len() as u64)
                .map(|i| (i * 2_654_435_761) % m * 1_000_000_007)
                .collect();
            let d = few.iter().collect::<std::collections::BTreeSet<_>>().len();
            for (max, expect_ranked) in [(d, true), (d - 1, false)] {
                let mut ranks = few.clone();
                let distinct = ranked(&mut ranks, max);
                assert_eq!(distinct.is_some(), expect_ranked);
                let Some(distinct) = distinct else {
                    assert_eq!(ranks, few);
                    continue;
                };
                assert_eq!(distinct.len(), d);
                assert!(
                    ranks
                        .iter()
                        .zip(&few)
                        .all(|(&r, &k)| distinct[r as usize] == k)
                );
                let bits = usize::BITS - (d - 1).leading_zeros();
                assert_eq!(bits, if m == 300 { 9 } else { 12 });
                let (by_rank, order, _) = radix_sort_in(ranks, payload.clone(), 2, bits);
                let (by_key, want, _) = radix_sort_in(few.clone(), payload.clone(), 1, 64);
                assert_eq!(order, want);
                let back: Vec<u64> = by_rank.iter().map(|&r| distinct[r as usize]).collect();
                assert_eq!(back, by_key);
            }
        }
        // The key with the table's empty bits is a key like any other.
        let mut odd = vec![EMPTY, 3, EMPTY, 0, 3];
        assert_eq!(ranked(&mut odd, 3), Some(vec![0, 3, EMPTY]));
        assert_eq!(odd, vec![2, 1, 2, 0, 1]);
        assert_eq!(ranked(&mut [EMPTY, 3, 0, 5], 3), None);
        // Enough keys for the threads' parts: the same order as a stable sort.
        let n = 2 * PARALLEL_FROM + 3;
        let keys: Vec<u64> = (0..n as u64)
            .map(|i| (i * 2_654_435_761) % 1_000_003)
            .collect();
        let (sorted_keys, got, moved) = radix_sort(keys.clone(), vec![1; n], 64);
        let mut want: Vec<u32> = (0..n as u32).collect();
        want.sort_by_key(|&i| keys[i as usize]);
        assert_eq!(got, want);
        assert!(sorted_keys.windows(2).all(|w| w[0] <= w[1]));
        assert!(moved.iter().all(|&b| b == 1));
        for top in [3u32, 254, 255, 256, 70_000] {
            let codes: Vec<u32> = (0..=top).rev().chain([top, 0, 1]).collect();
            let want: Vec<u32> = (0..=top).collect();
            assert_eq!(levels(&codes), want);
            let index = LevelIndex::new(&want);
            assert!(codes.iter().all(|&c| index.of(c) == c));
        }
    }
}
