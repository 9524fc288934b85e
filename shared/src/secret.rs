//! A string that must never reach a log: `Debug` and `Display` print a placeholder.

use std::fmt;

#[derive(Clone)]
pub struct Secret(String);

/// Constant-time (the SHA-256 digests are compared, so the lengths do not show either): `==`
/// on secrets must not tell an attacker how much of a guess was right.
impl PartialEq for Secret {
    fn eq(&self, other: &Self) -> bool {
        use sha2::{Digest, Sha256};
        crate::signing::constant_time_eq(
            &Sha256::digest(self.0.as_bytes()),
            &Sha256::digest(other.0.as_bytes()),
        )
    }
}

impl Eq for Secret {}

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    /// The secret itself, for signing only.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(***)")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_and_display_hide_the_value() {
        let s = Secret::new("hunter2");
        assert!(!format!("{s:?}").contains("hunter2"));
        assert!(!format!("{s}").contains("hunter2"));
        assert_eq!(s.expose(), "hunter2");
    }

    #[test]
    fn equality_compares_contents() {
        assert_eq!(Secret::new("hunter2"), Secret::new("hunter2"));
        assert_ne!(Secret::new("hunter2"), Secret::new("hunter3"));
        assert_ne!(Secret::new("hunter2"), Secret::new("hunter22"));
        assert_ne!(Secret::new(""), Secret::new("a"));
    }
}
