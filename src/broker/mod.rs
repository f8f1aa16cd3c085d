//! NATS JetStream, for policy gateways that publish rather than call: held actions are consumed from a
//! stream by one durable consumer that every app server shares, and intake results and outcomes are
//! published back. Off unless `nats_url` is set, so `make run` needs no broker.

pub mod intake;
pub mod outcomes;

use anyhow::Context;
use async_nats::jetstream::{self, consumer, stream};
use async_nats::HeaderMap;
use std::time::Duration;

/// The durable pull consumer every app server reads from: each message goes to one of them.
pub const CONSUMER: &str = "countersign-intake";
/// How long a delivered message may go unacknowledged before JetStream gives it to another server: longer
/// than an intake commit ever takes, short enough that a killed server's messages move on quickly.
const ACK_WAIT: Duration = Duration::from_secs(30);
/// Retries within this window carry the same `Nats-Msg-Id` and are dropped by JetStream as duplicates.
const DUPLICATE_WINDOW: Duration = Duration::from_secs(24 * 3600);
/// How long an intake result stays in its stream: enough for a publisher to match it to its request (a
/// held action's state stays readable over HTTP for good).
const RESULTS_KEPT: Duration = DUPLICATE_WINDOW;

/// A connection with the streams in place.
#[derive(Clone)]
pub struct Broker {
    pub jetstream: jetstream::Context,
    held_stream: String,
    /// `countersign`: held actions on `countersign.held.>`, results on `countersign.intake.>` (stream
    /// `COUNTERSIGN_INTAKE`), outcomes on `countersign.outcome.>` (stream `COUNTERSIGN_OUTCOMES`).
    prefix: String,
    /// Whether held-action messages may carry owner-minted long-lived credentials
    /// (`nats_allow_long_lived_credentials`); off, only workload tokens and case credentials are taken.
    pub allow_long_lived_credentials: bool,
}

impl Broker {
    /// Connects (with a `.creds` file when given) and makes sure the streams exist.
    pub async fn connect(
        url: &str,
        credentials: Option<&str>,
        held_stream: &str,
        prefix: &str,
    ) -> anyhow::Result<Broker> {
        let mut options = connect_options(url)?.name("countersign");
        if let Some(path) = credentials {
            options = options.credentials_file(path).await.with_context(|| format!("nats_credentials {path}"))?;
        }
        let client =
            options.connect(url).await.with_context(|| format!("cannot connect to NATS at {}", redacted(url)))?;
        let jetstream = jetstream::new(client);
        let upper = prefix.to_uppercase().replace(['.', '-'], "_");
        // Held actions leave the stream once acknowledged: Countersign's database is their record, and a
        // transcript kept in the broker as well would be kept for ever. Intake results are kept a day.
        // Outcomes are kept under the stream's limits, for the agents' gateways to read at their pace.
        let streams = [
            (held_stream.to_string(), "held", stream::RetentionPolicy::WorkQueue, Duration::ZERO),
            (format!("{upper}_INTAKE"), "intake", stream::RetentionPolicy::Limits, RESULTS_KEPT),
            (format!("{upper}_OUTCOMES"), "outcome", stream::RetentionPolicy::Limits, Duration::ZERO),
        ];
        for (name, subjects, retention, max_age) in streams {
            let config = stream::Config {
                name: name.clone(),
                subjects: vec![format!("{prefix}.{subjects}.>")],
                duplicate_window: DUPLICATE_WINDOW,
                retention,
                max_age,
                ..Default::default()
            };
            let made =
                jetstream.get_or_create_stream(config).await.with_context(|| format!("cannot create stream {name}"))?;
            // A stream made before keeps its settings (retention cannot change in place): say what that keeps.
            let kept = made.cached_info().config.retention;
            if retention == stream::RetentionPolicy::WorkQueue && kept != retention {
                tracing::warn!(stream = %name, retention = ?kept,
                    "the held-action stream keeps acknowledged messages; to have them removed, delete it once \
                     its consumer has nothing pending and start the server again, which makes it a work queue");
            }
        }
        Ok(Broker {
            jetstream,
            held_stream: held_stream.to_string(),
            prefix: prefix.to_string(),
            allow_long_lived_credentials: false,
        })
    }

    /// Lets held-action messages carry owner-minted long-lived credentials as well.
    pub fn allowing_long_lived_credentials(self, allow: bool) -> Broker {
        Broker { allow_long_lived_credentials: allow, ..self }
    }

    /// `rest` under the prefix: `subject("outcome.acme.…")` is `countersign.outcome.acme.…`.
    pub fn subject(&self, rest: &str) -> String {
        format!("{}.{rest}", self.prefix)
    }

    /// The shared durable consumer of held actions, made on first use.
    pub async fn consumer(&self) -> anyhow::Result<consumer::PullConsumer> {
        let stream = self.jetstream.get_stream(&self.held_stream).await.context("the held-action stream")?;
        let config = consumer::pull::Config {
            durable_name: Some(CONSUMER.to_string()),
            ack_policy: consumer::AckPolicy::Explicit,
            ack_wait: ACK_WAIT,
            max_ack_pending: 10_000,
            ..Default::default()
        };
        stream.get_or_create_consumer(CONSUMER, config).await.context("the intake consumer")
    }

    /// Publishes `payload` on `subject` with `headers` and waits for JetStream to store it.
    pub async fn publish(&self, subject: String, headers: HeaderMap, payload: Vec<u8>) -> anyhow::Result<()> {
        self.send(subject, headers, payload).await?.await.context("JetStream did not acknowledge")?;
        Ok(())
    }

    /// Sends without waiting for the acknowledgement, which the returned future gives: many sends can
    /// be in flight before the first is acknowledged.
    pub async fn send(
        &self,
        subject: String,
        headers: HeaderMap,
        payload: Vec<u8>,
    ) -> anyhow::Result<jetstream::context::PublishAckFuture> {
        Ok(self.jetstream.publish_with_headers(subject, headers, payload.into()).await?)
    }
}

/// Options for `url`, with the user and password it names (`nats://user:password@host:4222`), which the
/// client does not take from the URL by itself.
pub fn connect_options(url: &str) -> anyhow::Result<async_nats::ConnectOptions> {
    let addr: async_nats::ServerAddr = url.parse().with_context(|| format!("not a NATS URL: {}", redacted(url)))?;
    Ok(match (addr.username(), addr.password()) {
        (Some(user), Some(password)) => {
            async_nats::ConnectOptions::with_user_and_password(user.into(), password.into())
        }
        _ => async_nats::ConnectOptions::new(),
    })
}

/// `url` without its password, for messages and logs.
pub fn redacted(url: &str) -> String {
    match url.parse::<async_nats::ServerAddr>() {
        Ok(addr) if addr.password().is_some() => {
            let user = addr.username().unwrap_or_default();
            format!("{}://{user}:***@{}:{}", addr.scheme(), addr.host(), addr.port())
        }
        _ => url.to_string(),
    }
}

/// What everything Countersign publishes carries: `Nats-Msg-Id` (so JetStream drops a retry as a
/// duplicate) and `Content-Type`.
pub fn headers(id: &str, content_type: &str) -> HeaderMap {
    let mut headers = HeaderMap::new();
    headers.insert(async_nats::header::NATS_MESSAGE_ID, id);
    headers.insert("Content-Type", content_type);
    headers
}
