//! The webhook outbox's sender. Outcomes are written to `webhook_deliveries` in the transaction that
//! decides them; this worker sends what is due, signed per Standard Webhooks, and retries failures on the
//! specification's suggested schedule (about 27 hours in all) before giving up. A receiver that is down
//! loses nothing: the message waits in the outbox, and the agent page can send it again.

use super::breaker::{Admit, Receivers, PER_RECEIVER};
use super::{client, signature};
use crate::domain::audit::{Actor, Event, Kind};
use crate::domain::clock::Clock;
use crate::domain::egress::{Egress, Refused};
use crate::domain::sealing::{Keyring, Purpose};
use crate::service::tasks::{Skipped, Tasks};
use crate::store::{Attempt, Channel, Delivery, DeliveryState, Store, StoreError};
use serde_json::json;
use std::sync::Arc;
use std::time::Duration as StdDuration;
use time::{Duration, OffsetDateTime};
use tokio::sync::Notify;
use tokio::task::JoinSet;

/// Waits before each retry; the first attempt is immediate. Sums to 27.6 hours.
pub const RETRY_SCHEDULE: [Duration; 7] = [
    Duration::seconds(5),
    Duration::minutes(5),
    Duration::minutes(30),
    Duration::hours(2),
    Duration::hours(5),
    Duration::hours(10),
    Duration::hours(10),
];
/// A message is sent again on request at most once in this long.
pub const REDELIVER_PAUSE: Duration = Duration::minutes(1);
/// Deliveries taken per pass (at most `PER_RECEIVER` of one agent); each is sent on its own task.
const BATCH: i64 = 32;
/// Sends in flight at once from this server, across receivers.
const IN_FLIGHT: usize = 64;
/// A taken delivery is not taken again (by this or another app server) for this long: it outlasts a send.
const LEASE: Duration = Duration::minutes(2);
/// A message whose receiver already has its sends in flight waits this long.
const BUSY_RETRY: Duration = Duration::seconds(1);

/// When to try again after `attempts` failed attempts; `None` once the schedule is spent.
pub fn retry_at(attempts: i64, now: OffsetDateTime) -> Option<OffsetDateTime> {
    usize::try_from(attempts - 1).ok().and_then(|i| RETRY_SCHEDULE.get(i)).map(|wait| now + *wait)
}

/// The `webhook-id` of a delivery: stable across retries, so receivers can drop duplicates.
pub fn message_id(delivery: &Delivery) -> String {
    format!("msg_{}", delivery.id.simple())
}

#[derive(Clone)]
pub struct Outbox {
    store: Arc<dyn Store>,
    clock: Arc<dyn Clock>,
    client: reqwest::Client,
    egress: Egress,
    receivers: Receivers,
    wake: Arc<Notify>,
    /// Opens the agents' signing secrets, stored sealed.
    secrets: Keyring,
}

/// What one pass of the outbox did.
struct Pass {
    taken: usize,
    started: usize,
    skipped: Skipped,
}

impl Outbox {
    /// The outbox with the strict egress setting; fails only if the guarded client cannot be built.
    pub fn new(store: Arc<dyn Store>, clock: Arc<dyn Clock>, secrets: Keyring) -> Result<Outbox, reqwest::Error> {
        let egress = Egress::default();
        Ok(Outbox {
            store,
            clock,
            secrets,
            client: client::guarded(egress)?,
            egress,
            receivers: Receivers::default(),
            wake: Arc::new(Notify::new()),
        })
    }

    /// Where webhooks may go: `webhook_allow_private` lets them reach inside (the demo and tests). The
    /// guarded client is rebuilt for it; if it cannot be, nothing changes and the caller stops.
    pub fn set_egress(&mut self, egress: Egress) -> Result<(), reqwest::Error> {
        self.client = client::guarded(egress)?;
        self.egress = egress;
        Ok(())
    }

    pub fn set_secrets(&mut self, secrets: Keyring) {
        self.secrets = secrets;
    }

    pub fn egress(&self) -> Egress {
        self.egress
    }

    /// The client that only reaches addresses the egress setting allows, without following redirects:
    /// for every URL someone else aimed (webhooks, issuers' JWKS).
    pub fn client(&self) -> reqwest::Client {
        self.client.clone()
    }

    /// Something was just written to the outbox: send it now rather than at the next tick.
    pub fn wake(&self) {
        self.wake.notify_one();
    }

    /// Sends every delivery due now, once, and waits for the sends; returns how many were attempted.
    pub async fn deliver_due(&self) -> Result<usize, StoreError> {
        let mut sent = 0;
        loop {
            let mut sends = JoinSet::new();
            let pass = self.pass(&mut sends).await?;
            while sends.join_next().await.is_some() {}
            sent += pass.started;
            if pass.taken == 0 {
                return Ok(sent);
            }
        }
    }

    /// Runs until the process ends. Sends run side by side, each on its own task, so a slow receiver
    /// holds up only its own messages; the next pass starts when a send finishes, on a wake-up, or
    /// after a second (longer while passes keep failing).
    pub fn spawn(self, tasks: &Tasks) {
        let task = tasks.register("webhooks", Some(StdDuration::from_secs(300)));
        tokio::spawn(async move {
            let mut sends = JoinSet::new();
            let mut wait = StdDuration::from_secs(1);
            loop {
                if sends.len() < IN_FLIGHT {
                    let outcome = self.pass(&mut sends).await.map(|pass| pass.skipped).map_err(|e| e.to_string());
                    wait = task.settle(StdDuration::from_secs(1), outcome);
                } else {
                    task.beat();
                }
                tokio::select! {
                    _ = sends.join_next(), if !sends.is_empty() => {}
                    _ = self.wake.notified() => {}
                    _ = tokio::time::sleep(wait) => {}
                }
            }
        });
    }

    /// Takes what is due and starts each send its receiver admits; gives the others back for later.
    async fn pass(&self, sends: &mut JoinSet<()>) -> Result<Pass, StoreError> {
        let now = self.clock.now();
        let due =
            self.store.take_due_deliveries(Channel::Webhook, now, now + LEASE, PER_RECEIVER as i64, BATCH).await?;
        let mut pass = Pass { taken: due.rows.len(), started: 0, skipped: due.unreadable };
        for delivery in due.rows {
            match self.receivers.admit(delivery.agent_id, now) {
                Admit::Send => {
                    pass.started += 1;
                    let outbox = self.clone();
                    sends.spawn(async move { outbox.send_one(delivery).await });
                }
                Admit::Busy => self.store.postpone_delivery(delivery.id, now + BUSY_RETRY).await?,
                Admit::OpenUntil(until) => self.store.postpone_delivery(delivery.id, until).await?,
            }
        }
        Ok(pass)
    }

    async fn send_one(&self, delivery: Delivery) {
        let outcome = async {
            let attempt = self.attempt(&delivery).await?;
            let delivered = attempt.state == DeliveryState::Delivered;
            self.store.record_attempt(delivery.id, &attempt).await?;
            Ok::<bool, StoreError>(delivered)
        };
        let delivered = outcome.await.unwrap_or_else(|e| {
            tracing::error!(error = %e, delivery = %delivery.id, "a webhook send could not be recorded");
            false
        });
        self.receivers.finish(delivery.agent_id, delivered, self.clock.now());
    }

    async fn attempt(&self, delivery: &Delivery) -> Result<Attempt, StoreError> {
        let agent = self.store.agent(delivery.agent_id).await?;
        let target = agent.as_ref().and_then(|a| a.webhook_url.clone().zip(a.webhook_secret.clone()));
        let result = match &target {
            None => Err("the agent no longer has a webhook".to_string()),
            Some((url, sealed)) => match self.secrets.open(sealed, Purpose::WebhookSecret(&delivery.agent_id)) {
                Ok(secret) => self.send(delivery, url, &secret).await,
                Err(e) => {
                    tracing::error!(agent = %delivery.agent_id, error = %e, "cannot open a webhook signing secret");
                    Err("the signing secret cannot be opened with the configured secret_key".to_string())
                }
            },
        };
        let at = self.clock.now();
        let attempts = delivery.attempts + 1;
        let event = |kind: Kind, data| {
            let mut e = Event::new(kind, Actor::System, format!("held_action:{}", delivery.held_action_id)).data(data);
            if let Some(agent) = &agent {
                e = e.tenant(agent.tenant_id);
            }
            e
        };
        Ok(match result {
            Ok(status) => Attempt {
                at,
                status: Some(status),
                error: None,
                state: DeliveryState::Delivered,
                next_attempt_at: None,
                event: Some(event(
                    Kind::WebhookDelivered,
                    json!({ "message": message_id(delivery), "attempts": attempts, "status": status }),
                )),
            },
            Err(error) => {
                let status = error.strip_prefix("HTTP ").and_then(|s| s.get(..3)).and_then(|s| s.parse().ok());
                let retry = if target.is_some() { retry_at(attempts, at) } else { None };
                let give_up = retry.is_none().then(|| {
                    event(
                        Kind::WebhookAbandoned,
                        json!({ "message": message_id(delivery), "attempts": attempts, "error": error }),
                    )
                });
                Attempt {
                    at,
                    status,
                    state: if retry.is_some() { DeliveryState::Pending } else { DeliveryState::Failed },
                    next_attempt_at: retry,
                    error: Some(error),
                    event: give_up,
                }
            }
        })
    }

    /// One POST; the receiver's status when it is a 2xx, else why not.
    async fn send(&self, delivery: &Delivery, url: &str, secret: &str) -> Result<u16, String> {
        let id = message_id(delivery);
        let timestamp = self.clock.now().unix_timestamp();
        let signature = signature::sign(secret, &id, timestamp, &delivery.payload)
            .ok_or_else(|| "the agent's signing secret is not a whsec_ secret".to_string())?;
        let url = self.egress.url(url).map_err(|r| r.to_string())?;
        let response = self
            .client
            .post(url)
            .header("content-type", "application/json")
            .header("webhook-id", &id)
            .header("webhook-timestamp", timestamp.to_string())
            .header("webhook-signature", signature)
            .body(delivery.payload.clone())
            .send()
            .await
            .map_err(|e| {
                if client::refused(&e) {
                    Refused::PrivateAddress.to_string()
                } else if e.is_timeout() {
                    "timed out".to_string()
                } else {
                    "could not connect".to_string()
                }
            })?;
        let status = response.status();
        if status.is_success() {
            Ok(status.as_u16())
        } else {
            Err(format!("HTTP {}", status.as_u16()))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn retries_span_more_than_a_day_then_stop() {
        let now = datetime!(2026-11-23 10:00 UTC);
        assert_eq!(retry_at(1, now), Some(now + Duration::seconds(5)));
        let total: Duration = RETRY_SCHEDULE.iter().copied().sum();
        assert!(total >= Duration::hours(24), "{total}");
        assert_eq!(retry_at(RETRY_SCHEDULE.len() as i64, now), Some(now + Duration::hours(10)));
        assert_eq!(retry_at(RETRY_SCHEDULE.len() as i64 + 1, now), None);
    }
}
