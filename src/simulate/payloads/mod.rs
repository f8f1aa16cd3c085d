//! Synthetic "held action" submissions, shaped like what an AI support agent POSTs to the approval service.
//! Seeded, so a simulation or benchmark run can be replayed exactly.

use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use serde_json::{json, Value};
use time::macros::format_description;
use time::{Duration, OffsetDateTime, UtcOffset};

mod phrases;

use phrases::{Kind, AGENT, CATALOG, CUSTOMER, NAMES, OVER_LIMIT, PLACES, REPEAT, SYSTEM};

/// Specifics of one submission, shared by parameters, intent, transcript and consent.
struct Subject {
    kind: &'static Kind,
    num: u32,
    id: String,
    detail: String,
    extra: String,
    card: String,
}

impl Subject {
    fn fill(&self, t: &str) -> String {
        let t = t.replace("{o}", &self.id).replace("{d}", &self.detail);
        t.replace("{x}", &self.extra).replace("{c}", &self.card)
    }
}

struct Turn {
    role: &'static str,
    name: Option<&'static str>,
    text: String,
    gap: i64, // seconds since the previous turn
}

/// Draws submissions from a seeded RNG; a run id and counter keep idempotency keys unique.
pub struct Generator {
    rng: StdRng,
    run: String,
    counter: u64,
    types: Vec<&'static Kind>,
    limit_cents: Option<u64>,
}

impl Generator {
    /// `allowed`: the action types to draw from (subset of the catalog below; if empty use all).
    /// `refund_limit`: the agent's refund limit in EUR as a decimal string like "500.00", if any: ~90% of refunds
    /// stay at or under it, ~10% go above (to exercise refusals).
    pub fn new(seed: u64, allowed: &[&str], refund_limit: Option<&str>) -> Generator {
        let mut types: Vec<&Kind> = CATALOG.iter().filter(|k| allowed.contains(&k.name)).collect();
        // Unknown names are ignored; if nothing usable remains, draw from the whole catalog.
        if types.is_empty() {
            types = CATALOG.iter().collect();
        }
        let limit_cents = refund_limit.and_then(parse_cents);
        // The run id comes from the seed so replays match; a new seed gives keys the server has not seen.
        Generator { rng: StdRng::seed_from_u64(seed), run: format!("r{seed:x}"), counter: 0, types, limit_cents }
    }

    /// One submission, with transcript times ending shortly before `now`.
    pub fn next(&mut self, now: OffsetDateTime) -> Value {
        let (mut v, _, turns, end) = self.build(now);
        set_transcript(&mut v, &turns, end);
        v
    }

    /// Like `next`, but with transcript turns added or trimmed until the compact JSON serialisation is within ±10%
    /// of `bytes` (used by a benchmark with bytes = 4096).
    pub fn next_sized(&mut self, now: OffsetDateTime, bytes: usize) -> Value {
        let (mut v, s, mut turns, end) = self.build(now);
        let (lo, hi) = (bytes - bytes / 10, bytes.saturating_add(bytes / 10));
        // Timestamps are fixed-width, so the size can be tracked per turn without re-serialising.
        let mut size = set_transcript(&mut v, &turns, end);
        while size > hi && turns.len() > 2 {
            size -= turn_len(&turns.remove(1));
        }
        // Best effort: a target too small to fit one more turn just stops trying.
        let mut misses = 0;
        while size < lo && misses < 8 {
            let t = self.turn(&s, turns.last().map_or("", |t| t.role), false);
            let len = turn_len(&t);
            if size + len > hi {
                misses += 1;
                continue;
            }
            size += len;
            turns.push(t);
        }
        set_transcript(&mut v, &turns, end);
        v
    }

    /// Everything but the rendered transcript, which `next_sized` may still resize.
    fn build(&mut self, now: OffsetDateTime) -> (Value, Subject, Vec<Turn>, OffsetDateTime) {
        self.counter += 1;
        let kind: &'static Kind = self.types.choose(&mut self.rng).copied().unwrap_or(&CATALOG[0]);
        let amount = (kind.name == "refund").then(|| self.refund_cents());
        let r = &mut self.rng;
        let num = r.gen_range(1000..99_999);
        let (_, id) = object(kind.name, num);
        let card = format!("{:04}", r.gen_range(0..10_000));
        let mut extra = String::new();
        let (params, detail) = match kind.name {
            "refund" => {
                extra = line(r, "duplicate charge|damaged item|missing item|late delivery").into();
                (json!({"order_id": id, "card_last4": card}), format!("{} EUR", euros(amount.unwrap_or(0))))
            }
            "address_change" => {
                let [street, city, postcode, country] = PLACES[r.gen_range(0..PLACES.len())];
                let line1 = format!("{street} {}", r.gen_range(1..200));
                extra = format!("{line1}, {postcode} {city}, {country}");
                let address = json!({"line1": line1, "city": city, "postcode": postcode, "country": country});
                (json!({"account_id": id, "new_address": address}), city.to_string())
            }
            "data_export" => {
                let mut sets = vec!["profile", "orders", "payments", "support_tickets", "logins"];
                sets.shuffle(r);
                sets.truncate(r.gen_range(1..=4));
                extra = line(r, "csv|json").into();
                (json!({"account_id": id, "datasets": sets, "format": extra}), sets.join(", "))
            }
            "payment_method_change" => {
                let brand = line(r, "visa|mastercard|amex");
                (json!({"account_id": id, "brand": brand, "new_last4": card}), format!("{brand} card ending {card}"))
            }
            // The rest take one enumerated parameter.
            name => {
                let (key, choices) = match name {
                    "password_reset" => ("delivery", "email|sms"),
                    "mfa_reset" => ("factor", "totp|sms|webauthn"),
                    _ => ("reason", "no longer needed|duplicate account|privacy concerns"),
                };
                let choice = line(r, choices);
                (json!({"account_id": id, key: choice}), choice.to_string())
            }
        };
        let mut action = json!({"type": kind.name, "parameters": params});
        if let Some(c) = amount {
            put(&mut action, "amount", json!({"value": euros(c), "currency": "EUR"}));
        }
        // Policy may escalate a high-risk type to critical, never the other way.
        let escalate = kind.tier == "high" && r.gen_bool(0.1);
        let tier = if escalate { "critical" } else { kind.tier };
        let low = if tier == "critical" { 0.65 } else { 0.35 };
        let score = (r.gen_range(low..low + 0.34) * 100.0_f64).round() / 100.0;
        let [rule, reason] = match (amount, self.limit_cents) {
            (Some(c), Some(l)) if c > l => OVER_LIMIT,
            (Some(c), _) if c <= 10_000 => REPEAT,
            _ => kind.rule,
        };
        let case_id = format!("CS-{}", r.gen_range(1000..99_999));
        let customer = format!("cus_{}", r.gen_range(100..999_999));
        let (channel, ctier) = (line(r, "chat|chat|email|voice"), line(r, "standard|standard|silver|gold"));
        let (name, facts) = (line(r, NAMES), facts(r, kind.name));
        let s = Subject { kind, num, id, detail, extra, card };
        let mut v = json!({
            "idempotency_key": format!("{case_id}-{}-{}-{}", kind.name, self.run, self.counter),
            "action": action,
            "intent": s.fill(kind.intent),
            "case": {"id": case_id, "channel": channel, "summary": s.fill(kind.summary), "facts": facts,
                "customer": {"id": customer, "display_name": name, "tier": ctier}},
            "on_behalf_of": {"principal": customer, "consented_scope": self.consent(&s)},
            "policy": {"rule_id": rule, "reason": reason, "risk_tier": tier, "risk_score": score},
        });
        if self.rng.gen_bool(0.2) {
            let expires = now.saturating_add(Duration::minutes(self.rng.gen_range(10..=60)));
            put(&mut v, "expires_at", stamp(expires).into());
        }
        let n = self.rng.gen_range(2..=12);
        let mut turns: Vec<Turn> = Vec::with_capacity(n);
        for i in 0..n {
            let t = self.turn(&s, turns.last().map_or("", |t| t.role), i + 1 == n);
            turns.push(t);
        }
        let end = now.saturating_sub(Duration::seconds(self.rng.gen_range(5..=240)));
        (v, s, turns, end)
    }

    /// Log-scaled and skewed towards small refunds; a limit splits draws about 90/10 around it.
    fn refund_cents(&mut self) -> u64 {
        let r = &mut self.rng;
        let (a, b) = match self.limit_cents {
            Some(l) if r.gen_bool(0.1) => (l.saturating_add(1), (l.saturating_mul(5) / 2).max(l.saturating_add(1))),
            Some(l) => (l.min(1250), l.min(240_000)),
            None => (1250, 240_000),
        };
        let (la, lb) = ((a.max(1) as f64).ln(), (b.max(1) as f64).ln());
        let c = (la + r.gen::<f64>().powf(1.5) * (lb - la)).exp().round() as u64;
        // Most prices end in a round ten cents.
        let c = if r.gen_bool(0.6) { c - c % 10 } else { c };
        c.clamp(a, b)
    }

    /// ~15% of consents miss the action: empty, for another action, or for another object.
    fn consent(&mut self, s: &Subject) -> Vec<String> {
        let (r, name, (obj, _)) = (&mut self.rng, s.kind.name, object(s.kind.name, s.num));
        if !r.gen_bool(0.15) {
            let mut scopes = vec![format!("{name}:{obj}")];
            scopes.extend(r.gen_bool(0.2).then(|| format!("read:{obj}")));
            return scopes;
        }
        match r.gen_range(0..3) {
            0 => vec![],
            1 => {
                let others: Vec<&str> = CATALOG.iter().map(|k| k.name).filter(|k| *k != name).collect();
                vec![format!("{}:{obj}", pick(r, &others))]
            }
            _ => vec![format!("{name}:{}", object(name, s.num + r.gen_range(1..500)).0)],
        }
    }

    /// The agent answers customers and tools, then asks the customer or calls a tool; a system note may close.
    fn turn(&mut self, s: &Subject, prev: &str, last: bool) -> Turn {
        let r = &mut self.rng;
        let (role, gap) = match prev {
            "" => ("customer", 0),
            "agent" if last && r.gen_bool(0.3) => ("system", r.gen_range(1..5)),
            "agent" if r.gen_bool(0.45) => ("tool", r.gen_range(1..4)),
            "agent" => ("customer", r.gen_range(5..60)),
            _ => ("agent", r.gen_range(2..25)),
        };
        let lines: Vec<&str> = s.kind.customer.split('|').collect();
        let (openers, follow) = lines.split_at(lines.len().min(2));
        let (specific, mut name) = (r.gen_bool(0.4), None);
        let text = match role {
            "customer" if prev.is_empty() => s.fill(pick(r, openers)),
            "customer" if specific => s.fill(pick(r, follow)),
            "customer" => line(r, CUSTOMER).into(),
            "agent" if specific => s.fill(line(r, s.kind.agent)),
            "agent" => line(r, AGENT).into(),
            "system" => line(r, SYSTEM).into(),
            _ => {
                let tool = line(r, s.kind.tools);
                name = Some(tool);
                tool_text(r, tool, s)
            }
        };
        Turn { role, name, text, gap }
    }
}

fn pick<'a>(r: &mut StdRng, xs: &[&'a str]) -> &'a str {
    xs.choose(r).copied().unwrap_or_default()
}

fn line(r: &mut StdRng, bank: &'static str) -> &'static str {
    pick(r, &bank.split('|').collect::<Vec<_>>())
}

fn put(v: &mut Value, key: &str, x: Value) {
    if let Some(m) = v.as_object_mut() {
        m.insert(key.into(), x);
    }
}

/// The object consent must name ("order:A-1009", "account:acc_1234") and its bare id.
fn object(kind: &str, num: u32) -> (String, String) {
    let (what, id) = if kind == "refund" { ("order", format!("A-{num}")) } else { ("account", format!("acc_{num}")) };
    (format!("{what}:{id}"), id)
}

fn facts(r: &mut StdRng, kind: &str) -> Value {
    let (young, x) = (r.gen_bool(0.15), r.gen_range(0..12));
    let age = if young { x * 2 + 1 } else { r.gen_range(30..3000) };
    let mut facts = match kind {
        "refund" => json!({"refunds_last_90_days": x / 3, "order_age_days": r.gen_range(0..60)}),
        "password_reset" | "mfa_reset" => json!({"failed_logins_24h": x, "last_login_days_ago": age % 90}),
        "address_change" | "payment_method_change" => {
            json!({"failed_logins_24h": x / 4, "recent_address_change": r.gen_bool(0.3)})
        }
        "account_closure" => json!({"open_orders": x / 4, "balance_eur": euros(r.gen_range(0..5000))}),
        _ => json!({"exports_last_30_days": x / 4}),
    };
    put(&mut facts, "account_age_days", age.into());
    facts
}

/// A JSON-ish tool result, as the agent framework would log it.
fn tool_text(r: &mut StdRng, name: &str, s: &Subject) -> String {
    let (n, l4, yes) = (r.gen_range(1..6), format!("{:04}", r.gen_range(0..10_000)), r.gen_bool(0.85));
    let v = match name {
        "lookup_order" => json!({"order_id": s.id, "charges": n % 2 + 1, "status": line(r, "delivered|shipped|lost")}),
        "list_payment_methods" => json!({"methods": [{"brand": line(r, "visa|mastercard"), "last4": l4}]}),
        "check_identity" => json!({"verified": yes, "method": line(r, "otp|kba|email_link")}),
        "list_sessions" => json!({"active_sessions": n, "new_device_24h": !yes}),
        _ => json!({"account_id": s.id, "status": "active", "email_verified": yes}),
    };
    v.to_string()
}

fn render_turn(t: &Turn, at: String) -> Value {
    let mut o = json!({"role": t.role, "at": at, "text": t.text});
    if let Some(n) = t.name {
        put(&mut o, "name", n.into());
    }
    o
}

/// Serialised size of a turn plus its separating comma.
fn turn_len(t: &Turn) -> usize {
    render_turn(t, "2026-01-01T00:00:00Z".into()).to_string().len() + 1
}

/// Lays the turns out backwards from `end`, so the last lands there; returns the submission's size.
fn set_transcript(v: &mut Value, turns: &[Turn], end: OffsetDateTime) -> usize {
    // The opening turn's gap is zero, so summing every gap spans the whole conversation.
    let mut at = end.saturating_sub(Duration::seconds(turns.iter().map(|t| t.gap).sum()));
    let mut rendered = Vec::with_capacity(turns.len());
    for t in turns {
        at = at.saturating_add(Duration::seconds(t.gap));
        rendered.push(render_turn(t, stamp(at)));
    }
    put(v, "transcript", rendered.into());
    v.to_string().len()
}

/// Whole-second RFC 3339 UTC ("2026-11-23T10:00:05Z"), the form the service expects.
fn stamp(t: OffsetDateTime) -> String {
    let f = format_description!("[year]-[month]-[day]T[hour]:[minute]:[second]Z");
    t.checked_to_offset(UtcOffset::UTC).and_then(|t| t.format(f).ok()).unwrap_or_default()
}

fn euros(cents: u64) -> String {
    format!("{}.{:02}", cents / 100, cents % 100)
}

fn parse_cents(s: &str) -> Option<u64> {
    let (whole, frac) = s.trim().split_once('.').unwrap_or((s.trim(), ""));
    if frac.len() > 2 || !frac.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let frac: u64 = format!("{frac:0<2}").parse().ok()?;
    whole.parse::<u64>().ok()?.checked_mul(100)?.checked_add(frac)
}

#[cfg(test)]
mod tests;
