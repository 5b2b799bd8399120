//! `[campaign]` of the policy file: the rules of a 双随机 campaign (RULES.md §2). The file says
//! them as the resolved policy keeps them.

use super::{Error, key_err};
use crate::draw::RiskClass;
use crate::duration::PolicyDuration;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// When the homes a campaign drew become public.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Reveal {
    /// A home is named only once its inspection is done (unannounced inspections stay so).
    AfterInspection,
    /// The drawn list is public as soon as the draw is.
    AtDraw,
}

/// Rules of a randomised inspection campaign (RULES.md §2).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CampaignRules {
    /// The share of each risk class a plan draws unless it says otherwise, in thousandths
    /// (typical local ceilings: A 5 %, B 20 %, C 60 %, D 100 %).
    #[serde(deserialize_with = "ratios")]
    pub ratio_permille: BTreeMap<RiskClass, u32>,
    /// The smallest team a plan may ask for (行政处罚法 art. 42: at least 2).
    pub min_team_size: u32,
    /// How many targets one inspector may be given in one campaign, unless the plan says less.
    pub load_cap: u32,
    /// Teams are assigned within this period of the draw.
    pub assign_within: PolicyDuration,
    /// The shortest interval between two runs of a recurring campaign (tests use seconds).
    pub min_interval: PolicyDuration,
    /// When drawn targets become public.
    pub reveal: Reveal,
    /// How many times a campaign's draw may be set aside (with a reason) before the teams go.
    #[serde(default = "builtin_max_supersessions")]
    pub max_supersessions: u32,
}

/// For a policy serialised before supersession existed (an old workflow input).
fn builtin_max_supersessions() -> u32 {
    super::Policy::builtin().campaign.max_supersessions
}

/// Shares by risk class, a class named by its letter.
fn ratios<'de, D: serde::Deserializer<'de>>(d: D) -> Result<BTreeMap<RiskClass, u32>, D::Error> {
    let raw = BTreeMap::<String, u32>::deserialize(d)?;
    raw.into_iter()
        .map(|(k, v)| {
            RiskClass::parse(&k).map(|r| (r, v)).ok_or_else(|| serde::de::Error::custom(format!("{k:?} is not a risk class; the classes are A, B, C and D")))
        })
        .collect()
}

impl Default for CampaignRules {
    /// Only for a policy serialised before campaigns existed (an old workflow input); the
    /// numbers live in `policy/qingling.toml` alone.
    fn default() -> Self {
        super::Policy::builtin().campaign
    }
}

pub(super) fn validate(c: &CampaignRules) -> Result<(), Error> {
    for risk in RiskClass::ALL {
        match c.ratio_permille.get(&risk) {
            None => return Err(key_err(format!("campaign.ratio_permille.{}", risk.as_str()), "is missing: every risk class A to D needs a share")),
            Some(n) if *n > 1000 => {
                return Err(key_err(format!("campaign.ratio_permille.{}", risk.as_str()), format!("{n} is more than 1000 (all of them)")));
            }
            Some(_) => {}
        }
    }
    if c.min_team_size < 2 {
        return Err(key_err(
            "campaign.min_team_size",
            format!("{} is too few: an inspection team has at least 2 inspectors (行政处罚法 art. 42)", c.min_team_size),
        ));
    }
    if c.min_team_size > 20 {
        return Err(key_err("campaign.min_team_size", format!("{} is more than 20 inspectors", c.min_team_size)));
    }
    if c.max_supersessions > 10 {
        return Err(key_err("campaign.max_supersessions", format!("{} is more than 10: a draw redone that often is not a random draw", c.max_supersessions)));
    }
    if c.load_cap == 0 || c.load_cap > 1000 {
        return Err(key_err("campaign.load_cap", format!("{} is outside 1 to 1000 targets", c.load_cap)));
    }
    if c.assign_within.is_zero() {
        return Err(key_err("campaign.assign_within", "must be longer than zero"));
    }
    if c.min_interval.is_zero() {
        return Err(key_err("campaign.min_interval", "must be longer than zero"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::super::tests::{assert_refused, builtin_without};
    use super::*;
    use crate::Policy;

    #[test]
    fn the_builtin_campaign_rules_are_the_rules_numbers() {
        let c = Policy::builtin().campaign;
        let ratios: Vec<(RiskClass, u32)> = c.ratio_permille.into_iter().collect();
        assert_eq!(ratios, [(RiskClass::A, 50), (RiskClass::B, 200), (RiskClass::C, 600), (RiskClass::D, 1000)]);
        assert_eq!((c.min_team_size, c.assign_within, c.reveal), (2, PolicyDuration::WorkingDays(2), Reveal::AfterInspection));
    }

    #[test]
    fn bad_campaign_rules_are_named_with_the_reason() {
        assert_refused(&[
            ("[campaign]\nmin_team_size = 1", "`campaign.min_team_size`: 1 is too few"),
            ("[campaign.ratio_permille]\nB = 1001", "`campaign.ratio_permille.B`: 1001 is more than 1000"),
            ("[campaign.ratio_permille]\nE = 10", "`campaign.ratio_permille`: \"E\" is not a risk class; the classes are A, B, C and D"),
            ("[campaign]\nload_cap = 0", "`campaign.load_cap`: 0 is outside 1 to 1000"),
            ("[campaign]\nassign_within = \"0wd\"", "`campaign.assign_within`: must be longer than zero"),
            ("[campaign]\nmin_interval = \"0s\"", "`campaign.min_interval`: must be longer than zero"),
            ("[campaign]\nreveal = \"never\"", "`campaign.reveal`: unknown variant `never`"),
            ("[campaign]\nteams = 2", "`campaign.teams`: unknown field"),
        ]);
        assert!(builtin_without("campaign").contains("missing field `campaign`"));
        assert!(builtin_without("campaign.ratio_permille.D").contains("`campaign.ratio_permille.D`: is missing"));
    }

    #[test]
    fn a_policy_serialised_before_campaigns_gets_the_builtin_campaign_rules() {
        let mut old = serde_json::to_value(Policy::builtin()).unwrap();
        old.as_object_mut().unwrap().remove("campaign");
        let p: Policy = serde_json::from_value(old).unwrap();
        assert_eq!(p.campaign, Policy::builtin().campaign);
    }
}
