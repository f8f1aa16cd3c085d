//! Faults with JetStream, on PostgreSQL: 10,000 held actions published while two `countersign serve`
//! processes consume; one is SIGKILLed part-way and restarted, and the database is cut off (connections
//! refused) for a few seconds. Then every key is stored once and every message acknowledged; the agent is
//! retired (10,000 cancellations) while a server is killed again, and every outcome is on JetStream once.

use crate::cli::{countersign, countersign_with, text};
use crate::durability::{agent_with_credential, serve_with};
use crate::harness::{Backend, TestDb};
use crate::nats::{keep_account_storage, nats_url};
use async_nats::jetstream::{self, consumer};
use std::collections::HashSet;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::net::{TcpListener, TcpStream};
use tokio::process::Child;
use tokio::sync::broadcast;

const MESSAGES: usize = 10_000;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_servers_lose_and_double_nothing_through_kills_and_a_database_outage() {
    let (Some(Backend::Postgres(admin)), Some(nats)) = (Backend::postgres(), nats_url()) else {
        return eprintln!("COUNTERSIGN_TEST_POSTGRES_URL and COUNTERSIGN_TEST_NATS_URL are both needed: skipped");
    };
    let db = TestDb::create(&Backend::Postgres(admin)).await;
    let (agent, token) = agent_with_credential(&db);
    let proxy = Proxy::start(&db.url).await;
    let prefix = format!("f{}", uuid::Uuid::now_v7().simple());
    let env = [
        ("COUNTERSIGN_NATS_URL", nats.clone()),
        ("COUNTERSIGN_NATS_STREAM", format!("{}_HELD", prefix.to_uppercase())),
        ("COUNTERSIGN_NATS_SUBJECT_PREFIX", prefix.clone()),
        // The load is published with an owner-minted credential.
        ("COUNTERSIGN_NATS_ALLOW_LONG_LIVED_CREDENTIALS", "true".into()),
    ];
    let js = jetstream::new(async_nats::connect(&nats).await.expect("nats"));
    keep_account_storage(&js).await;
    let start = || serve_with(&db, &proxy.url, &env);
    let (mut first, _) = start().await;
    let (mut second, _) = start().await;

    let publisher = tokio::spawn(publish_all(js.clone(), format!("{prefix}.held.acme"), token));
    let pool = sqlx::PgPool::connect(&db.url).await.expect("pool");
    until("a third stored", || async { held(&pool).await >= (MESSAGES / 3) as i64 }).await;
    kill(&mut first).await;
    proxy.refuse(true);
    tokio::time::sleep(Duration::from_secs(3)).await;
    proxy.refuse(false);
    let (mut first, _) = start().await;
    publisher.await.expect("published");
    settled(&js, &format!("{}_HELD", prefix.to_uppercase())).await;

    let (rows, keys): (i64, i64) = sqlx::query_as("SELECT COUNT(*), COUNT(DISTINCT idempotency_key) FROM held_actions")
        .fetch_one(&pool)
        .await
        .expect("count");
    assert_eq!((rows, keys), (MESSAGES as i64, MESSAGES as i64), "every key stored exactly once");

    // Every pending action cancelled in one transaction: 10,000 outcomes to publish, by both servers. The
    // command runs with the servers' configuration, so it writes the JetStream messages too.
    let retire = ["agent", "retire", "--agent", &agent, "--reason", "fault test"];
    let retired = countersign_with(&db, &retire, "", &env);
    assert!(retired.status.success(), "{}", text(&retired.stderr));
    let outcomes = format!("{}_OUTCOMES", prefix.to_uppercase());
    until("some outcomes published", || async { stored(&js, &outcomes).await > 1_000 }).await;
    kill(&mut second).await;
    let (mut second, _) = start().await;
    until("every outcome published", || async { stored(&js, &outcomes).await >= MESSAGES as u64 }).await;
    // Rows the killed server had sent but not marked are sent again once their lease ends: JetStream keeps
    // the first copy (same Nats-Msg-Id) and the outbox drains.
    let unsent = "SELECT COUNT(*) FROM webhook_deliveries WHERE channel = 'nats' AND state <> 'delivered'";
    until("the outbox drained", || async {
        sqlx::query_as::<_, (i64,)>(unsent).fetch_one(&pool).await.is_ok_and(|(n,)| n == 0)
    })
    .await;
    let ids = outcome_ids(&js, &outcomes).await;
    assert_eq!(ids.len(), MESSAGES, "one outcome message per action, none twice");
    assert_eq!(ids.iter().collect::<HashSet<_>>().len(), MESSAGES);

    kill(&mut first).await;
    kill(&mut second).await;
    let verify = countersign(&db, &["audit", "verify"], "");
    assert!(verify.status.success(), "{}{}", text(&verify.stdout), text(&verify.stderr));
    for stream in [format!("{}_HELD", prefix.to_uppercase()), format!("{}_INTAKE", prefix.to_uppercase()), outcomes] {
        let _ = js.delete_stream(&stream).await;
    }
    pool.close().await;
    db.drop().await;
}

async fn publish_all(js: jetstream::Context, subject: String, token: String) {
    for chunk in (0..MESSAGES).collect::<Vec<_>>().chunks(500) {
        let mut acks = Vec::with_capacity(chunk.len());
        for i in chunk {
            let mut headers = async_nats::HeaderMap::new();
            headers.insert("Authorization", format!("Bearer {token}").as_str());
            let body = crate::api::example(&format!("fault-{i}")).to_string();
            acks.push(js.publish_with_headers(subject.clone(), headers, body.into()).await.expect("publish"));
        }
        for ack in acks {
            ack.await.expect("stored by JetStream");
        }
    }
}

async fn kill(server: &mut Child) {
    server.start_kill().expect("SIGKILL");
    let _ = server.wait().await;
}

async fn held(pool: &sqlx::PgPool) -> i64 {
    sqlx::query_as::<_, (i64,)>("SELECT COUNT(*) FROM held_actions").fetch_one(pool).await.map_or(0, |r| r.0)
}

async fn until<F: std::future::Future<Output = bool>>(what: &str, mut check: impl FnMut() -> F) {
    let deadline = Instant::now() + Duration::from_secs(300);
    while !check().await {
        assert!(Instant::now() < deadline, "never: {what}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// Waits until the intake consumer has nothing undelivered or unacknowledged.
async fn settled(js: &jetstream::Context, stream: &str) {
    let stream = js.get_stream(stream).await.expect("stream");
    until("every message acknowledged", || async { crate::nats::consumer_settled(&stream).await.is_ok() }).await;
}

async fn stored(js: &jetstream::Context, stream: &str) -> u64 {
    let mut stream = js.get_stream(stream).await.expect("stream");
    stream.info().await.map_or(0, |i| i.state.messages)
}

/// The held-action id of every message in the outcome stream.
async fn outcome_ids(js: &jetstream::Context, stream: &str) -> Vec<String> {
    let stream = js.get_stream(stream).await.expect("stream");
    let config = consumer::pull::Config { ack_policy: consumer::AckPolicy::None, ..Default::default() };
    let reader = stream.create_consumer(config).await.expect("reader");
    let mut ids = Vec::new();
    loop {
        let mut batch =
            reader.fetch().max_messages(1_000).expires(Duration::from_secs(1)).messages().await.expect("fetch");
        let before = ids.len();
        while let Some(Ok(m)) = tokio_stream::StreamExt::next(&mut batch).await {
            let body: serde_json::Value = serde_json::from_slice(&m.payload).expect("json");
            ids.push(body["data"]["id"].as_str().unwrap_or_default().to_string());
        }
        if ids.len() == before {
            return ids;
        }
    }
}

/// A TCP proxy to the database that can refuse: existing connections are cut and new ones closed at once.
struct Proxy {
    url: String,
    refusing: Arc<AtomicBool>,
    cut: broadcast::Sender<()>,
}

impl Proxy {
    async fn start(database_url: &str) -> Proxy {
        let mut url = url::Url::parse(database_url).expect("url");
        let target = format!("{}:{}", url.host_str().expect("host"), url.port().unwrap_or(5432));
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        url.set_port(Some(listener.local_addr().expect("addr").port())).expect("port");
        let (refusing, (cut, _)) = (Arc::new(AtomicBool::new(false)), broadcast::channel(1));
        let (flag, cuts) = (refusing.clone(), cut.clone());
        tokio::spawn(async move {
            while let Ok((mut client, _)) = listener.accept().await {
                if flag.load(Ordering::SeqCst) {
                    continue; // dropped: the connection closes at once
                }
                let (target, mut cut) = (target.clone(), cuts.subscribe());
                tokio::spawn(async move {
                    let Ok(mut server) = TcpStream::connect(&target).await else { return };
                    tokio::select! {
                        _ = tokio::io::copy_bidirectional(&mut client, &mut server) => {}
                        _ = cut.recv() => {}
                    }
                });
            }
        });
        Proxy { url: url.to_string(), refusing, cut }
    }

    fn refuse(&self, refuse: bool) {
        self.refusing.store(refuse, Ordering::SeqCst);
        if refuse {
            let _ = self.cut.send(());
        }
    }
}
