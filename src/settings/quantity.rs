//! Kubernetes resource quantities (`10Gi`, `500M`, `1e9`) as byte counts, for comparisons such
//! as `retention.bytes` against the volume size.

/// Parse a Kubernetes quantity into bytes; `None` when it is not a valid quantity.
pub fn parse_quantity_bytes(text: &str) -> Option<u64> {
    let text = text.trim();
    let split = text.find(|c: char| !(c.is_ascii_digit() || c == '.')).unwrap_or(text.len());
    let (number, suffix) = text.split_at(split);
    if number.is_empty() {
        return None;
    }
    let value: f64 = number.parse().ok()?;
    let multiplier: f64 = match suffix {
        "" => 1.0,
        "Ki" => 1024.0,
        "Mi" => 1024f64.powi(2),
        "Gi" => 1024f64.powi(3),
        "Ti" => 1024f64.powi(4),
        "Pi" => 1024f64.powi(5),
        "Ei" => 1024f64.powi(6),
        "k" => 1e3,
        "M" => 1e6,
        "G" => 1e9,
        "T" => 1e12,
        "P" => 1e15,
        "E" => 1e18,
        s if s.starts_with('e') || s.starts_with('E') => 10f64.powi(s[1..].parse().ok()?),
        _ => return None,
    };
    let bytes = value * multiplier;
    (bytes.is_finite() && bytes >= 0.0 && bytes < u64::MAX as f64).then_some(bytes as u64)
}

#[cfg(test)]
mod tests {
    use super::parse_quantity_bytes as q;

    #[test]
    fn binary_and_decimal_suffixes() {
        assert_eq!(q("10Gi"), Some(10 * 1024 * 1024 * 1024));
        assert_eq!(q("512Mi"), Some(512 * 1024 * 1024));
        assert_eq!(q("1G"), Some(1_000_000_000));
        assert_eq!(q("1e3"), Some(1000));
        assert_eq!(q("1.5Gi"), Some(1_610_612_736));
        assert_eq!(q("100"), Some(100));
    }

    #[test]
    fn rejects_garbage() {
        assert_eq!(q("ten"), None);
        assert_eq!(q("10GB"), None);
        assert_eq!(q(""), None);
    }
}
