//! Cluster membership as dense codes, shared by the cluster-robust variances, the
//! blocked designs and the wild cluster bootstrap.

use std::sync::Arc;

/// Cluster membership as dense codes 0..G. The codes are shared: a clone (a fit that
/// keeps its fixed effects, say) costs no copy of them.
#[derive(Debug, Clone)]
pub struct Clusters {
    codes: Arc<Vec<u32>>,
    count: usize,
}

impl Clusters {
    /// From any labels: codes are assigned in order of first appearance.
    pub fn from_labels<T: std::hash::Hash + Eq + Clone>(labels: &[T]) -> Self {
        let mut map = std::collections::HashMap::new();
        let codes = labels
            .iter()
            .map(|l| {
                let next = map.len() as u32;
                *map.entry(l.clone()).or_insert(next)
            })
            .collect();
        Self {
            codes: Arc::new(codes),
            count: map.len(),
        }
    }
    /// From labels, with codes in sorted label order, so that anything that depends
    /// on the order of clusters (the weights of a wild cluster bootstrap draw) does not
    /// depend on the order of the rows.
    pub fn from_sorted_labels<T: Ord + Clone>(labels: &[T]) -> Self {
        let mut levels: Vec<T> = labels.to_vec();
        levels.sort();
        levels.dedup();
        let codes = labels
            .iter()
            .map(|l| levels.binary_search(l).map_or(0, |i| i as u32))
            .collect();
        Self {
            codes: Arc::new(codes),
            count: levels.len(),
        }
    }

    /// From codes that already sort like their labels (each the rank of its label among
    /// `n_levels` labels): the levels present are numbered 0.. in the same order, so the
    /// result equals [`Clusters::from_sorted_labels`] of the labels, without a sort
    /// (O(n + n_levels)).
    pub fn from_ranked_codes(mut codes: Vec<u32>, n_levels: usize) -> Self {
        let mut remap = vec![u32::MAX; n_levels];
        for &c in &codes {
            remap[c as usize] = 0;
        }
        let mut count = 0;
        for slot in remap.iter_mut().filter(|s| **s == 0) {
            *slot = count;
            count += 1;
        }
        for c in &mut codes {
            *c = remap[*c as usize];
        }
        Self {
            codes: Arc::new(codes),
            count: count as usize,
        }
    }

    pub fn count(&self) -> usize {
        self.count
    }
    pub fn codes(&self) -> &[u32] {
        &self.codes
    }
}

/// The rows grouped by their code, each group's rows in row order (a counting sort):
/// group g's rows are `rows[start[g]..start[g + 1]]`, for codes below `levels`. `None`
/// when there are more rows than a `u32` numbers.
pub fn group_rows(codes: &[u32], levels: usize) -> Option<(Vec<usize>, Vec<u32>)> {
    u32::try_from(codes.len()).ok()?;
    let mut start = vec![0usize; levels + 1];
    for &c in codes {
        start[c as usize + 1] += 1;
    }
    for g in 0..levels {
        start[g + 1] += start[g];
    }
    let mut next = start.clone();
    let mut rows = vec![0u32; codes.len()];
    for (i, &c) in codes.iter().enumerate() {
        rows[next[c as usize]] = i as u32;
        next[c as usize] += 1;
    }
    Some((start, rows))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_are_grouped_by_code_in_row_order() {
        let (start, rows) = group_rows(&[2, 0, 2, 1, 0, 2], 4).unwrap();
        assert_eq!(start, vec![0, 2, 3, 6, 6]);
        assert_eq!(rows, vec![1, 4, 3, 0, 2, 5]);
    }

    /// Ranked codes with gaps give the clusters the sorted labels give.
    #[test]
    fn ranked_codes_equal_sorted_labels() {
        let codes: Vec<u32> = [7, 3, 3, 9, 0, 7, 12, 9, 3].to_vec();
        let a = Clusters::from_ranked_codes(codes.clone(), 13);
        let b = Clusters::from_sorted_labels(&codes);
        assert_eq!(a.codes(), b.codes());
        assert_eq!(a.count(), 5);
        assert_eq!(a.codes(), [2, 1, 1, 3, 0, 2, 4, 3, 1]);
    }
}
