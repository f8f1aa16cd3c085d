//! Outcomes to JetStream. A decision writes its message to the outbox in the transaction that decides it
//! (channel `nats`, beside the webhook's); this worker publishes what is due on
//! `countersign.outcome.<tenant slug>.<agent id>` with the webhook's body, and retries until JetStream
//! acknowledges. The `Nats-Msg-Id` is the outbox row's, so a retry after a lost acknowledgement, or a
//! message two servers both took after a lease ran out, is stored by JetStream once.

use super::Broker;
use crate::domain::clock::Clock;
use crate::service::tasks::Skipped;
use crate::store::{Attempt, Channel, Delivery, DeliveryState, Store, StoreError};
use std::sync::Arc;
use time::Duration;

/// Taken rows are not taken again (by this or another server) for this long: it outlasts a publish.
const LEASE: Duration = Duration::seconds(60);
const BATCH: i64 = 256;
/// The longest wait between attempts; there is no last attempt.
const MAX_RETRY: Duration = Duration::seconds(60);

#[derive(Clone)]
pub struct OutcomePublisher {
    pub store: Arc<dyn Store>,
    pub clock: Arc<dyn Clock>,
    pub broker: Broker,
}

/// The `Nats-Msg-Id` of an outbox row: stable across retries.
pub fn message_id(delivery: &Delivery) -> String {
    format!("outcome.{}", delivery.id.simple())
}

impl OutcomePublisher {
    /// Publishes everything due now; returns how many were published and the rows it could not read.
    pub async fn publish_due(&self) -> Result<(usize, Skipped), StoreError> {
        let (mut published, mut skipped) = (0, Vec::new());
        loop {
            let now = self.clock.now();
            let due = self.store.take_due_deliveries(Channel::Nats, now, now + LEASE, BATCH, BATCH).await?;
            skipped.extend(due.unreadable);
            if due.rows.is_empty() {
                return Ok((published, skipped));
            }
            let tenants = self.store.tenants().await?;
            // Every message is sent before the first acknowledgement is awaited.
            let mut pending = Vec::with_capacity(due.rows.len());
            for d in &due.rows {
                let agent = self.store.agent(d.agent_id).await?;
                let tenant = agent.and_then(|a| tenants.iter().find(|t| t.id == a.tenant_id).map(|t| t.slug.clone()));
                let sent = match tenant {
                    None => Err(anyhow::anyhow!("the agent or its tenant is gone")),
                    Some(tenant) => {
                        let subject = self.broker.subject(&format!("outcome.{tenant}.{}", d.agent_id));
                        self.broker
                            .send(
                                subject,
                                super::headers(&message_id(d), "application/json"),
                                d.payload.clone().into_bytes(),
                            )
                            .await
                    }
                };
                pending.push((d, sent));
            }
            for (delivery, sent) in pending {
                let acknowledged = match sent {
                    Ok(ack) => ack.await.map(|_| ()).map_err(|e| format!("JetStream did not acknowledge: {e}")),
                    Err(e) => Err(format!("{e:#}")),
                };
                published += usize::from(acknowledged.is_ok());
                self.store.record_attempt(delivery.id, &self.attempt(delivery, acknowledged)).await?;
            }
        }
    }

    fn attempt(&self, delivery: &Delivery, sent: Result<(), String>) -> Attempt {
        let at = self.clock.now();
        match sent {
            Ok(()) => Attempt {
                at,
                status: None,
                error: None,
                state: DeliveryState::Delivered,
                next_attempt_at: None,
                event: None,
            },
            Err(error) => {
                tracing::warn!(delivery = %delivery.id, %error, "an outcome could not be published; retrying");
                let wait = Duration::seconds(1 << delivery.attempts.clamp(0, 6)).min(MAX_RETRY);
                Attempt {
                    at,
                    status: None,
                    error: Some(error),
                    state: DeliveryState::Pending,
                    next_attempt_at: Some(at + wait),
                    event: None,
                }
            }
        }
    }
}
