//! Text labels of many levels (a factor's distinct values: the units of a panel, its
//! clusters) kept in one buffer: a `Vec<String>` costs 24 bytes per label plus an
//! allocation of at least 32 bytes for a short one, 5.6 MB for 10^5 unit numbers; here
//! 5-6 bytes of text and 8 bytes of offset per label.

/// A list of labels, in the order they were added.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Labels {
    text: String,
    /// Where each label ends in `text` (it starts where the one before ends).
    ends: Vec<usize>,
}

impl Labels {
    /// An empty list with room for `n` labels.
    pub fn with_capacity(n: usize) -> Self {
        Self {
            text: String::new(),
            ends: Vec::with_capacity(n),
        }
    }
    /// Add a label at the end.
    pub fn push(&mut self, label: &str) {
        self.text.push_str(label);
        self.ends.push(self.text.len());
    }
    pub fn len(&self) -> usize {
        self.ends.len()
    }
    pub fn is_empty(&self) -> bool {
        self.ends.is_empty()
    }
    /// Label `i`, if there is one.
    pub fn get(&self, i: usize) -> Option<&str> {
        let end = *self.ends.get(i)?;
        let start = if i == 0 { 0 } else { self.ends[i - 1] };
        Some(&self.text[start..end])
    }
    /// The labels in order.
    pub fn iter(&self) -> impl ExactSizeIterator<Item = &str> + '_ {
        (0..self.len()).map(|i| &self[i])
    }
    /// The labels of `parts`, one list after the other.
    pub fn concat(parts: Vec<Labels>) -> Self {
        let mut out = Self {
            text: String::with_capacity(parts.iter().map(|p| p.text.len()).sum()),
            ends: Vec::with_capacity(parts.iter().map(Labels::len).sum()),
        };
        for p in parts {
            let base = out.text.len();
            out.text.push_str(&p.text);
            out.ends.extend(p.ends.iter().map(|e| base + e));
        }
        out
    }
    /// Release the room reserved beyond the labels.
    pub fn shrink_to_fit(&mut self) {
        self.text.shrink_to_fit();
        self.ends.shrink_to_fit();
    }
}

impl std::ops::Index<usize> for Labels {
    type Output = str;
    /// Label `i`; panics when there is none, as a slice does.
    fn index(&self, i: usize) -> &str {
        match self.get(i) {
            Some(s) => s,
            None => panic!("label {i} of {}", self.len()),
        }
    }
}

impl<const N: usize> PartialEq<[&str; N]> for Labels {
    fn eq(&self, other: &[&str; N]) -> bool {
        self.len() == N && self.iter().zip(other).all(|(a, b)| a == *b)
    }
}

impl<S: AsRef<str>> FromIterator<S> for Labels {
    fn from_iter<I: IntoIterator<Item = S>>(it: I) -> Self {
        let mut out = Self::default();
        for s in it {
            out.push(s.as_ref());
        }
        out.shrink_to_fit();
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_come_back_as_added() {
        let words = ["12", "", "Zoë", "unit 7", "12"];
        let l: Labels = words.iter().collect();
        assert_eq!(l.len(), 5);
        assert_eq!(l.iter().collect::<Vec<_>>(), words);
        assert_eq!(&l[2], "Zoë");
        assert_eq!(l.get(1), Some(""));
        assert_eq!(l.get(5), None);
        assert!(Labels::default().is_empty());
        let parts = vec![
            ["a", "bc"].iter().collect(),
            Labels::default(),
            ["", "d"].iter().collect(),
        ];
        let joined = Labels::concat(parts);
        assert_eq!(joined.iter().collect::<Vec<_>>(), ["a", "bc", "", "d"]);
        assert_eq!(joined, ["a", "bc", "", "d"]);
        assert_ne!(joined, ["a", "bc", ""]);
        assert_eq!(Labels::default().get(0), None);
    }
}
