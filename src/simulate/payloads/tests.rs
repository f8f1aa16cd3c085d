//! The generator against the contract it must meet.
use super::*;
use std::collections::{HashMap, HashSet};
use time::macros::datetime;

const NOW: OffsetDateTime = datetime!(2026-11-23 10:30:17.25 UTC);

fn text<'v>(v: &'v Value, path: &[&str]) -> &'v str {
    path.iter().fold(v, |v, k| &v[k]).as_str().unwrap_or_else(|| panic!("{path:?} is not a string in {v}"))
}

/// Whether the consent names exactly this action on this object.
fn covers(v: &Value) -> bool {
    let (kind, p) = (text(v, &["action", "type"]), &v["action"]["parameters"]);
    let want = match p["order_id"].as_str() {
        Some(order) => format!("{kind}:order:{order}"),
        None => format!("{kind}:account:{}", text(p, &["account_id"])),
    };
    v["on_behalf_of"]["consented_scope"].as_array().expect("scope").iter().any(|s| s == &want)
}

fn check(v: &Value, allowed: &[&str]) {
    let top: HashSet<&str> = v.as_object().expect("object").keys().map(String::as_str).collect();
    let required = ["idempotency_key", "action", "intent", "case", "transcript", "on_behalf_of", "policy"];
    assert!(required.iter().all(|k| top.contains(k)) && top.len() == 7 + top.contains("expires_at") as usize);
    let kind = CATALOG.iter().find(|k| k.name == text(v, &["action", "type"])).expect("catalog type");
    assert!(allowed.is_empty() || allowed.contains(&kind.name));
    let mut params: Vec<&str> =
        v["action"]["parameters"].as_object().expect("params").keys().map(String::as_str).collect();
    params.sort_unstable();
    let want = match kind.name {
        "refund" => "card_last4 order_id",
        "password_reset" => "account_id delivery",
        "address_change" => "account_id new_address",
        "mfa_reset" => "account_id factor",
        "account_closure" => "account_id reason",
        "data_export" => "account_id datasets format",
        _ => "account_id brand new_last4",
    };
    assert_eq!(params.join(" "), want);
    let amount = v["action"].get("amount");
    assert_eq!(amount.is_some(), kind.name == "refund");
    if let Some(a) = amount {
        let (whole, cents) = text(a, &["value"]).split_once('.').expect("decimal");
        assert!(whole.parse::<u64>().is_ok() && cents.len() == 2 && cents.parse::<u8>().is_ok(), "{a}");
        assert_eq!(a["currency"], "EUR");
    }
    for path in [&["intent"][..], &["case", "id"], &["case", "summary"], &["case", "customer", "display_name"]] {
        assert!(!text(v, path).is_empty());
    }
    assert!(["chat", "email", "voice"].contains(&text(v, &["case", "channel"])));
    assert!(["standard", "silver", "gold"].contains(&text(v, &["case", "customer", "tier"])));
    assert_eq!(v["on_behalf_of"]["principal"], v["case"]["customer"]["id"]);
    let tier = text(v, &["policy", "risk_tier"]);
    assert!(tier == kind.tier || tier == "critical");
    let score = v["policy"]["risk_score"].as_f64().expect("score") * 100.0;
    assert!((0.0..=100.0).contains(&score) && (score - score.round()).abs() < 1e-6);
    let (now, recent) = (stamp(NOW), stamp(NOW - Duration::minutes(5)));
    let mut last = String::new();
    for t in v["transcript"].as_array().expect("transcript") {
        let at = text(t, &["at"]);
        assert!(at.len() == 20 && *at > *last && *at < *now, "{at} after {last}");
        assert!(["customer", "agent", "tool", "system"].contains(&text(t, &["role"])));
        assert_eq!(t.get("name").is_some(), t["role"] == "tool");
        last = at.into();
    }
    assert!(last >= recent, "the conversation ended long before now");
    if let Some(e) = v.get("expires_at").and_then(Value::as_str) {
        assert!(*e >= *stamp(NOW + Duration::minutes(10)) && *e <= *stamp(NOW + Duration::minutes(61)));
    }
}

#[test]
fn submissions_follow_the_contract_and_vary() {
    let mut g = Generator::new(7, &[], Some("500.00"));
    let (mut types, mut uncovered, mut expiring) = (HashMap::new(), 0, 0);
    for _ in 0..1000 {
        let v = g.next(NOW);
        check(&v, &[]);
        assert!((2..=12).contains(&v["transcript"].as_array().map_or(0, Vec::len)));
        *types.entry(text(&v, &["action", "type"]).to_string()).or_insert(0) += 1;
        uncovered += !covers(&v) as u32;
        expiring += v.get("expires_at").is_some() as u32;
    }
    assert_eq!(types.len(), CATALOG.len(), "{types:?}");
    assert!((60..=250).contains(&uncovered) && (100..=300).contains(&expiring), "{uncovered} {expiring}");
}

#[test]
fn most_refunds_stay_within_the_limit() {
    let mut g = Generator::new(3, &["refund"], Some("500.00"));
    let cents: Vec<u64> =
        (0..1000).map(|_| parse_cents(text(&g.next(NOW), &["action", "amount", "value"])).expect("cents")).collect();
    let over = cents.iter().filter(|&&c| c > 50_000).count();
    assert!((40..=200).contains(&over), "{over} over the limit");
    assert!(cents.iter().filter(|&&c| c < 10_000).count() > 400, "mostly small");
}

#[test]
fn sized_submissions_land_near_the_target() {
    let mut g = Generator::new(11, &[], None);
    for _ in 0..200 {
        let v = g.next_sized(NOW, 4096);
        check(&v, &[]);
        assert!((3687..=4505).contains(&v.to_string().len()), "{}", v.to_string().len());
    }
}

#[test]
fn keys_are_unique_within_and_across_runs() {
    let mut keys = HashSet::new();
    for seed in [1, 2] {
        let mut g = Generator::new(seed, &[], None);
        for _ in 0..10_000 {
            assert!(keys.insert(text(&g.next(NOW), &["idempotency_key"]).to_string()));
        }
    }
}

#[test]
fn allowed_restricts_types_and_seeds_replay() {
    let allowed = ["mfa_reset", "data_export"];
    let mut g = Generator::new(9, &allowed, None);
    let seen: HashSet<String> = (0..300)
        .map(|_| g.next(NOW))
        .inspect(|v| check(v, &allowed))
        .map(|v| text(&v, &["action", "type"]).to_string())
        .collect();
    assert_eq!(seen.len(), 2);
    assert_eq!(Generator::new(5, &[], None).next(NOW), Generator::new(5, &[], None).next(NOW));
}
