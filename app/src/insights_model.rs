//! What `/insights` shows, as the server sends it: charts already drawn as SVG (the charting library never
//! reaches the browser), each with the table of its numbers.

use crate::model::TenantRef;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Chart {
    pub id: String,
    pub title: String,
    /// What the chart shows, in a sentence, for its caption.
    pub summary: String,
    pub svg: String,
    pub columns: Vec<String>,
    pub rows: Vec<Vec<String>>,
}

/// One reviewer's approvals and how many came faster than the case could be read.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StampRow {
    pub reviewer: String,
    pub approvals: i64,
    pub fast: i64,
    /// "12 %", or "—" without approvals.
    pub share: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct InsightsView {
    pub tenants: Vec<TenantRef>,
    pub tenant: String,
    pub days: i64,
    pub periods: Vec<i64>,
    pub from: String,
    pub to: String,
    pub charts: Vec<Chart>,
    pub stamps: Vec<StampRow>,
    /// How the rubber-stamp threshold is set, in words.
    pub threshold: String,
    pub samples: Vec<SampleRow>,
    pub disagreement: Vec<DisagreementRow>,
    pub max_sample: i64,
}

/// A decision drawn for re-review.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SampleRow {
    pub id: String,
    pub held_action: String,
    pub action: String,
    pub status: String,
    pub decided_by: String,
    pub drawn_at: String,
    pub verdict: Option<String>,
    pub note: Option<String>,
    pub reviewed_by: Option<String>,
}

/// How often re-review disagreed with one reviewer's decisions.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DisagreementRow {
    pub reviewer: String,
    pub reviewed: i64,
    pub disagreed: i64,
    pub rate: String,
}
