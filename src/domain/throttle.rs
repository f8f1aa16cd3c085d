//! Password throttling. Sign-in slows down per (account, client): each failure from a client doubles the
//! wait before that client may try that account again (1 s, 2 s, 4 s … up to `LOCKOUT`); other clients are
//! unaffected and a success clears the client's count, so no one can lock an approver out. Step-up keeps
//! the per-session count (`Throttle`): 5 failures within 15 minutes stop that session for `LOCKOUT`.

use super::audit::{Actor, Event, Kind};
use serde_json::json;
use time::format_description::well_known::Rfc3339;
use time::{Duration, OffsetDateTime};
use uuid::Uuid;

pub const MAX_FAILURES: u32 = 5;
pub const WINDOW: Duration = Duration::minutes(15);
/// The longest a refused password makes anyone wait.
pub const LOCKOUT: Duration = Duration::minutes(15);

/// One client's failures on one account, as stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct SlowDown {
    pub failures: u32,
    pub last_failure_at: Option<OffsetDateTime>,
}

impl SlowDown {
    /// The wait after `failures` failures: 1 s, doubling with each, never more than `LOCKOUT`.
    pub fn wait(failures: u32) -> Duration {
        if failures == 0 {
            return Duration::ZERO;
        }
        let doubled = 1i64.checked_shl(failures.saturating_sub(1).min(62)).unwrap_or(i64::MAX);
        Duration::seconds(doubled).min(LOCKOUT)
    }

    /// When this client may try this account again.
    pub fn ready_at(&self) -> Option<OffsetDateTime> {
        self.last_failure_at.map(|at| at + Self::wait(self.failures))
    }

    /// Decides a sign-in attempt from this client and returns the state to store. While the client must
    /// still wait, the password is not considered and the wait does not grow.
    pub fn attempt(self, password_ok: bool, now: OffsetDateTime) -> (SlowDown, Verdict) {
        if let Some(until) = self.ready_at().filter(|t| now < *t) {
            return (self, Verdict::Locked { until });
        }
        if password_ok {
            return (SlowDown::default(), Verdict::Accepted);
        }
        let next = SlowDown { failures: self.failures.saturating_add(1), last_failure_at: Some(now) };
        (next, Verdict::WrongPassword { locked_until: None })
    }
}

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
    /// The audit events that record a sign-in verdict for `user`, who typed `email`, from `client`.
    pub fn sign_in_events(self, user: Uuid, email: &str, client: &str, next: SlowDown) -> Vec<Event> {
        let subject = format!("user:{user}");
        let failed = |reason: &str| {
            let retry_at = next.ready_at().and_then(|t| t.format(&Rfc3339).ok());
            Event::new(Kind::SignInFailed, Actor::Anonymous, subject.clone()).data(json!({
                "email": email, "reason": reason, "client": client, "failures": next.failures, "retry_at": retry_at,
            }))
        };
        match self {
            Verdict::Accepted => {
                vec![Event::new(Kind::SignInSucceeded, Actor::User(user), subject.clone())
                    .data(json!({ "client": client }))]
            }
            Verdict::Locked { .. } => vec![failed("slowed_down")],
            Verdict::WrongPassword { .. } => vec![failed("wrong_password")],
        }
    }

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
    fn each_failure_doubles_the_wait_up_to_the_cap() {
        assert_eq!(SlowDown::wait(0), Duration::ZERO);
        assert_eq!(SlowDown::wait(1), Duration::seconds(1));
        assert_eq!(SlowDown::wait(4), Duration::seconds(8));
        assert_eq!(SlowDown::wait(11), LOCKOUT);
        assert_eq!(SlowDown::wait(u32::MAX), LOCKOUT);
        let (state, v) = SlowDown::default().attempt(false, T0);
        assert_eq!((state.failures, v), (1, Verdict::WrongPassword { locked_until: None }));
        let early = T0 + Duration::milliseconds(500);
        assert_eq!(state.attempt(true, early), (state, Verdict::Locked { until: T0 + Duration::seconds(1) }));
        let (state, _) = state.attempt(false, T0 + Duration::seconds(1));
        assert_eq!(state.ready_at(), Some(T0 + Duration::seconds(3)));
        assert_eq!(state.attempt(true, T0 + Duration::seconds(3)), (SlowDown::default(), Verdict::Accepted));
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
