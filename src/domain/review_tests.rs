use super::*;
use crate::domain::access::Memberships;
use crate::domain::provenance::{Path, Provision, Provisioned, Tie};
use time::macros::datetime;

const NOW: OffsetDateTime = datetime!(2026-11-23 10:00 UTC);
const TENANT: Uuid = Uuid::from_u128(1);
const OWNER: Uuid = Uuid::from_u128(2);
const SPONSOR: Uuid = Uuid::from_u128(3);
const ALICE: Uuid = Uuid::from_u128(4);
const BOB: Uuid = Uuid::from_u128(5);

fn eur(v: &str) -> Money {
    Money::parse(v, "EUR").unwrap()
}

fn reviewer(user: Uuid) -> Reviewer {
    Reviewer { user, memberships: Memberships::uniform(&[Role::Supervisor], &[TENANT]), stepped_up_at: None }
}

fn facts<'a>(tier: RiskTier, amount: Option<&'a Money>, approvals: &'a [(Uuid, Option<Money>)]) -> Facts<'a> {
    Facts {
        tenant: TENANT,
        owner: OWNER,
        sponsor: Some(SPONSOR),
        tier,
        status: HeldStatus::Pending,
        expires_at: NOW + Duration::minutes(30),
        amount,
        approvals,
        agent: AgentState::Active,
        producers: &[],
        provisioned: &[],
        credential_revoked: false,
        out_of_scope: None,
        lapsed: &[],
    }
}

#[test]
fn high_needs_one_approval() {
    let amount = eur("129.90");
    let effect =
        cast(&reviewer(ALICE), &facts(RiskTier::High, Some(&amount), &[]), &Vote::Approve { amount: None }, NOW);
    assert_eq!(effect, Ok(Effect::Approved { approvals: 1, amount: None }));
}

#[test]
fn critical_needs_two_distinct_approvers_each_stepped_up() {
    let f = facts(RiskTier::Critical, None, &[]);
    let approve = Vote::Approve { amount: None };
    assert_eq!(cast(&reviewer(ALICE), &f, &approve, NOW), Err(Refusal::StepUpNeeded));
    let stale = Reviewer { stepped_up_at: Some(NOW - Duration::minutes(6)), ..reviewer(ALICE) };
    assert_eq!(cast(&stale, &f, &approve, NOW), Err(Refusal::StepUpNeeded), "a step-up older than 5 minutes");
    let alice = Reviewer { stepped_up_at: Some(NOW - Duration::minutes(4)), ..reviewer(ALICE) };
    assert_eq!(cast(&alice, &f, &approve, NOW), Ok(Effect::Counted { approvals: 1, needed: 2 }));

    let after_alice = [(ALICE, None)];
    let f = facts(RiskTier::Critical, None, &after_alice);
    assert_eq!(cast(&alice, &f, &approve, NOW), Err(Refusal::AlreadyVoted), "nobody counts twice");
    let bob = Reviewer { stepped_up_at: Some(NOW), ..reviewer(BOB) };
    assert_eq!(cast(&bob, &f, &approve, NOW), Ok(Effect::Approved { approvals: 2, amount: None }));
}

#[test]
fn a_deny_is_final_and_needs_a_reason() {
    let after_alice = [(ALICE, None)];
    let f = facts(RiskTier::Critical, None, &after_alice);
    let deny = |r: &str| Vote::Deny { reason: r.into() };
    assert_eq!(cast(&reviewer(BOB), &f, &deny("  "), NOW), Err(Refusal::ReasonRequired));
    assert_eq!(cast(&reviewer(BOB), &f, &deny(" fraud "), NOW), Ok(Effect::Denied { reason: "fraud".into() }));
}

#[test]
fn separation_of_duties() {
    let f = facts(RiskTier::High, None, &[]);
    let approve = Vote::Approve { amount: None };
    assert_eq!(cast(&reviewer(OWNER), &f, &approve, NOW), Err(Refusal::OwnsAgent));
    assert_eq!(cast(&reviewer(SPONSOR), &f, &approve, NOW), Err(Refusal::SponsorsAgent));
    let outsider =
        Reviewer { memberships: Memberships::uniform(&[Role::Supervisor], &[Uuid::from_u128(9)]), ..reviewer(ALICE) };
    assert_eq!(cast(&outsider, &f, &approve, NOW), Err(Refusal::OtherTenant));
    let auditor =
        Reviewer { memberships: Memberships::uniform(&[Role::Auditor, Role::Admin], &[TENANT]), ..reviewer(ALICE) };
    assert_eq!(cast(&auditor, &f, &approve, NOW), Err(Refusal::NotAReviewer));
    // A supervisor of another tenant who only audits this one does not decide here.
    let mixed = Reviewer {
        memberships: Memberships {
            tenants: vec![(Uuid::from_u128(9), vec![Role::Supervisor]), (TENANT, vec![Role::Auditor])],
            outside: vec![],
        },
        ..reviewer(ALICE)
    };
    assert_eq!(cast(&mixed, &f, &approve, NOW), Err(Refusal::NotAReviewer));
}

#[test]
fn late_votes_are_refused() {
    let mut f = facts(RiskTier::High, None, &[]);
    f.expires_at = NOW;
    assert_eq!(cast(&reviewer(ALICE), &f, &Vote::Approve { amount: None }, NOW), Err(Refusal::Expired));
    f.status = HeldStatus::Denied;
    assert_eq!(cast(&reviewer(ALICE), &f, &Vote::Approve { amount: None }, NOW), Err(Refusal::NotPending));
}

#[test]
fn approvals_narrow_never_widen() {
    let requested = eur("129.90");
    assert_eq!(narrowed(Some(&requested), Some(eur("100.00"))), Ok(Some(eur("100.00"))));
    assert_eq!(narrowed(Some(&requested), Some(eur("129.90"))), Ok(None), "the same amount is no narrowing");
    assert!(matches!(narrowed(Some(&requested), Some(eur("129.91"))), Err(Refusal::BadAmount(_))));
    assert!(matches!(narrowed(Some(&requested), Some(eur("0"))), Err(Refusal::BadAmount(_))));
    let usd = Money::parse("10.00", "USD").unwrap();
    assert!(matches!(narrowed(Some(&requested), Some(usd)), Err(Refusal::BadAmount(_))));
    assert!(matches!(narrowed(None, Some(eur("1.00"))), Err(Refusal::BadAmount(_))));
}

#[test]
fn the_outcome_is_the_lowest_amount_any_approver_allowed() {
    let requested = eur("500.00");
    let first = [(ALICE, Some(eur("300.00")))];
    let bob = Reviewer { stepped_up_at: Some(NOW), ..reviewer(BOB) };
    let f = facts(RiskTier::Critical, Some(&requested), &first);
    let effect = cast(&bob, &f, &Vote::Approve { amount: Some(eur("400.00")) }, NOW);
    assert_eq!(effect, Ok(Effect::Approved { approvals: 2, amount: Some(eur("300.00")) }));
}

#[test]
fn deny_reasons_are_a_preset_free_text_or_both() {
    assert_eq!(deny_reason("", ""), Err(Refusal::ReasonRequired));
    assert_eq!(deny_reason(DENY_REASONS[0], ""), Ok(DENY_REASONS[0].to_string()));
    assert_eq!(deny_reason("", " call the bank "), Ok("call the bank".to_string()));
    assert_eq!(deny_reason(DENY_REASONS[1], "x"), Ok(format!("{}: x", DENY_REASONS[1])));
    assert!(matches!(deny_reason("made up", ""), Err(Refusal::UnknownReason(_))));
}

#[test]
fn claims_lapse_renew_and_can_be_taken_over() {
    let held = |user, mins| Some(Claim { user, until: NOW + Duration::minutes(mins) });
    assert_eq!(claim(None, ALICE, false, NOW), ClaimOutcome::Claimed);
    assert_eq!(claim(held(ALICE, 3), ALICE, false, NOW), ClaimOutcome::Renewed);
    assert_eq!(
        claim(held(BOB, 3), ALICE, false, NOW),
        ClaimOutcome::HeldBy(Claim { user: BOB, until: NOW + Duration::minutes(3) })
    );
    assert_eq!(claim(held(BOB, 3), ALICE, true, NOW), ClaimOutcome::TakenOver { from: BOB });
    assert_eq!(claim(held(BOB, 0), ALICE, false, NOW), ClaimOutcome::Claimed, "a lapsed claim is free");
}

#[test]
fn a_suspended_agents_action_may_be_denied_not_approved() {
    let f = Facts { agent: AgentState::Suspended, ..facts(RiskTier::High, None, &[]) };
    let approve = cast(&reviewer(ALICE), &f, &Vote::Approve { amount: None }, NOW);
    assert_eq!(approve, Err(Refusal::AgentNotActive("suspended")));
    let deny = cast(&reviewer(ALICE), &f, &Vote::Deny { reason: "agent under investigation".into() }, NOW);
    assert!(matches!(deny, Ok(Effect::Denied { .. })));
}

#[test]
fn an_approval_from_who_now_owns_the_agent_does_not_count() {
    // OWNER approved before a hand-over made them owner; BOB's approval alone cannot reach a critical quorum.
    let earlier = [(OWNER, None)];
    let mut bob = reviewer(BOB);
    bob.stepped_up_at = Some(NOW);
    let effect = cast(&bob, &facts(RiskTier::Critical, None, &earlier), &Vote::Approve { amount: None }, NOW);
    assert_eq!(effect, Ok(Effect::Counted { approvals: 1, needed: 2 }));
    let sponsor_vote = [(SPONSOR, None)];
    let effect = cast(&bob, &facts(RiskTier::High, None, &sponsor_vote), &Vote::Approve { amount: None }, NOW);
    assert_eq!(effect, Ok(Effect::Approved { approvals: 1, amount: None }));
}

#[test]
fn whoever_could_have_produced_the_request_does_not_decide_it() {
    let base = facts(RiskTier::High, None, &[]);
    let deny = Vote::Deny { reason: "no".into() };
    let approve = Vote::Approve { amount: None };
    for path in Path::ALL {
        let producers = [(ALICE, path)];
        let f = Facts { producers: &producers, ..base.clone() };
        let refusal = Refusal::NotIndependent(Tie::Produced(path));
        assert_eq!(cast(&reviewer(ALICE), &f, &approve, NOW), Err(refusal.clone()));
        assert_eq!(cast(&reviewer(ALICE), &f, &deny, NOW), Err(refusal));
        assert!(matches!(cast(&reviewer(BOB), &f, &approve, NOW), Ok(Effect::Approved { .. })), "others may");
        // BOB's account, made by ALICE, is hers to use: he is refused too, and his earlier approval lapses.
        for how in Provision::ALL {
            let made = [Provisioned { user: BOB, by: ALICE, how }];
            let f = Facts { producers: &producers, provisioned: &made, ..base.clone() };
            let refusal = Refusal::NotIndependent(Tie::ProvisionedBy(how, path));
            assert_eq!(cast(&reviewer(BOB), &f, &approve, NOW), Err(refusal));
            let earlier = [(BOB, None)];
            let mut carol = reviewer(Uuid::from_u128(6));
            carol.stepped_up_at = Some(NOW);
            let f = Facts { producers: &producers, provisioned: &made, ..facts(RiskTier::Critical, None, &earlier) };
            assert_eq!(cast(&carol, &f, &approve, NOW), Ok(Effect::Counted { approvals: 1, needed: 2 }));
        }
    }
}

#[test]
fn authority_is_weighed_as_it_is_when_the_vote_counts() {
    let base = facts(RiskTier::High, None, &[]);
    let approve = Vote::Approve { amount: None };
    let revoked = Facts { credential_revoked: true, ..base.clone() };
    assert_eq!(cast(&reviewer(ALICE), &revoked, &approve, NOW), Err(Refusal::CredentialRevoked));
    let narrowed = Facts { out_of_scope: Some("refund is limited to 100.00 EUR".into()), ..base.clone() };
    assert!(matches!(cast(&reviewer(ALICE), &narrowed, &approve, NOW), Err(Refusal::OutOfScope(_))));
    let deny = Vote::Deny { reason: "outside its scope".into() };
    assert!(matches!(cast(&reviewer(ALICE), &narrowed, &deny, NOW), Ok(Effect::Denied { .. })), "denying stays open");

    // ALICE's first critical approval stops counting once she is disabled or no longer a supervisor.
    let earlier = [(ALICE, None)];
    let lapsed = [ALICE];
    let mut bob = reviewer(BOB);
    bob.stepped_up_at = Some(NOW);
    let f = Facts { lapsed: &lapsed, ..facts(RiskTier::Critical, None, &earlier) };
    assert_eq!(cast(&bob, &f, &approve, NOW), Ok(Effect::Counted { approvals: 1, needed: 2 }));
    let f = facts(RiskTier::Critical, None, &earlier);
    assert_eq!(cast(&bob, &f, &approve, NOW), Ok(Effect::Approved { approvals: 2, amount: None }));
}
