//! Sign-in throttling: 5 failures on one account within 15 minutes lock it for 15 minutes.

use super::audit::{Actor, Event, Kind};
use serde_json::json;
use time::format_description::well_known::Rfc3339;
use time::{Duration, OffsetDateTime};
use uuid::Uuid;

pub const MAX_FAILURES: u32 = 5;
pub const WINDOW: Duration = Duration::minutes(15);
pub const LOCKOUT: Duration = Duration::minutes(15);

/// An account's throttling state as stored (and a session's, for step-up: see `web::review_console`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
pub struct Throttle {
    pub failures: u32,
    pub window_start: Option<OffsetDateTime>,
    pub locked_until: Option<OffsetDateTime>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    Accepted,
    /// Wrong password; `locked_until` is set when this failure locked the account.
    WrongPassword {
        locked_until: Option<OffsetDateTime>,
    },
    /// The account is locked; the password was not considered.
    Locked {
        until: OffsetDateTime,
    },
}

impl Throttle {
    pub fn is_locked(&self, now: OffsetDateTime) -> bool {
        self.locked_until.is_some_and(|until| now < until)
    }

    /// Decides a sign-in attempt and returns the state to store.
    pub fn attempt(self, password_ok: bool, now: OffsetDateTime) -> (Throttle, Verdict) {
        if let Some(until) = self.locked_until.filter(|_| self.is_locked(now)) {
            return (self, Verdict::Locked { until });
        }
        if password_ok {
            return (Throttle::default(), Verdict::Accepted);
        }
        let in_window = self.window_start.is_some_and(|start| now - start < WINDOW);
        let (failures, window_start) =
            if in_window { (self.failures.saturating_add(1), self.window_start) } else { (1, Some(now)) };
        if failures >= MAX_FAILURES {
            let until = Some(now + LOCKOUT);
            let locked = Throttle { failures: 0, window_start: None, locked_until: until };
            (locked, Verdict::WrongPassword { locked_until: until })
        } else {
            (Throttle { failures, window_start, locked_until: None }, Verdict::WrongPassword { locked_until: None })
        }
    }
}

impl Verdict {
    /// The audit events that record this verdict for `user`, who typed `email`.
    pub fn events(self, user: Uuid, email: &str) -> Vec<Event> {
        let subject = format!("user:{user}");
        let failed = |reason: &str| {
            Event::new(Kind::SignInFailed, Actor::Anonymous, subject.clone())
                .data(json!({ "email": email, "reason": reason }))
        };
        match self {
            Verdict::Accepted => vec![Event::new(Kind::SignInSucceeded, Actor::User(user), subject)],
            Verdict::Locked { .. } => vec![failed("account_locked")],
            Verdict::WrongPassword { locked_until: None } => vec![failed("wrong_password")],
            Verdict::WrongPassword { locked_until: Some(until) } => vec![
                failed("wrong_password"),
                Event::new(Kind::AccountLocked, Actor::System, subject.clone()).data(json!({
                    "until": until.format(&Rfc3339).unwrap_or_default(),
                    "failures": MAX_FAILURES,
                })),
            ],
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    const T0: OffsetDateTime = datetime!(2026-11-23 10:00 UTC);

    fn fail(state: Throttle, at: OffsetDateTime) -> (Throttle, Verdict) {
        state.attempt(false, at)
    }

    #[test]
    fn fifth_failure_within_window_locks_for_fifteen_minutes() {
        let mut state = Throttle::default();
        for i in 0..4 {
            let (next, verdict) = fail(state, T0 + Duration::minutes(i));
            assert_eq!(verdict, Verdict::WrongPassword { locked_until: None });
            state = next;
        }
        let (locked, verdict) = fail(state, T0 + Duration::minutes(14));
        let until = T0 + Duration::minutes(29);
        assert_eq!(verdict, Verdict::WrongPassword { locked_until: Some(until) });
        assert_eq!(locked.attempt(true, until - Duration::seconds(1)).1, Verdict::Locked { until });
        assert_eq!(locked.attempt(true, until).1, Verdict::Accepted);
    }

    #[test]
    fn failures_spread_beyond_the_window_do_not_lock() {
        let mut state = Throttle::default();
        for i in 0..10 {
            let (next, verdict) = fail(state, T0 + Duration::minutes(4 * i));
            assert_eq!(verdict, Verdict::WrongPassword { locked_until: None }, "attempt {i}");
            state = next;
        }
    }

    #[test]
    fn success_clears_failures() {
        let (state, _) = fail(Throttle::default(), T0);
        let (state, verdict) = state.attempt(true, T0);
        assert_eq!((state, verdict), (Throttle::default(), Verdict::Accepted));
    }

    #[test]
    fn a_locking_failure_is_recorded_as_failure_and_lock() {
        let kinds = |v: Verdict| v.events(Uuid::nil(), "a@b.c").iter().map(|e| e.kind).collect::<Vec<_>>();
        assert_eq!(kinds(Verdict::WrongPassword { locked_until: Some(T0) }), [Kind::SignInFailed, Kind::AccountLocked]);
        assert_eq!(kinds(Verdict::Locked { until: T0 }), [Kind::SignInFailed]);
        assert_eq!(kinds(Verdict::Accepted), [Kind::SignInSucceeded]);
    }
}
