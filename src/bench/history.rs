//! `countersign bench history`: the auditor's paths on a seeded database (1M decided by default), against
//! the server in its own process over real HTTP: history pages with no filter and with each filter, the
//! next page, free text, the decision record, and a full export's rate and the server's memory meanwhile.
//! Baselines in the same run: `/healthz` (the floor of a round trip) and, for the export, the store's own
//! rate of reading the same rows page by page, in this process, with nothing encoded or sent.

use super::server::{self, line, ms, verdict};
use crate::config::Config;
use crate::demo;
use crate::domain::clock::SystemClock;
use crate::service::Service;
use crate::store::HistoryQuery;
use anyhow::{bail, Context};
use hdrhistogram::Histogram;
use serde_json::Value;
use std::sync::Arc;
use std::time::Instant;
use uuid::Uuid;

pub struct Options {
    pub decided: u64,
    pub database_url: Option<String>,
    pub samples: usize,
    /// The configuration file, read for a named database's secret key.
    pub config_file: std::path::PathBuf,
}

/// Resident memory of a process, in MB.
fn rss_mb(pid: u32) -> f64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| s.lines().find(|l| l.starts_with("VmRSS:")).map(str::to_string))
        .and_then(|l| l.split_whitespace().nth(1).and_then(|kb| kb.parse::<f64>().ok()))
        .map_or(0.0, |kb| kb / 1024.0)
}

pub async fn history(options: Options) -> anyhow::Result<()> {
    let dir = std::env::temp_dir().join(format!("countersign-bench-{}", Uuid::now_v7()));
    std::fs::create_dir_all(&dir)?;
    let url = options.database_url.clone().unwrap_or_else(|| format!("sqlite://{}", dir.join("history.db").display()));
    let result = run(&options, &url).await;
    let _ = std::fs::remove_dir_all(&dir);
    result
}

/// Times `n` posts of `form` to a server function, cycling through the forms.
async fn sample(
    browser: &reqwest::Client,
    url: &str,
    forms: &[Vec<(String, String)>],
    n: usize,
) -> anyhow::Result<Histogram<u64>> {
    let mut h = Histogram::<u64>::new(3)?;
    for i in 0..n {
        let t = Instant::now();
        let r = browser.post(url).form(&forms[i % forms.len()]).send().await?;
        if !r.status().is_success() {
            bail!("{url} failed: {} {}", r.status(), r.text().await.unwrap_or_default());
        }
        r.bytes().await?;
        h.record(t.elapsed().as_micros() as u64)?;
    }
    Ok(h)
}

fn filter(fields: &[(&str, &str)]) -> Vec<(String, String)> {
    fields.iter().map(|(k, v)| (format!("filter[{k}]"), v.to_string())).collect()
}

async fn run(options: &Options, database_url: &str) -> anyhow::Result<()> {
    let config = Config { database_url: database_url.into(), ..Config::default() };
    let store = crate::server::open_store(&config).await?;
    println!("bench history on {} ({})", config.database_url_redacted(), store.backend());
    let named = options.database_url.is_some();
    let (keys, key_variable) = server::keys(named, &options.config_file)?;
    let mut service = Service::start(store.clone(), Arc::new(SystemClock), Default::default()).await?;
    service.set_secrets(keys);
    let fleet = crate::seed::fleet(&service).await?;
    let tenants: Vec<Uuid> = store.tenants().await?.iter().map(|t| t.id).collect();
    let everything =
        HistoryQuery { tenants: tenants.clone(), limit: crate::service::EXPORT_PAGE, ..Default::default() };
    let probe = store.history(&HistoryQuery { limit: 1, ..everything.clone() }).await?;
    if probe.is_empty() {
        println!("seeding {} decided held actions…", options.decided);
        let took = crate::seed::seed(&service, 1_000, options.decided).await?;
        println!("seeded in {:.1} s", took.as_secs_f64());
    } else {
        println!("using the held actions already there");
    }
    // Values to filter by, taken from the data.
    let sample_rows = store.history(&HistoryQuery { limit: 2_000, ..everything.clone() }).await?;
    let row = sample_rows.iter().find(|a| a.decided_by.is_some()).context("no decided rows")?;
    let reviewer = row.decided_by.map(|u| u.to_string()).unwrap_or_default();
    let owner = fleet[0].owner_id.to_string();
    let record_ids: Vec<String> = sample_rows.iter().map(|a| a.id.to_string()).collect();
    let from_day = (row.received_at - time::Duration::days(7)).date().to_string();
    let to_day = (row.received_at - time::Duration::days(5)).date().to_string();

    // The store's own rate over every row, page by page: the export's baseline.
    let t = Instant::now();
    let (mut q, mut scanned) = (everything.clone(), 0u64);
    loop {
        let page = store.history(&q).await?;
        scanned += page.len() as u64;
        q.after = page.last().map(|a| (a.received_at, a.id));
        if (page.len() as i64) < q.limit {
            break;
        }
    }
    let scan_rate = scanned as f64 / t.elapsed().as_secs_f64();
    drop(service);
    drop(store);

    let srv = server::start_with(database_url, &[key_variable], named.then_some(options.config_file.as_path())).await?;
    let base = srv.url.clone();
    let browser = server::signed_in(&base, 4).await?;
    let n = options.samples;
    // The floor: a round trip that does nothing.
    let floor = server::floor(&browser, &base, n).await?;
    let page_url = format!("{base}/api/history/page");
    let first: Value = browser.post(&page_url).form(&filter(&[])).send().await?.json().await?;
    let cursor = first["next"].as_str().unwrap_or_default().to_string();
    let agent = fleet[0].id.to_string();
    let customer = row.customer_id.clone();
    let singles: Vec<(&str, Vec<(String, String)>)> = vec![
        ("no filter", filter(&[])),
        ("time range", filter(&[("from", &from_day), ("to", &to_day)])),
        ("tenant", filter(&[("tenant", demo::TENANTS[0].0)])),
        ("agent", filter(&[("agent", &agent)])),
        ("owner", filter(&[("owner", &owner)])),
        ("reviewer", filter(&[("reviewer", &reviewer)])),
        ("action type", filter(&[("action", "mfa_reset")])),
        ("risk tier", filter(&[("tier", "critical")])),
        ("outcome", filter(&[("outcome", "expired")])),
        ("customer", filter(&[("customer", &customer)])),
        ("case", filter(&[("case", &row.case_id)])),
        ("amount range", filter(&[("amount_min", "200"), ("amount_max", "400")])),
    ];
    println!();
    line("baseline: /healthz", &floor);
    let mut worst_first = 0.0f64;
    for (name, form) in &singles {
        let h = sample(&browser, &page_url, std::slice::from_ref(form), n / 4).await?;
        worst_first = worst_first.max(ms(&h, 0.99));
        line(&format!("first page, {name}"), &h);
    }
    let next = sample(&browser, &page_url, &[filter(&[("after", &cursor)])], n).await?;
    line("next page (keyset)", &next);
    let texts: Vec<Vec<(String, String)>> = ["refund", "password reset", "charged twice", "address", "locked out"]
        .iter()
        .map(|q| filter(&[("q", q)]))
        .collect();
    let text = sample(&browser, &page_url, &texts, n).await?;
    line("free text", &text);
    let records: Vec<Vec<(String, String)>> =
        record_ids.iter().map(|id| vec![("id".to_string(), id.clone())]).collect();
    let record = sample(&browser, &format!("{base}/api/history/record"), &records, n).await?;
    line("decision record", &record);

    let insights =
        sample(&browser, &format!("{base}/api/insights"), &[vec![("days".to_string(), "90".to_string())]], n / 4)
            .await?;
    line("/insights, 90 days", &insights);

    // A full export in each format: rows per second, and the server's memory while it streams.
    let (csv_rate, csv_grown) = export(&browser, &base, "csv", srv.pid, scanned).await?;
    let (ndjson_rate, ndjson_grown) = export(&browser, &base, "ndjson", srv.pid, scanned).await?;
    println!(
        "baseline: store read, same rows  {scan_rate:>9.0} rows/s   (pages of {}, as the export reads, nothing encoded)",
        crate::service::EXPORT_PAGE
    );
    println!();
    println!("goal  first page p99 <= 50 ms, any filter : {worst_first:.2} ms  {}", verdict(worst_first <= 50.0));
    println!(
        "goal  next page p99 <= 50 ms              : {:.2} ms  {}",
        ms(&next, 0.99),
        verdict(ms(&next, 0.99) <= 50.0)
    );
    println!(
        "goal  free text p99 <= 100 ms             : {:.2} ms  {}",
        ms(&text, 0.99),
        verdict(ms(&text, 0.99) <= 100.0)
    );
    println!(
        "goal  decision record p99 <= 20 ms        : {:.2} ms  {}",
        ms(&record, 0.99),
        verdict(ms(&record, 0.99) <= 20.0)
    );
    println!(
        "goal  /insights 90 days p99 <= 100 ms     : {:.2} ms  {}",
        ms(&insights, 0.99),
        verdict(ms(&insights, 0.99) <= 100.0)
    );
    for (format, rate, grown) in [("CSV", csv_rate, csv_grown), ("NDJSON", ndjson_rate, ndjson_grown)] {
        println!("goal  export {format:<6} >= 100,000 rows/s     : {rate:.0}  {}", verdict(rate >= 100_000.0));
        println!("goal  export {format:<6} RSS growth < 20 MB    : {grown:.1} MB  {}", verdict(grown < 20.0));
    }
    Ok(())
}

/// Downloads the whole history as `format`, printing its rate and the growth of the server's resident memory
/// (sampled every 50 ms while it streams); returns both.
async fn export(
    browser: &reqwest::Client,
    base: &str,
    format: &str,
    pid: u32,
    rows: u64,
) -> anyhow::Result<(f64, f64)> {
    let before = rss_mb(pid);
    let peak = Arc::new(std::sync::Mutex::new(before));
    let watch = peak.clone();
    let watcher = tokio::spawn(async move {
        loop {
            let now = rss_mb(pid);
            if let Ok(mut p) = watch.lock() {
                *p = p.max(now);
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
    });
    let t = Instant::now();
    let mut response = browser.get(format!("{base}/history/export?format={format}")).send().await?;
    let (mut bytes, mut lines) = (0u64, 0u64);
    while let Some(chunk) = response.chunk().await? {
        bytes += chunk.len() as u64;
        lines += chunk.iter().filter(|b| **b == b'\n').count() as u64;
    }
    let took = t.elapsed().as_secs_f64();
    watcher.abort();
    let grown = peak.lock().map(|p| *p - before).unwrap_or(0.0);
    let rate = rows as f64 / took;
    let name = format!("export ({}, all {rows} rows)", format.to_uppercase());
    println!(
        "{name:<34} {rate:>9.0} rows/s   {:.0} MB in {took:.1} s, {lines} lines; server RSS {before:.1} → +{grown:.1} MB",
        bytes as f64 / 1e6
    );
    Ok((rate, grown))
}
