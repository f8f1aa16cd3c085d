//! Per-agent limits on the intake API: a steady rate with a burst, and how many requests one agent may
//! have in flight (long-polls included). One runaway or compromised agent then cannot fill the queue or
//! hold every connection; others are untouched. Limits are per app server, in memory (`governor`).

use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota};
use std::collections::HashMap;
use std::num::NonZeroU32;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;
use uuid::Uuid;

/// Configured limits; 0 turns one off.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    pub per_second: u32,
    pub burst: u32,
    pub in_flight: u32,
}

impl Limits {
    pub const OFF: Limits = Limits { per_second: 0, burst: 0, in_flight: 0 };
}

/// Why a request was turned away, and when to try again.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limited {
    pub reason: String,
    pub retry_after: Duration,
}

#[derive(Clone)]
pub struct IntakeLimits {
    limits: Limits,
    rate: Option<Arc<DefaultKeyedRateLimiter<Uuid>>>,
    in_flight: Arc<Mutex<HashMap<Uuid, u32>>>,
}

impl Default for IntakeLimits {
    fn default() -> Self {
        IntakeLimits::new(Limits::OFF)
    }
}

impl IntakeLimits {
    pub fn new(limits: Limits) -> IntakeLimits {
        let rate = NonZeroU32::new(limits.per_second).map(|per_second| {
            let burst = NonZeroU32::new(limits.burst).unwrap_or(per_second).max(per_second);
            Arc::new(DefaultKeyedRateLimiter::keyed(Quota::per_second(per_second).allow_burst(burst)))
        });
        IntakeLimits { limits, rate, in_flight: Default::default() }
    }

    fn lock(&self) -> MutexGuard<'_, HashMap<Uuid, u32>> {
        self.in_flight.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Admits one request of `agent` that is in flight until the returned guard drops.
    pub fn enter(&self, agent: Uuid) -> Result<InFlight, Limited> {
        if self.limits.in_flight > 0 {
            let mut in_flight = self.lock();
            let n = in_flight.entry(agent).or_default();
            if *n >= self.limits.in_flight {
                let reason = format!("more than {} requests of this agent at once", self.limits.in_flight);
                return Err(Limited { reason, retry_after: Duration::from_secs(1) });
            }
            *n += 1;
        }
        Ok(InFlight { limits: self.clone(), agent })
    }

    /// Takes one submission from `agent`'s allowance; a refusal gives back its place in flight.
    pub fn submit(&self, agent: Uuid) -> Result<InFlight, Limited> {
        let entered = self.enter(agent)?;
        if let Some(rate) = &self.rate {
            if let Err(not_until) = rate.check_key(&agent) {
                let wait = not_until.wait_time_from(DefaultClock::default().now());
                let reason = format!("more than {} submissions a second from this agent", self.limits.per_second);
                return Err(Limited { reason, retry_after: wait.max(Duration::from_secs(1)) });
            }
        }
        Ok(entered)
    }

    /// Forgets agents that have been quiet long enough to have their whole burst back.
    pub fn forget_quiet(&self) {
        if let Some(rate) = &self.rate {
            rate.retain_recent();
            rate.shrink_to_fit();
        }
    }
}

/// One admitted request; dropping it frees its place.
pub struct InFlight {
    limits: IntakeLimits,
    agent: Uuid,
}

impl Drop for InFlight {
    fn drop(&mut self) {
        if self.limits.limits.in_flight == 0 {
            return;
        }
        let mut in_flight = self.limits.lock();
        if let Some(n) = in_flight.get_mut(&self.agent) {
            *n = n.saturating_sub(1);
            if *n == 0 {
                in_flight.remove(&self.agent);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_agent_over_its_rate_waits_and_others_do_not() {
        let limits = IntakeLimits::new(Limits { per_second: 2, burst: 3, in_flight: 0 });
        let (busy, quiet) = (Uuid::now_v7(), Uuid::now_v7());
        for _ in 0..3 {
            assert!(limits.submit(busy).is_ok());
        }
        let refused = limits.submit(busy).err().expect("over the burst");
        assert!(refused.retry_after >= Duration::from_secs(1), "{refused:?}");
        assert!(refused.reason.contains("2 submissions a second"), "{}", refused.reason);
        assert!(limits.submit(quiet).is_ok());
    }

    #[test]
    fn places_in_flight_come_back_when_requests_end() {
        let limits = IntakeLimits::new(Limits { per_second: 0, burst: 0, in_flight: 2 });
        let agent = Uuid::now_v7();
        let (first, _second) = (limits.enter(agent), limits.enter(agent));
        assert!(first.is_ok());
        assert!(limits.submit(agent).is_err(), "a third at once");
        drop(first);
        assert!(limits.submit(agent).is_ok());
    }

    #[test]
    fn off_admits_everything() {
        let limits = IntakeLimits::default();
        let agent = Uuid::now_v7();
        let held: Vec<_> = (0..1000).map(|_| limits.submit(agent)).collect();
        assert!(held.iter().all(Result::is_ok));
    }
}
