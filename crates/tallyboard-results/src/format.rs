//! Number formats shared by every text output.

use serde::{Serialize, Serializer};

/// `n` with a comma between each group of three digits: `1,234,567`.
pub fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// A percentage rounded to hundredths of a percent, kept as an integer
/// number of hundredths (`5234` is 52.34 %) so that every rendering is
/// exact and reproducible. Rounding is half up (`spec/results.md`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Percent {
    hundredths: u64,
}

impl Percent {
    /// `part / whole` as a percentage, rounded half up to hundredths;
    /// `None` when `whole` is zero.
    pub fn of(part: u64, whole: u64) -> Option<Percent> {
        if whole == 0 {
            return None;
        }
        // part * 10000 / whole, half up, in 128 bits: no overflow.
        let num = u128::from(part) * 20_000 + u128::from(whole);
        let den = u128::from(whole) * 2;
        let h = num / den;
        Some(Percent {
            hundredths: u64::try_from(h).unwrap_or(u64::MAX),
        })
    }

    /// A percentage of `hundredths` hundredths of a percent.
    pub fn from_hundredths(hundredths: u64) -> Percent {
        Percent { hundredths }
    }

    /// Hundredths of a percent (`5234` is 52.34 %).
    pub fn hundredths(self) -> u64 {
        self.hundredths
    }

    /// The value as a number of percent: `hundredths / 100`, the double
    /// nearest the decimal, which JSON writes as its shortest decimal
    /// (`52.34`, `100.0`, `0.05`).
    pub fn to_f64(self) -> f64 {
        self.hundredths as f64 / 100.0
    }

    /// The decimal with exactly two places: `52.34`, `100.00`.
    pub fn decimal(self) -> String {
        format!("{}.{:02}", self.hundredths / 100, self.hundredths % 100)
    }
}

impl core::fmt::Display for Percent {
    /// `52.34%`.
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "{}%", self.decimal())
    }
}

impl Serialize for Percent {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_f64(self.to_f64())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thousands_groups_digits() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1000), "1,000");
        assert_eq!(thousands(1_234_567), "1,234,567");
        assert_eq!(thousands(u64::MAX), "18,446,744,073,709,551,615");
    }

    #[test]
    fn percent_rounds_half_up() {
        assert_eq!(Percent::of(1, 3).map(Percent::hundredths), Some(3333));
        assert_eq!(Percent::of(2, 3).map(Percent::hundredths), Some(6667));
        // 1/8 = 12.5 % exactly; 1/16 = 6.25 %; 1/32 = 3.125 % -> 3.13.
        assert_eq!(Percent::of(1, 32).map(Percent::hundredths), Some(313));
        assert_eq!(Percent::of(0, 5).map(Percent::hundredths), Some(0));
        assert_eq!(Percent::of(5, 5).map(Percent::hundredths), Some(10000));
        assert_eq!(Percent::of(1, 0), None);
        assert_eq!(
            Percent::of(u64::MAX, u64::MAX).map(Percent::hundredths),
            Some(10000)
        );
    }

    #[test]
    fn percent_renders() {
        let p = Percent::from_hundredths(5234);
        assert_eq!(p.to_string(), "52.34%");
        assert_eq!(serde_json::to_string(&p).ok().as_deref(), Some("52.34"));
        let p = Percent::from_hundredths(10000);
        assert_eq!(p.to_string(), "100.00%");
        assert_eq!(serde_json::to_string(&p).ok().as_deref(), Some("100.0"));
        let p = Percent::from_hundredths(5);
        assert_eq!(p.to_string(), "0.05%");
    }
}
