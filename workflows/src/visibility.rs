//! What a workflow shows in Temporal's UI and CLI: its custom search attributes and its memo.
//!
//! The attributes are declared once, here: the embedded dev server registers [`declared`], the
//! starters (`engine::issue`, `engine::start_inspection`, `qingling doctor --repair`, an
//! inspection's child matters, continue-as-new) set [`attributes`], and the workflows upsert
//! [`STATUS`] when the status changes, behind the [`PATCH`] marker so that histories recorded
//! before it replay unchanged. Operators query them, e.g.
//! `temporal workflow list --query "QinglingFacility = 3 AND QinglingStatus = 'issued'"`.

use qingling_rules::matter::NewMatter;
use serde::{Deserialize, Serialize};
use temporalio_common::MemoValues;
use temporalio_common::protos::temporal::api::enums::v1::IndexedValueType;
use temporalio_common::search_attributes::{SearchAttributeKey, SearchAttributes};

/// `matter` or `inspection`.
pub const KIND: SearchAttributeKey<String> = SearchAttributeKey::keyword("QinglingKind");
/// The facility's id.
pub const FACILITY: SearchAttributeKey<i64> = SearchAttributeKey::int("QinglingFacility");
/// The facility's region: its administrative division code as stored (`110105` for 朝阳区).
pub const REGION: SearchAttributeKey<String> = SearchAttributeKey::keyword("QinglingRegion");
/// The matter's or inspection's status as the rules name it (`issued`, `acknowledged` …;
/// `assigned`, `in_progress` …).
pub const STATUS: SearchAttributeKey<String> = SearchAttributeKey::keyword("QinglingStatus");

/// The value of [`KIND`] for a rectification matter.
pub const MATTER: &str = "matter";
/// The value of [`KIND`] for an inspection.
pub const INSPECTION: &str = "inspection";

/// The patch marker that guards the workflows' own visibility commands (upserting the status and
/// the memo, attributes on an inspection's child matters): a history recorded without it replays
/// without them.
pub const PATCH: &str = "qingling-visibility";

/// Memo keys (free text for people, not indexed).
pub const MEMO_FACILITY: &str = "facility";
pub const MEMO_TITLE: &str = "title";
pub const MEMO_NOTICE: &str = "notice_number";
pub const MEMO_DATE: &str = "date";

/// Every custom search attribute, as `(name, type)` in the spelling of the CLI's
/// `--search-attribute Name=Type` and `temporal operator search-attribute create --type`.
pub fn declared() -> Vec<(&'static str, &'static str)> {
    let keyword = |k: SearchAttributeKey<String>| (k.name(), cli_type(k.indexed_value_type()));
    vec![keyword(KIND), (FACILITY.name(), cli_type(FACILITY.indexed_value_type())), keyword(REGION), keyword(STATUS)]
}

/// The type name the Temporal CLI takes for an indexed value type.
pub fn cli_type(ty: IndexedValueType) -> &'static str {
    match ty {
        IndexedValueType::Text => "Text",
        IndexedValueType::Keyword => "Keyword",
        IndexedValueType::Int => "Int",
        IndexedValueType::Double => "Double",
        IndexedValueType::Bool => "Bool",
        IndexedValueType::Datetime => "Datetime",
        IndexedValueType::KeywordList => "KeywordList",
        IndexedValueType::Unspecified => "Unspecified",
    }
}

/// The facts about a facility a workflow carries for visibility, looked up by the starter (the
/// workflow never reads the database). Empty in inputs recorded before they existed.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FacilityFacts {
    #[serde(default)]
    pub name: String,
    /// The region's administrative division code.
    #[serde(default)]
    pub region: String,
}

/// The search attributes a workflow starts with. An unknown region (an old input) is left out
/// rather than set empty.
pub fn attributes(kind: &str, facility_id: i64, facility: &FacilityFacts, status: &str) -> SearchAttributes {
    let mut set = vec![KIND.value_set(kind.to_string()), FACILITY.value_set(facility_id), STATUS.value_set(status.to_string())];
    if !facility.region.is_empty() {
        set.push(REGION.value_set(facility.region.clone()));
    }
    SearchAttributes::new(set)
}

/// A matter's memo: the facility's name, the title, and the notice number once it is known.
pub fn matter_memo(new: &NewMatter, facility: &FacilityFacts, notice_number: Option<&str>) -> MemoValues {
    let mut memo = MemoValues::new();
    if !facility.name.is_empty() {
        memo.insert(MEMO_FACILITY, facility.name.clone());
    }
    memo.insert(MEMO_TITLE, new.title.clone());
    if let Some(n) = notice_number {
        memo.insert(MEMO_NOTICE, n.to_string());
    }
    memo
}

/// An inspection's memo: the facility's name, the checklist's title and the inspection day.
pub fn inspection_memo(facility: &FacilityFacts, checklist_title: &str, date: &str) -> MemoValues {
    let mut memo = MemoValues::new();
    if !facility.name.is_empty() {
        memo.insert(MEMO_FACILITY, facility.name.clone());
    }
    memo.insert(MEMO_TITLE, checklist_title.to_string());
    memo.insert(MEMO_DATE, date.to_string());
    memo
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_attribute_is_declared_once_with_its_cli_type() {
        let declared = declared();
        assert_eq!(declared, vec![("QinglingKind", "Keyword"), ("QinglingFacility", "Int"), ("QinglingRegion", "Keyword"), ("QinglingStatus", "Keyword")]);
        let mut names: Vec<_> = declared.iter().map(|(n, _)| *n).collect();
        names.dedup();
        assert_eq!(names.len(), declared.len());
    }

    #[test]
    fn an_unknown_region_is_left_out_of_the_attributes() {
        let known = attributes(MATTER, 3, &FacilityFacts { name: "x".into(), region: "110105".into() }, "issued");
        assert_eq!(known.get(&REGION).as_deref(), Some("110105"));
        assert_eq!(known.get(&FACILITY), Some(3));
        assert_eq!(known.get(&STATUS).as_deref(), Some("issued"));
        let old = attributes(MATTER, 3, &FacilityFacts::default(), "issued");
        assert!(!old.contains_key(&REGION));
        assert_eq!(old.get(&KIND).as_deref(), Some("matter"));
    }

    #[test]
    fn inputs_without_facility_facts_still_parse() {
        let facts: FacilityFacts = serde_json::from_str("{}").unwrap();
        assert_eq!(facts, FacilityFacts::default());
    }
}
