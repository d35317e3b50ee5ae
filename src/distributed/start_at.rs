//! `--start-at`: the shared t = 0 of a distributed run, RFC 3339 (`2026-12-02T07:00:00Z`,
//! fractions and `+01:00` offsets allowed) or unix seconds (`1796194800`, `1796194800.25`), and
//! the clock a process derives from it: origin, start time, and what it missed when late.

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// Parses RFC 3339 or unix seconds into a wall-clock instant.
pub fn parse(text: &str) -> Result<SystemTime, String> {
    let t = text.trim();
    let expected = "expected RFC 3339 (e.g. 2026-12-02T07:00:00Z) or unix seconds";
    if !t.is_empty() && t.bytes().all(|b| b.is_ascii_digit() || b == b'.') {
        let secs: f64 = t.parse().map_err(|_| format!("{expected}, found {t:?}"))?;
        return Ok(UNIX_EPOCH + Duration::from_secs_f64(secs));
    }
    rfc3339(t).ok_or_else(|| format!("{expected}, found {t:?}"))
}

fn rfc3339(t: &str) -> Option<SystemTime> {
    let b = t.as_bytes();
    let num = |from: usize, len: usize| -> Option<i64> {
        let s = t.get(from..from + len)?;
        s.bytes()
            .all(|c| c.is_ascii_digit())
            .then(|| s.parse().ok())?
    };
    if b.len() < 20 || b[4] != b'-' || b[7] != b'-' || !matches!(b[10], b'T' | b't' | b' ') {
        return None;
    }
    if b[13] != b':' || b[16] != b':' {
        return None;
    }
    let (year, month, day) = (num(0, 4)?, num(5, 2)?, num(8, 2)?);
    let (hour, minute, second) = (num(11, 2)?, num(14, 2)?, num(17, 2)?);
    let days_in = [
        31,
        28 + i64::from(leap(year)),
        31,
        30,
        31,
        30,
        31,
        31,
        30,
        31,
        30,
        31,
    ];
    if !(1..=12).contains(&month) || day < 1 || day > days_in[(month - 1) as usize] {
        return None;
    }
    if hour > 23 || minute > 59 || second > 60 {
        return None;
    }
    let mut rest = &t[19..];
    let mut nanos = 0u64;
    if let Some(frac) = rest.strip_prefix('.') {
        let digits = frac.bytes().take_while(u8::is_ascii_digit).count();
        if digits == 0 {
            return None;
        }
        let kept = &frac[..digits.min(9)];
        nanos = kept.parse::<u64>().ok()? * 10u64.pow(9 - kept.len() as u32);
        rest = &frac[digits..];
    }
    let offset_s = match rest {
        "Z" | "z" => 0,
        _ if rest.len() == 6 && rest.as_bytes()[3] == b':' => {
            let sign = match rest.as_bytes()[0] {
                b'+' => 1,
                b'-' => -1,
                _ => return None,
            };
            let (h, m) = (num_in(rest, 1)?, num_in(rest, 4)?);
            if h > 23 || m > 59 {
                return None;
            }
            sign * (h * 3600 + m * 60)
        }
        _ => return None,
    };
    let unix =
        days_from_civil(year, month, day) * 86_400 + hour * 3600 + minute * 60 + second - offset_s;
    let secs = u64::try_from(unix).ok()?;
    Some(UNIX_EPOCH + Duration::from_secs(secs) + Duration::from_nanos(nanos))
}

fn num_in(s: &str, from: usize) -> Option<i64> {
    let d = s.get(from..from + 2)?;
    d.bytes()
        .all(|c| c.is_ascii_digit())
        .then(|| d.parse().ok())?
}

fn leap(y: i64) -> bool {
    (y % 4 == 0 && y % 100 != 0) || y % 400 == 0
}

/// Days since 1970-01-01 of a proleptic Gregorian date (civil-to-days).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// A run's clock: t = 0 as a monotonic instant and as wall time, and how late this process is.
#[derive(Debug, Clone, Copy)]
pub struct Clock {
    pub origin: Instant,
    pub started_at: SystemTime,
    /// Arrivals due before this offset cannot be sent on time (the process starts later).
    pub late: Duration,
}

/// The clock for a process that can send from `ready` after now: t = 0 at `start_at`, or at
/// `ready` when no start is given. Fails only when `start_at` is further in the past than this
/// machine's monotonic clock reaches.
pub fn clock(start_at: Option<SystemTime>, ready: Duration) -> Result<Clock, String> {
    let (now, wall) = (Instant::now(), SystemTime::now());
    let Some(at) = start_at else {
        return Ok(Clock {
            origin: now + ready,
            started_at: wall + ready,
            late: Duration::ZERO,
        });
    };
    let origin = match at.duration_since(wall) {
        Ok(ahead) => now + ahead,
        Err(e) => now.checked_sub(e.duration()).ok_or_else(|| {
            format!(
                "--start-at is {:.0} s in the past: nothing of the run is left to send",
                e.duration().as_secs_f64()
            )
        })?,
    };
    let late = (now + ready).saturating_duration_since(origin);
    Ok(Clock {
        origin,
        started_at: at,
        late,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn unix(t: &str) -> f64 {
        parse(t)
            .unwrap()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_secs_f64()
    }

    #[test]
    fn reads_rfc3339_and_unix_seconds() {
        assert_eq!(unix("1970-01-01T00:00:00Z"), 0.0);
        assert_eq!(unix("2026-11-21T21:51:55.123Z"), 1_795_297_915.123);
        assert_eq!(unix("2026-11-21T22:51:55.123+01:00"), 1_795_297_915.123);
        assert_eq!(unix("2000-02-29T00:00:00Z"), 951_782_400.0);
        assert_eq!(unix("1795297915"), 1_795_297_915.0);
        assert_eq!(unix("1795297915.5"), 1_795_297_915.5);
        for bad in [
            "",
            "tomorrow",
            "2026-02-30T00:00:00Z",
            "2026-11-21T21:51:55",
            "2026-11-21T25:00:00Z",
            "-5",
        ] {
            let e = parse(bad).unwrap_err();
            assert!(
                e.contains("expected RFC 3339") && e.contains("found"),
                "{e}"
            );
        }
    }

    #[test]
    fn a_start_in_the_past_is_late_by_that_much() {
        let ready = Duration::from_millis(300);
        let ahead = clock(Some(SystemTime::now() + Duration::from_secs(2)), ready).unwrap();
        assert_eq!(ahead.late, Duration::ZERO);
        let behind = clock(Some(SystemTime::now() - Duration::from_secs(1)), ready).unwrap();
        assert!(
            behind.late >= Duration::from_millis(1300) && behind.late < Duration::from_secs(3),
            "{:?}",
            behind.late
        );
        assert_eq!(clock(None, ready).unwrap().late, Duration::ZERO);
    }
}
