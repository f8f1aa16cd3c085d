//! The rules behind the auditors' pictures: how time to decision is bucketed for the rollups, how
//! percentiles are read back from those buckets, and when an approval came faster than the case could be read.

use time::{Duration, OffsetDateTime};

/// Upper bounds (seconds, inclusive) of the time-to-decision buckets; the last bucket is everything longer.
/// Stored as bucket numbers in the rollups and in the migrations' backfill: never reorder, only append.
pub const BUCKET_BOUNDS: [i64; 30] = [
    1, 2, 3, 5, 8, 10, 15, 20, 30, 45, 60, 90, 120, 180, 240, 300, 420, 600, 900, 1200, 1800, 2700, 3600, 5400, 7200,
    10800, 14400, 21600, 43200, 86400,
];

/// The bucket of a time to decision.
pub fn bucket(took: Duration) -> i64 {
    let s = took.whole_seconds().max(0);
    BUCKET_BOUNDS.iter().position(|b| s <= *b).unwrap_or(BUCKET_BOUNDS.len()) as i64
}

/// The seconds a bucket stands for when a percentile lands in it: its upper bound (conservative).
pub fn bucket_seconds(bucket: i64) -> i64 {
    let i = bucket.clamp(0, BUCKET_BOUNDS.len() as i64) as usize;
    BUCKET_BOUNDS.get(i).copied().unwrap_or(2 * 86_400)
}

/// The `q` quantile (0..1) of a histogram given as (bucket, count) pairs, in seconds; `None` when empty.
pub fn quantile(histogram: &[(i64, i64)], q: f64) -> Option<i64> {
    let mut sorted: Vec<(i64, i64)> = histogram.iter().copied().filter(|(_, n)| *n > 0).collect();
    sorted.sort();
    let total: i64 = sorted.iter().map(|(_, n)| n).sum();
    if total == 0 {
        return None;
    }
    let rank = ((q * total as f64).ceil() as i64).max(1);
    let mut seen = 0;
    sorted
        .into_iter()
        .find(|(_, n)| {
            seen += n;
            seen >= rank
        })
        .map(|(b, _)| bucket_seconds(b))
}

/// The reading rate the rubber-stamp signal assumes, and the least time any case takes.
pub const WORDS_PER_MINUTE: i64 = 250;
pub const READING_FLOOR: Duration = Duration::seconds(5);

/// Time needed to read what the case view shows: its words at [`WORDS_PER_MINUTE`], never under the floor.
pub fn reading_time(words: usize) -> Duration {
    Duration::milliseconds(words as i64 * 60_000 / WORDS_PER_MINUTE).max(READING_FLOOR)
}

/// The words a reviewer reads in a submission: the intent, the case summary and every transcript turn.
pub fn words_to_read(body: &serde_json::Value) -> usize {
    let count = |v: &serde_json::Value| v.as_str().map_or(0, |s| s.split_whitespace().count());
    let turns = body["transcript"].as_array().map_or(0, |t| t.iter().map(|turn| count(&turn["text"])).sum());
    count(&body["intent"]) + count(&body["case"]["summary"]) + turns
}

/// An approval is fast when it came sooner after the reviewer opened the case than reading it takes.
pub fn fast_approval(approve: bool, opened_at: OffsetDateTime, voted_at: OffsetDateTime, words: usize) -> bool {
    approve && voted_at - opened_at < reading_time(words)
}

/// The day (UTC) a rollup row counts toward, as stored: `2026-11-23`.
pub fn day(t: OffsetDateTime) -> String {
    let t = t.to_offset(time::UtcOffset::UTC);
    format!("{:04}-{:02}-{:02}", t.year(), u8::from(t.month()), t.day())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_are_monotonic_and_cover_everything() {
        assert!(BUCKET_BOUNDS.windows(2).all(|w| w[0] < w[1]));
        assert_eq!(bucket(Duration::ZERO), 0);
        assert_eq!(bucket(Duration::seconds(1)), 0);
        assert_eq!(bucket(Duration::seconds(4)), 3);
        assert_eq!(bucket(Duration::days(3)), BUCKET_BOUNDS.len() as i64);
        assert_eq!(bucket(Duration::seconds(-5)), 0, "clock skew counts as instant");
    }

    #[test]
    fn quantiles_read_back_upper_bounds() {
        let h = [
            (bucket(Duration::seconds(50)), 50),
            (bucket(Duration::seconds(250)), 40),
            (bucket(Duration::hours(2)), 10),
        ];
        assert_eq!(quantile(&h, 0.5), Some(60));
        assert_eq!(quantile(&h, 0.9), Some(300));
        assert_eq!(quantile(&h, 0.99), Some(7200));
        assert_eq!(quantile(&[], 0.5), None);
    }

    #[test]
    fn reading_time_has_a_floor_and_a_rate() {
        assert_eq!(reading_time(0), READING_FLOOR);
        assert_eq!(reading_time(500), Duration::minutes(2));
        let body = serde_json::json!({ "intent": "one two three", "case": { "summary": "four five" },
                                       "transcript": [{ "text": "six" }, { "text": "seven eight" }] });
        assert_eq!(words_to_read(&body), 8);
        let t = OffsetDateTime::UNIX_EPOCH;
        assert!(fast_approval(true, t, t + Duration::seconds(3), 8));
        assert!(!fast_approval(true, t, t + Duration::seconds(6), 8));
        assert!(!fast_approval(false, t, t + Duration::seconds(1), 8), "denials are never rubber stamps");
    }
}
