//! Times on the server-rendered pages: "3 min ago", and an absolute UTC date in a `<time>` element that
//! assets/pages.js rewrites in the reader's own time zone (the server does not know it).

use time::OffsetDateTime;

/// How long ago, in the coarse words a list of documents or versions needs.
pub fn relative_time(elapsed_ms: i64) -> String {
    let seconds = elapsed_ms.max(0) / 1000;
    match seconds {
        0..60 => "just now".into(),
        60..3600 => format!("{} min ago", seconds / 60),
        3600..86_400 => format!("{} h ago", seconds / 3600),
        _ => format!("{} days ago", seconds / 86_400),
    }
}

/// A moment as `<time datetime>` wants it (RFC 3339, UTC) and as readable text for readers without scripts.
pub struct Moment {
    pub iso: String,
    pub text: String,
}

const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

impl Moment {
    /// `unix_ms` is milliseconds since the epoch, as the store keeps times; out-of-range values become the epoch.
    pub fn from_unix_ms(unix_ms: i64) -> Moment {
        let at = OffsetDateTime::from_unix_timestamp(unix_ms.div_euclid(1000))
            .unwrap_or(OffsetDateTime::UNIX_EPOCH);
        let (year, month, day) = (at.year(), u8::from(at.month()), at.day());
        let (hour, minute, second) = (at.hour(), at.minute(), at.second());
        Moment {
            iso: format!("{year:04}-{month:02}-{day:02}T{hour:02}:{minute:02}:{second:02}Z"),
            text: format!(
                "{day} {} {year}, {hour:02}:{minute:02} UTC",
                MONTHS[usize::from(month) - 1]
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_moment_reads_as_rfc3339_and_as_a_date() {
        // 2026-12-03 16:58:16.500 UTC
        let moment = Moment::from_unix_ms(1_796_317_096_500);
        assert_eq!(moment.iso, "2026-12-03T16:58:16Z");
        assert_eq!(moment.text, "3 Dec 2026, 16:58 UTC");
        assert_eq!(Moment::from_unix_ms(i64::MAX).iso, "1970-01-01T00:00:00Z");
    }

    #[test]
    fn relative_times_coarsen_with_age() {
        assert_eq!(relative_time(-5), "just now");
        assert_eq!(relative_time(59_999), "just now");
        assert_eq!(relative_time(61_000), "1 min ago");
        assert_eq!(relative_time(7_200_000), "2 h ago");
        assert_eq!(relative_time(3 * 86_400_000), "3 days ago");
    }
}
