//! Exports of the history and the audit log, from the console and the command line: every row, the filters
//! on screen, CSV cells a spreadsheet cannot run, and an audit event for each.

use crate::harness::{Backend, PASSWORD};
use crate::history::{body, submit, world};
use app::history_model::AuditFilter;
use countersign::domain::HeldStatus;
use serde_json::{json, Value};

crate::on_both_stores!(
    exports_stream_every_row_and_neutralise_formulas,
    the_command_line_exports_with_filters_and_is_audited
);

/// A minimal RFC 4180 reader: records of cells, quotes doubled inside quoted cells.
fn csv_records(text: &str) -> Vec<Vec<String>> {
    let (mut records, mut record, mut cell, mut quoted, mut chars) =
        (Vec::new(), Vec::new(), String::new(), false, text.chars().peekable());
    while let Some(c) = chars.next() {
        match (c, quoted) {
            ('"', true) if chars.peek() == Some(&'"') => {
                chars.next();
                cell.push('"');
            }
            ('"', _) => quoted = !quoted,
            (',', false) => record.push(std::mem::take(&mut cell)),
            ('\r', false) => {}
            ('\n', false) => {
                record.push(std::mem::take(&mut cell));
                records.push(std::mem::take(&mut record));
            }
            (c, _) => cell.push(c),
        }
    }
    records
}

async fn exports_stream_every_row_and_neutralise_formulas(backend: Backend) {
    let w = world(backend).await;
    // A customer writes something a spreadsheet would run; the agent quotes it with commas and newlines.
    let (_, token) = w.app.agent("acme", "olu@example.com", &["refund:500.00EUR"]).await;
    let mut hostile = body(0, "hostile");
    hostile["intent"] = json!("=HYPERLINK(\"http://evil.example\",\"refund\"), then \"quote\"\nand a new line");
    hostile["transcript"] = json!([{ "role": "customer", "at": "2026-11-23T10:00:00Z", "text": "@SUM(A1:A9)" }]);
    hostile["case"]["summary"] = json!("+1 555 0100, -5 dollars");
    submit(&w.app, &token, &hostile).await;
    let browser = w.app.browser();
    w.app.sign_in(&browser, "aud@example.com", PASSWORD).await;
    let get = |path: &str| {
        let (browser, url) = (browser.clone(), w.app.url(path));
        async move {
            let r = browser.get(url).send().await.expect("export");
            assert_eq!(r.status(), reqwest::StatusCode::OK, "{:?}", r.headers());
            r.text().await.expect("body")
        }
    };
    let csv = get("/history/export?format=csv").await;
    let records = csv_records(&csv);
    assert_eq!(records[0][0], "id");
    assert_eq!(records.len() - 1, w.acme.len() + 1, "one record per held action of the tenant");
    assert!(records.iter().all(|r| r.len() == records[0].len()), "every record has every column");
    let intent = records[0].iter().position(|h| h == "intent").expect("intent column");
    let row = records.iter().find(|r| r[intent].contains("HYPERLINK")).expect("the hostile row");
    assert_eq!(row[intent], "'=HYPERLINK(\"http://evil.example\",\"refund\"), then \"quote\"\nand a new line");
    let summary = records[0].iter().position(|h| h == "case_summary").expect("summary column");
    assert!(row[summary].starts_with("'+1"), "{}", row[summary]);
    let transcript = records[0].iter().position(|h| h == "transcript").expect("transcript column");
    assert_eq!(row[transcript], "customer: @SUM(A1:A9)", "a cell is neutralised only where it begins");
    // Filters apply, and NDJSON carries the submission whole.
    let approved = w.acme.iter().filter(|(a, _)| a.status == HeldStatus::Approved).count();
    let ndjson = get("/history/export?format=ndjson&outcome=approved").await;
    let lines: Vec<Value> = ndjson.lines().map(|l| serde_json::from_str(l).expect("a JSON line")).collect();
    assert_eq!(lines.len(), approved);
    assert!(lines.iter().all(|l| l["status"] == "approved" && l["submission"]["intent"].is_string()));
    // Every column by name, an empty one as null, and the hash of the body carried.
    assert!(lines.iter().all(|l| l["reason"].is_null() && l["action"].is_string() && l["approvals"].is_string()));
    assert!(lines.iter().all(|l| l["content_hash"].as_str().is_some_and(|h| h.len() == 64)));
    // Every export is in the audit log, naming who exported what.
    let auditor = w.app.service.reader(&w.auditor).await.expect("reader");
    let filter = AuditFilter { kind: "export.history".into(), ..Default::default() };
    let page = w.app.service.audit_page(&w.auditor, &filter).await.expect("audit");
    assert_eq!(page.events.len(), 2);
    assert!(
        page.events[0].data.contains("outcome=approved")
            && page.events[0].actor == format!("user:{}", w.auditor.user_id)
    );
    let _ = auditor;
    // A bad filter is a 422 problem and exports nothing.
    let bad = browser.get(w.app.url("/history/export?format=xlsx")).send().await.expect("get");
    assert_eq!(bad.status(), reqwest::StatusCode::UNPROCESSABLE_ENTITY);
    let bad = browser.get(w.app.url("/history/export?amount_min=lots")).send().await.expect("get");
    assert_eq!(bad.status(), reqwest::StatusCode::UNPROCESSABLE_ENTITY);
    // Audit export: every event of the tenant, with names.
    let audit = get("/audit/export?format=ndjson").await;
    assert!(audit.lines().count() > w.acme.len(), "submissions, votes and more");
    assert!(audit.lines().all(|l| !l.contains(&w.globex[0].to_string())), "no other tenant's events");
    // Another site cannot make a signed-in browser export (and record it).
    let cross =
        browser.get(w.app.url("/history/export")).header("sec-fetch-site", "cross-site").send().await.expect("get");
    assert_eq!(cross.status(), reqwest::StatusCode::FORBIDDEN);
    w.app.stop().await;
}

async fn the_command_line_exports_with_filters_and_is_audited(backend: Backend) {
    let w = world(backend).await;
    let run = |args: &[&str]| {
        std::process::Command::new(env!("CARGO_BIN_EXE_countersign"))
            .args(args)
            .env("COUNTERSIGN_DATABASE_URL", &w.app.db.url)
            .env("COUNTERSIGN_SECRET_KEY_FILE", w.app.db.key_file())
            .env("RUST_LOG", "error")
            .output()
            .expect("run countersign")
    };
    let out = run(&["export", "history", "--format", "csv", "--tenant", "acme", "--outcome", "denied"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let denied = w.acme.iter().filter(|(a, _)| a.status == HeldStatus::Denied).count();
    assert_eq!(csv_records(&String::from_utf8_lossy(&out.stdout)).len(), denied + 1, "a header and the denied rows");
    let out = run(&["export", "history", "--format", "ndjson"]);
    let lines = String::from_utf8_lossy(&out.stdout).lines().count();
    assert_eq!(lines, w.acme.len() + w.globex.len(), "the operator exports every tenant");
    let out = run(&["export", "audit", "--format", "ndjson", "--kind", "held_action.denied"]);
    assert_eq!(String::from_utf8_lossy(&out.stdout).lines().count(), denied);
    let out = run(&["export", "history", "--outcome", "lost"]);
    assert!(!out.status.success() && String::from_utf8_lossy(&out.stderr).contains("outcome"), "a bad filter is named");
    let kinds = w.app.audit_kinds().await;
    assert_eq!(kinds.iter().filter(|k| *k == "export.history").count(), 1 + 2, "one per tenant the export covered");
    assert_eq!(kinds.iter().filter(|k| *k == "export.audit").count(), 2);
    w.app.stop().await;
}
