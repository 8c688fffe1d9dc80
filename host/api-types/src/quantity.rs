//! Resource quantities (`100m`, `1.5Gi`, `2e3`) as numbers, for the roles that
//! compare them (the scheduler's fit checks, simulated node capacity).

/// The quantity in thousandths, rounded up (cpu in millicores): `"250m"` → 250,
/// `"2"` → 2000. None when it is not a quantity.
pub fn parse_milli(s: &str) -> Option<u64> {
    scaled(s, 1000.0)
}

/// The quantity as a whole number, rounded up (memory in bytes): `"1Ki"` → 1024.
pub fn parse_value(s: &str) -> Option<u64> {
    scaled(s, 1.0)
}

fn scaled(s: &str, unit: f64) -> Option<u64> {
    let s = s.trim();
    let split = s
        .find(|c: char| !(c.is_ascii_digit() || c == '.' || c == '+' || c == '-'))
        .unwrap_or(s.len());
    let (number, suffix) = s.split_at(split);
    let number: f64 = number.parse().ok()?;
    let factor = match suffix {
        "" => 1.0,
        "n" => 1e-9,
        "u" => 1e-6,
        "m" => 1e-3,
        "k" => 1e3,
        "M" => 1e6,
        "G" => 1e9,
        "T" => 1e12,
        "P" => 1e15,
        "E" => 1e18,
        "Ki" => 1024.0,
        "Mi" => 1024.0 * 1024.0,
        "Gi" => 1024.0 * 1024.0 * 1024.0,
        "Ti" => 1024f64.powi(4),
        "Pi" => 1024f64.powi(5),
        "Ei" => 1024f64.powi(6),
        exp if exp.starts_with(['e', 'E']) => 10f64.powi(exp[1..].parse::<i32>().ok()?),
        _ => return None,
    };
    let v = number * factor * unit;
    if !v.is_finite() || v < 0.0 {
        return None;
    }
    // Round up, as Kubernetes does when it converts to a coarser unit, but do not
    // let float noise (0.1*3) push an exact value up by one.
    let rounded = v.round();
    Some(if (v - rounded).abs() < 1e-6 {
        rounded as u64
    } else {
        v.ceil() as u64
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantities_convert() {
        assert_eq!(parse_milli("250m"), Some(250));
        assert_eq!(parse_milli("2"), Some(2000));
        assert_eq!(parse_milli("0.5"), Some(500));
        assert_eq!(parse_milli("1.5"), Some(1500));
        assert_eq!(parse_value("128Mi"), Some(128 << 20));
        assert_eq!(parse_value("1G"), Some(1_000_000_000));
        assert_eq!(parse_value("2e3"), Some(2000));
        assert_eq!(parse_value("1.5Gi"), Some(3 << 29));
        assert_eq!(parse_value("100m"), Some(1));
        assert_eq!(parse_value("110"), Some(110));
        assert_eq!(parse_value("lots"), None);
        assert_eq!(parse_value("5Xi"), None);
    }
}
