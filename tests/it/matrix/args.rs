//! Valid arguments for each server function of the authorization matrix, aimed at a target's objects: a
//! cell that fails deserialisation would test nothing, so every function gets arguments it accepts.

use super::world::Target;
use crate::harness::PASSWORD;

pub const NEW_PASSWORD: &str = "another horse, another battery";
/// A trusted issuer's pasted key set (the key is never used to sign).
pub const JWKS: &str = r#"{"keys":[{"kty":"OKP","crv":"Ed25519","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo","kid":"k1","alg":"EdDSA","use":"sig"}]}"#;

/// Valid arguments for each server function, aimed at `t`; `n` makes new names unique.
pub fn args(endpoint: &str, t: &Target, n: usize) -> Vec<(&'static str, String)> {
    let v = |pairs: &[(&'static str, &str)]| pairs.iter().map(|(k, v)| (*k, v.to_string())).collect::<Vec<_>>();
    let (name, email, slug, issuer) =
        (format!("bot-{n}"), format!("new-{n}@matrix.test"), format!("made-{n}"), format!("https://issuer-{n}.test"));
    match endpoint {
        "viewer" | "logout" | "agents/list" | "agents/options" | "people" | "people/admin" => vec![],
        "audit/verify" | "audit/verify/status" => vec![],
        "login" => v(&[("email", "admin@matrix.test"), ("password", PASSWORD)]),
        "account/password" => v(&[("current", PASSWORD), ("new", NEW_PASSWORD), ("confirm", NEW_PASSWORD)]),
        "queue/page" => v(&[
            ("filter[tenant]", &t.tenant),
            ("filter[action]", ""),
            ("filter[tier]", ""),
            ("filter[agent]", &t.agent),
            ("filter[after]", ""),
        ]),
        "queue/case" | "queue/renew" | "queue/release" => v(&[("id", &t.held)]),
        "queue/claim" => v(&[("id", &t.held), ("take_over", "true")]),
        "queue/step-up" => v(&[("password", PASSWORD)]),
        "queue/decide" => v(&[
            ("id", &t.held),
            ("form[verdict]", "deny"),
            ("form[amount]", ""),
            ("form[preset]", ""),
            ("form[reason]", "not this one"),
        ]),
        "history/page" | "audit/page" => v(&[("filter[tenant]", &t.tenant)]),
        "history/record" => v(&[("id", &t.decided)]),
        "insights" => v(&[("tenant", &t.tenant), ("days", "30")]),
        "insights/sample" => v(&[("tenant", &t.tenant), ("days", "30"), ("size", "1")]),
        "insights/verdict" => v(&[("sample", &t.sample), ("verdict", "agree"), ("note", "fine")]),
        "tenants/add" => v(&[("slug", &slug), ("name", "Made here")]),
        "agents/create" => v(&[
            ("tenant", &t.tenant),
            ("name", &name),
            ("purpose", "made by the matrix"),
            ("owner", &t.owner),
            ("sponsor", ""),
            ("allowances", "refund:10.00EUR"),
            ("webhook_url", ""),
        ]),
        "agents/issuers/add" => v(&[
            ("tenant", &t.tenant),
            ("issuer", &issuer),
            ("audience", "countersign"),
            ("jwks_url", ""),
            ("jwks", JWKS),
        ]),
        "agents/issuers/change" => {
            v(&[("id", &t.issuer), ("audience", "countersign-2"), ("jwks_url", ""), ("jwks", JWKS)])
        }
        "agents/issuers/remove" => v(&[("id", &t.issuer), ("confirm", &t.issuer_name)]),
        "people/add" => v(&[
            ("email", &email),
            ("name", "New Person"),
            ("roles[0]", "supervisor"),
            ("tenants[0]", &t.tenant),
            ("password", "a one-time password 4711"),
        ]),
        "people/edit" => v(&[("person", &t.person), ("roles[0]", "auditor"), ("tenants[0]", &t.tenant)]),
        "people/active" => v(&[("person", &t.person), ("active", "false")]),
        "people/unlock" => v(&[("person", &t.person)]),
        "agents/get" => v(&[("id", &t.agent)]),
        "agents/update" => v(&[
            ("id", &t.agent),
            ("purpose", &format!("{} purpose", t.tenant)),
            ("allowances", "refund:500.00EUR"),
            ("webhook_url", "http://127.0.0.1:9/hook"),
        ]),
        "agents/credentials/mint" => v(&[("agent", &t.agent), ("ttl", "24h")]),
        "agents/credentials/revoke" => v(&[("credential", &t.credential)]),
        "agents/deliveries/redeliver" => v(&[("delivery", &t.delivery)]),
        "agents/state" => v(&[("agent", &t.agent), ("change", "suspend"), ("reason", "matrix"), ("confirm", "")]),
        "agents/handover/propose" => v(&[("agent", &t.agent), ("to", &t.gus)]),
        "agents/handover/answer" => v(&[("handover", &t.handover), ("accept", "false")]),
        "agents/handover/withdraw" => v(&[("handover", &t.handover)]),
        "agents/sponsor" => v(&[("agent", &t.agent), ("sponsor", "")]),
        "agents/review/evidence" => v(&[("agent", &t.agent)]),
        "agents/review/attest" => {
            v(&[("agent", &t.agent), ("decision", "keep"), ("allowances", ""), ("note", "still needed")])
        }
        other => panic!("no arguments for /api/{other} in the authorization matrix: add valid ones"),
    }
}
