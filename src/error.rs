//! One error type for the library. Each variant maps to an exit code in `main`:
//! usage errors exit 2, everything else 1. Messages say what is wrong, where (file,
//! key, column, row) and what to do, in plain language; the error of the library
//! underneath (I/O, polars, a parser), when there is one, is kept as the cause
//! ([`Error::with_cause`], [`std::error::Error::source`]) and printed after the message
//! ([`Error::report`]).

use std::fmt;
use std::path::{Path, PathBuf};

pub type Result<T> = std::result::Result<T, Error>;

/// The error underneath an [`Error`].
pub type Cause = Box<dyn std::error::Error + Send + Sync>;

#[derive(Debug)]
pub enum Error {
    /// Wrong command-line use (unknown pilot, bad flag value).
    Usage(Message),
    /// A pilot config that does not validate.
    Config { file: PathBuf, msg: Message },
    /// Data that do not fit the config or the analysis.
    Data { file: PathBuf, msg: Message },
    /// Reading or writing failed.
    Io { file: PathBuf, msg: Message },
    /// An estimator cannot be computed on these inputs.
    Analysis(Message),
}

/// The plain-language message of an [`Error`], and the error underneath it, if any.
/// Shown, it is the message alone.
#[derive(Debug)]
pub struct Message {
    pub text: String,
    pub cause: Option<Cause>,
}

impl From<String> for Message {
    fn from(text: String) -> Self {
        Self { text, cause: None }
    }
}

impl fmt::Display for Message {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

impl Error {
    pub fn usage(msg: impl Into<String>) -> Self {
        Self::Usage(msg.into().into())
    }
    pub fn config(file: &Path, msg: impl Into<String>) -> Self {
        Self::Config {
            file: file.to_path_buf(),
            msg: msg.into().into(),
        }
    }
    pub fn data(file: &Path, msg: impl Into<String>) -> Self {
        Self::Data {
            file: file.to_path_buf(),
            msg: msg.into().into(),
        }
    }
    pub fn io(file: &Path, msg: impl Into<String>) -> Self {
        Self::Io {
            file: file.to_path_buf(),
            msg: msg.into().into(),
        }
    }
    pub fn analysis(msg: impl Into<String>) -> Self {
        Self::Analysis(msg.into().into())
    }

    /// This error with the error underneath it (an I/O, polars or parser error), which
    /// [`std::error::Error::source`] gives and [`Error::report`] prints after the message.
    pub fn with_cause(mut self, cause: impl Into<Cause>) -> Self {
        self.message_mut().cause = Some(cause.into());
        self
    }

    fn message(&self) -> &Message {
        match self {
            Self::Usage(m) | Self::Analysis(m) => m,
            Self::Config { msg, .. } | Self::Data { msg, .. } | Self::Io { msg, .. } => msg,
        }
    }

    fn message_mut(&mut self) -> &mut Message {
        match self {
            Self::Usage(m) | Self::Analysis(m) => m,
            Self::Config { msg, .. } | Self::Data { msg, .. } | Self::Io { msg, .. } => msg,
        }
    }

    /// The message and then each cause in the chain, one per line ("caused by: ..."),
    /// as the command line prints an error.
    pub fn report(&self) -> String {
        let mut out = self.to_string();
        let mut cause = std::error::Error::source(self);
        while let Some(c) = cause {
            out.push_str(&format!("\n  caused by: {c}"));
            cause = c.source();
        }
        out
    }

    /// Process exit code: 2 for usage errors, 1 for the rest.
    pub fn exit_code(&self) -> i32 {
        match self {
            Self::Usage(_) => 2,
            _ => 1,
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Usage(m) => write!(f, "{m}"),
            Self::Config { file, msg } => write!(f, "config {}: {msg}", file.display()),
            Self::Data { file, msg } => write!(f, "data {}: {msg}", file.display()),
            Self::Io { file, msg } => write!(f, "{}: {msg}", file.display()),
            Self::Analysis(m) => write!(f, "{m}"),
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.message()
            .cause
            .as_deref()
            .map(|c| c as &(dyn std::error::Error + 'static))
    }
}

/// Most values of a column an error message lists. A column with more is likely an id
/// or a measurement, whose values may identify persons: messages give only the count.
pub const MAX_LISTED_VALUES: usize = 12;

/// Levenshtein distance, for "did you mean" hints.
pub fn edit_distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    let mut cur = vec![0; b.len() + 1];
    for i in 1..=a.len() {
        cur[0] = i;
        for j in 1..=b.len() {
            let sub = prev[j - 1] + usize::from(a[i - 1] != b[j - 1]);
            cur[j] = sub.min(prev[j] + 1).min(cur[j - 1] + 1);
        }
        std::mem::swap(&mut prev, &mut cur);
    }
    prev[b.len()]
}

/// ` Did you mean "x"?` naming the candidate closest to `word` (see [`closest`]), or ""
/// when none is close: the hint that follows a message about an unknown name.
pub fn did_you_mean<'a>(word: &str, candidates: impl Iterator<Item = &'a str>) -> String {
    closest(word, candidates)
        .map(|c| format!(" Did you mean \"{c}\"?"))
        .unwrap_or_default()
}

/// The candidate closest to `word`, if it is close enough to be a likely typo.
pub fn closest<'a>(word: &str, candidates: impl Iterator<Item = &'a str>) -> Option<&'a str> {
    let lw = word.to_lowercase();
    candidates
        .map(|c| (edit_distance(&lw, &c.to_lowercase()), c))
        .filter(|(d, c)| {
            *d <= (c.chars().count().max(3) / 3).max(2) || c.to_lowercase().contains(&lw)
        })
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The cause is kept apart from the message, and printed after it.
    #[test]
    fn causes_follow_the_message() {
        let io = std::io::Error::new(std::io::ErrorKind::PermissionDenied, "denied");
        let e = Error::io(Path::new("d.csv"), "cannot read the data file").with_cause(io);
        assert_eq!(e.to_string(), "d.csv: cannot read the data file");
        assert_eq!(std::error::Error::source(&e).unwrap().to_string(), "denied");
        assert_eq!(
            e.report(),
            "d.csv: cannot read the data file\n  caused by: denied"
        );
        let plain = Error::usage("no pilot \"x\"");
        assert!(std::error::Error::source(&plain).is_none());
        assert_eq!(plain.report(), "no pilot \"x\"");
        assert!(matches!(plain, Error::Usage(_)));
    }

    #[test]
    fn closest_suggests_typos() {
        let names = ["work_12m", "hours_week", "age"];
        assert_eq!(closest("work_12", names.iter().copied()), Some("work_12m"));
        assert_eq!(closest("xyzxyzxyz", names.iter().copied()), None);
        assert_eq!(edit_distance("kitten", "sitting"), 3);
    }
}
