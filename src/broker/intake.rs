//! Held actions from JetStream. A message is the body of `POST /api/v1/held-actions` with the agent's
//! credential in an `Authorization: Bearer …` header, and takes the HTTP path: the same authentication,
//! parser, scope check, idempotency rule and group commit. It is acknowledged only after the commit; one that
//! can never succeed is terminated and its problem published; anything else is retried, and the
//! idempotency key makes a redelivery harmless.
//!
//! The stream holds each message, credential included, until it is acknowledged, and a mirror or backup holds
//! it longer: so only short-lived credentials are taken (workload tokens, case credentials), unless the
//! operator allows long-lived ones. A message on `<prefix>.held.<tenant>.<agent id>` must authenticate as that
//! agent, so the account's subject permissions decide which agent a gateway may speak for.

use super::Broker;
use crate::api::{ApiError, HeldActionStatus, Problem};
use crate::service::{AuthenticatedAgent, IntakeOutcome, Service};
use crate::store::HeldAction;
use async_nats::jetstream::{AckKind, Message};
use futures_util::stream::FuturesUnordered;
use futures_util::FutureExt;
use std::panic::AssertUnwindSafe;
use std::time::Duration;
use tokio_stream::StreamExt;
use uuid::Uuid;

/// Messages handled at once by one server: enough to fill the group commit's batches.
const IN_FLIGHT: usize = 256;
/// Longest wait before a message that failed for a passing reason is delivered again.
const MAX_RETRY: Duration = Duration::from_secs(30);

/// What became of one message.
#[derive(Debug, PartialEq, Eq)]
pub enum Handled {
    /// Stored now, or stored before under the same key: acknowledged.
    Accepted(Uuid),
    /// Can never succeed: terminated, its problem published.
    Rejected(u16),
    /// Failed for now (database unreachable, over the agent's limit): delivered again later.
    Retried,
}

/// Consumes until the process ends; a lost connection or consumer is retried with backoff.
pub fn spawn(service: Service, broker: Broker, body_limit: usize) {
    let task = service.tasks.register("nats intake", None);
    tokio::spawn(async move {
        loop {
            let stopped = consume(&service, &broker, body_limit).await.map(|()| vec![]).map_err(|e| format!("{e:#}"));
            let wait = task.settle(Duration::from_secs(1), stopped);
            tokio::time::sleep(wait).await;
        }
    });
}

async fn consume(service: &Service, broker: &Broker, body_limit: usize) -> anyhow::Result<()> {
    let mut messages = broker.consumer().await?.messages().await?;
    // Handled on this task rather than one spawned each: a message starts its way to the group commit as soon
    // as it arrives, instead of queueing once more for a worker thread behind every other task.
    let mut handling = FuturesUnordered::new();
    let stopped: anyhow::Error = loop {
        tokio::select! {
            message = messages.next(), if handling.len() < IN_FLIGHT => {
                let message = match message {
                    Some(Ok(message)) => message,
                    Some(Err(e)) => break e.into(),
                    None => break anyhow::anyhow!("the consumer's message stream ended"),
                };
                let (service, broker) = (service.clone(), broker.clone());
                handling.push(async move {
                    let handled = AssertUnwindSafe(handle(&service, &broker, &message, body_limit)).catch_unwind();
                    // Neither is acknowledged: JetStream delivers the message again after the ack wait.
                    match handled.await {
                        Ok(Ok(_)) => {}
                        Ok(Err(e)) => tracing::warn!(error = %e, "a held-action message could not be settled"),
                        Err(_) => {
                            let sequence = message.info().map(|i| i.stream_sequence).ok();
                            tracing::error!(?sequence, "handling a held-action message panicked");
                        }
                    }
                });
            }
            Some(()) = handling.next(), if !handling.is_empty() => {}
        }
    };
    // Pull no more, then let the messages taken finish (their commits may be under way) before the consumer is
    // made again.
    drop(messages);
    while handling.next().await.is_some() {}
    Err(stopped)
}

/// Takes one message through intake, publishes the result, then acknowledges, terminates or delays it.
pub async fn handle(
    service: &Service,
    broker: &Broker,
    message: &Message,
    body_limit: usize,
) -> anyhow::Result<Handled> {
    match submit(service, broker, message, body_limit).await {
        Ok(action) => {
            let subject = broker.subject(&format!("intake.accepted.{}", action.agent_id));
            let body = serde_json::to_vec(&HeldActionStatus::from(&action))?;
            // The publisher knows its key, not yet our id: the header lets it match the answer to its request.
            let mut headers = super::headers(&format!("accepted.{}", action.id), "application/json");
            if let Some(key) = header_safe(&action.idempotency_key) {
                headers.insert("Idempotency-Key", key);
            }
            broker.publish(subject, headers, body).await?;
            // A plain ack, not a confirmed one: were it lost, the redelivery would find the key stored and
            // republish the same result under the same `Nats-Msg-Id`, so confirming would buy nothing.
            message.ack().await.map_err(|e| anyhow::anyhow!("ack: {e}"))?;
            Ok(Handled::Accepted(action.id))
        }
        Err((agent, problem)) if problem.is_final() => {
            let id = message.info().map(|i| format!("rejected.{}", i.stream_sequence)).unwrap_or_default();
            let body = serde_json::to_vec(&problem.body)?;
            let mut headers = super::headers(&id, "application/problem+json");
            let subject = match agent {
                // Only that agent's gateway may read its rejections, so its key (and its limits, in a 403) may go there.
                Some(agent) => {
                    if let Some(key) = idempotency_key(&message.payload).as_deref().and_then(header_safe) {
                        headers.insert("Idempotency-Key", key);
                    }
                    broker.subject(&format!("intake.rejected.{agent}"))
                }
                // No agent authenticated: nothing from the message is repeated, only that one was refused.
                None => broker.subject("intake.rejected.unknown"),
            };
            broker.publish(subject, headers, body).await?;
            message.ack_with(AckKind::Term).await.map_err(|e| anyhow::anyhow!("term: {e}"))?;
            Ok(Handled::Rejected(problem.status.as_u16()))
        }
        Err((_, problem)) => {
            let delivered = message.info().map_or(1, |i| i.delivered.max(1));
            let backoff = Duration::from_millis(250).saturating_mul(1 << delivered.min(8) as u32).min(MAX_RETRY);
            let wait = problem.retry_after.map_or(backoff, Duration::from_secs);
            message.ack_with(AckKind::Nak(Some(wait))).await.map_err(|e| anyhow::anyhow!("nak: {e}"))?;
            Ok(Handled::Retried)
        }
    }
}

type Refused = (Option<Uuid>, Problem);

/// The key of a body that may be refused for anything else, when it can be read at all.
fn idempotency_key(payload: &[u8]) -> Option<String> {
    #[derive(serde::Deserialize)]
    struct Keyed {
        idempotency_key: Option<String>,
    }
    serde_json::from_slice::<Keyed>(payload).ok()?.idempotency_key
}

/// A key a header can carry: a line break would end the header, so such a key is left out.
fn header_safe(key: &str) -> Option<&str> {
    (key.len() <= 200 && !key.chars().any(char::is_control)).then_some(key)
}

/// The agent a subject `<prefix>.held.<tenant>.<agent id>` speaks for; `None` for any other subject under
/// `held.`, which only an account without per-agent permissions lets a publisher use.
pub fn subject_agent(subject: &str, prefix: &str) -> Option<Uuid> {
    let rest = subject.strip_prefix(prefix)?.strip_prefix(".held.")?;
    match rest.split('.').collect::<Vec<_>>()[..] {
        [_tenant, agent] => Uuid::parse_str(agent).ok(),
        _ => None,
    }
}

/// Why a credential that authenticated may not come through the stream, if it may not.
pub fn refused_in_stream(who: &AuthenticatedAgent, allow_long_lived: bool) -> Option<String> {
    let long_lived = who.credential.is_some() && who.case.is_none();
    (long_lived && !allow_long_lived).then(|| {
        "long-lived agent credentials are not accepted over NATS, where the stream keeps each message: \
         publish with a workload-identity token or a case credential (POST /api/v1/credentials)"
            .to_string()
    })
}

async fn submit(
    service: &Service,
    broker: &Broker,
    message: &Message,
    body_limit: usize,
) -> Result<HeldAction, Refused> {
    let refuse = |agent: Option<Uuid>, e: ApiError| (agent, e.problem());
    let token = (message.headers.as_ref())
        .and_then(|h| h.get("Authorization"))
        .and_then(|v| v.as_str().strip_prefix("Bearer ").map(str::trim))
        .ok_or_else(|| refuse(None, ApiError::Unauthorized))?;
    let who = service.authenticate_agent(token).await.map_err(|e| refuse(None, e.into()))?;
    let agent = who.agent.id;
    if subject_agent(message.subject.as_str(), &broker.prefix).is_some_and(|named| named != agent) {
        let why = "the subject names another agent than the credential's".to_string();
        return Err(refuse(Some(agent), ApiError::Forbidden(why)));
    }
    if let Some(why) = refused_in_stream(&who, broker.allow_long_lived_credentials) {
        return Err(refuse(Some(agent), ApiError::Forbidden(why)));
    }
    if message.payload.len() > body_limit {
        return Err(refuse(Some(agent), ApiError::TooLarge(body_limit)));
    }
    let body = std::str::from_utf8(&message.payload).map_err(|_| {
        let field =
            crate::domain::submission::FieldError { field: "(body)".into(), message: "must be UTF-8 JSON".into() };
        refuse(Some(agent), ApiError::Invalid(vec![field]))
    })?;
    match service.submit_held_action(&who, body).await.map_err(|e| refuse(Some(agent), e.into()))? {
        IntakeOutcome::Created(a) | IntakeOutcome::Replayed(a) => Ok(a),
    }
}

#[cfg(test)]
mod tests {
    use super::subject_agent;
    use uuid::Uuid;

    #[test]
    fn a_per_agent_subject_names_its_agent() {
        let id = Uuid::from_u128(7);
        assert_eq!(subject_agent(&format!("countersign.held.acme.{id}"), "countersign"), Some(id));
        assert_eq!(subject_agent("countersign.held.simulate", "countersign"), None);
        assert_eq!(subject_agent("countersign.held.acme.not-an-id", "countersign"), None);
        assert_eq!(subject_agent(&format!("other.held.acme.{id}"), "countersign"), None);
        assert_eq!(subject_agent(&format!("countersign.held.a.b.{id}"), "countersign"), None);
    }
}
