//! The line (or worksheet row) each data row came from, for messages that name it.

/// Per data row, the line of the file (or the row of the worksheet) it was read from.
///
/// Listed one by one, then as a run of consecutive lines: the reader of plain files
/// ([`super::plain`]) lists the rows of its head and knows that every later record is
/// one line, so it keeps those as a first line and a count instead of 4 bytes a row
/// (40 MB at 10^7 rows, held as long as the frame). Two values are equal when they
/// give every row the same line, however they are kept.
#[derive(Debug, Clone, Default)]
pub(crate) struct RowLines {
    listed: Vec<u32>,
    /// First line and number of rows of the run after the listed rows.
    run: (u32, usize),
}

impl RowLines {
    /// Every row's line listed.
    pub(crate) fn listed(lines: Vec<u32>) -> Self {
        Self {
            listed: lines,
            run: (0, 0),
        }
    }

    /// These rows, then `count` rows on the lines from `first` on, one each; `None`
    /// when these end in a run already, or the last line is beyond `u32`.
    pub(crate) fn followed_by(self, first: u32, count: usize) -> Option<Self> {
        if self.run.1 > 0 {
            return None;
        }
        if count > 0 {
            first.checked_add(u32::try_from(count - 1).ok()?)?;
        }
        Some(Self {
            listed: self.listed,
            run: (first, count),
        })
    }

    pub(crate) fn len(&self) -> usize {
        self.listed.len() + self.run.1
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The line of row `i`.
    pub(crate) fn get(&self, i: usize) -> Option<u32> {
        match i.checked_sub(self.listed.len()) {
            None => Some(self.listed[i]),
            // Below the count, so the line fits a u32 ([`Self::with_run`]).
            Some(k) if k < self.run.1 => Some(self.run.0 + k as u32),
            Some(_) => None,
        }
    }

    /// The lines of the rows in order.
    pub(crate) fn iter(&self) -> impl Iterator<Item = u32> + '_ {
        let (first, count) = self.run;
        self.listed
            .iter()
            .copied()
            .chain((0..count).map(move |k| first + k as u32))
    }

    /// The lines of the rows where `keep` holds (one flag per row), listed.
    pub(crate) fn filter(&self, keep: &[bool]) -> Self {
        debug_assert_eq!(keep.len(), self.len());
        Self::listed(
            self.iter()
                .zip(keep)
                .filter(|(_, k)| **k)
                .map(|(l, _)| l)
                .collect(),
        )
    }
}

impl PartialEq for RowLines {
    fn eq(&self, other: &Self) -> bool {
        self.len() == other.len() && self.iter().eq(other.iter())
    }
}

impl Eq for RowLines {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_run_gives_the_lines_a_list_gives() {
        let listed = RowLines::listed(vec![2, 3, 5, 6, 7, 8]);
        let run = RowLines::listed(vec![2, 3]).followed_by(5, 4).unwrap();
        assert_eq!(run, listed);
        assert_eq!(run.len(), 6);
        assert_eq!((0..7).map(|i| run.get(i)).collect::<Vec<_>>(), {
            let mut v: Vec<_> = [2, 3, 5, 6, 7, 8].map(Some).to_vec();
            v.push(None);
            v
        });
        let keep = [true, false, false, true, true, false];
        assert_eq!(run.filter(&keep).iter().collect::<Vec<_>>(), [2, 6, 7]);
        assert_ne!(run, RowLines::listed(vec![2, 3]).followed_by(6, 4).unwrap());
        assert_ne!(run, RowLines::listed(vec![2, 3]).followed_by(5, 3).unwrap());
        // The last line must fit a u32.
        assert!(RowLines::default().followed_by(u32::MAX - 2, 3).is_some());
        assert!(RowLines::default().followed_by(u32::MAX - 2, 4).is_none());
        assert!(RowLines::default().followed_by(1, 0).unwrap().is_empty());
        // One run only.
        assert!(run.followed_by(9, 1).is_none());
    }
}
