//! The checklist template as data: what `FORMAT.md` describes, after the loader has checked it.
//!
//! Every type is plain data (`Serialize + Deserialize + Clone + PartialEq`) so a template can
//! travel inside a Temporal workflow input as JSON and come back unchanged.

use serde::{Deserialize, Serialize};

/// A text in both languages of the console.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Text {
    pub zh: String,
    pub en: String,
}

impl Text {
    pub fn new(zh: impl Into<String>, en: impl Into<String>) -> Self {
        Self { zh: zh.into(), en: en.into() }
    }
}

/// What kind of inspection a sheet is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    ServiceSafety,
    FireSafety,
    /// A quality rating sheet: the only kind whose items, sections and total carry points.
    Rating,
    Joint,
}

impl Kind {
    pub const ALL: [Kind; 4] = [Kind::ServiceSafety, Kind::FireSafety, Kind::Rating, Kind::Joint];

    pub fn as_str(self) -> &'static str {
        match self {
            Kind::ServiceSafety => "service_safety",
            Kind::FireSafety => "fire_safety",
            Kind::Rating => "rating",
            Kind::Joint => "joint",
        }
    }
}

/// One version of a checklist template (`<id>@<version>.toml`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Template {
    pub id: String,
    pub version: u32,
    pub kind: Kind,
    pub title: Text,
    /// The standard or document the whole sheet follows.
    pub basis: String,
    /// Rating sheets only: the sum of the section points.
    pub total_points: Option<u32>,
    pub sections: Vec<Section>,
}

impl Template {
    /// Every item in template order, with the section it belongs to.
    pub fn items(&self) -> impl Iterator<Item = (&Section, &Item)> {
        self.sections.iter().flat_map(|s| s.items.iter().map(move |i| (s, i)))
    }

    pub fn item(&self, id: &str) -> Option<&Item> {
        self.items().map(|(_, i)| i).find(|i| i.id == id)
    }

    pub fn item_count(&self) -> usize {
        self.sections.iter().map(|s| s.items.len()).sum()
    }

    /// `id@version`, as in the file name.
    pub fn key(&self) -> String {
        format!("{}@{}", self.id, self.version)
    }

    /// The SHA-256 (hex) of the template's canonical JSON: what a published version is pinned
    /// to (`checklists/pinned.toml`) and what an inspection stores with the copy it was
    /// assigned. Comments and layout of the TOML file do not count; any change of content does.
    pub fn content_hash(&self) -> String {
        use sha2::{Digest, Sha256};
        let json = serde_json::to_vec(self).expect("a template serialises");
        Sha256::digest(&json).iter().map(|b| format!("{b:02x}")).collect()
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Section {
    pub id: String,
    pub title: Text,
    /// Rating sheets only: the sum of its items' (maximum) points.
    pub points: Option<u32>,
    pub items: Vec<Item>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Item {
    pub id: String,
    pub text: Text,
    pub answer: AnswerSpec,
    /// A required item must be answered when it is shown.
    pub required: bool,
    /// Rating sheets only: the points awarded when the item passes (for a choice item, choices
    /// with their own points replace it).
    pub points: Option<u32>,
    pub show_if: Option<ShowIf>,
    /// Present exactly when the item can fail.
    pub failure: Option<Failure>,
}

impl Item {
    /// Whether some valid answer makes the item fail.
    pub fn can_fail(&self) -> bool {
        self.answer.can_fail()
    }

    /// The most points the item can award: its own points, or for a choice item the best choice.
    pub fn max_points(&self) -> u32 {
        self.answer.max_points(self.points)
    }

    /// The points a choice awards: its own points, else the item's points unless it fails.
    pub fn choice_points(&self, choice: &Choice) -> u32 {
        choice.points_awarded(self.points)
    }
}

/// How an item is answered, with the fields that belong to that kind of answer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum AnswerSpec {
    YesNo {
        /// The answer that passes.
        pass: YesNo,
        /// Whether "na" (not applicable) is a valid answer.
        allow_na: bool,
    },
    Number {
        /// Bounds of a valid answer (inclusive).
        min: f64,
        max: f64,
        unit: Option<Text>,
        /// Outside these (inclusive) bounds the item fails.
        pass_min: Option<f64>,
        pass_max: Option<f64>,
    },
    Choice {
        choices: Vec<Choice>,
    },
    Text,
    Photo {
        /// A photo item takes 1..=max_photos photos.
        max_photos: u32,
    },
}

impl AnswerSpec {
    /// The name used in the template (`answer = "…"`).
    pub fn name(&self) -> &'static str {
        match self {
            AnswerSpec::YesNo { .. } => "yes_no",
            AnswerSpec::Number { .. } => "number",
            AnswerSpec::Choice { .. } => "choice",
            AnswerSpec::Text => "text",
            AnswerSpec::Photo { .. } => "photo",
        }
    }

    /// The most points an item with this answer and `item_points` can award.
    pub fn max_points(&self, item_points: Option<u32>) -> u32 {
        match self {
            AnswerSpec::Choice { choices } => choices.iter().map(|c| c.points_awarded(item_points)).max().unwrap_or(0),
            _ => item_points.unwrap_or(0),
        }
    }

    pub fn can_fail(&self) -> bool {
        match self {
            AnswerSpec::YesNo { .. } => true,
            AnswerSpec::Number { pass_min, pass_max, .. } => pass_min.is_some() || pass_max.is_some(),
            AnswerSpec::Choice { choices } => choices.iter().any(|c| c.fails),
            AnswerSpec::Text | AnswerSpec::Photo { .. } => false,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum YesNo {
    Yes,
    No,
}

impl YesNo {
    pub fn as_str(self) -> &'static str {
        match self {
            YesNo::Yes => "yes",
            YesNo::No => "no",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Choice {
    pub id: String,
    pub label: Text,
    /// Choosing this option makes the item fail.
    pub fails: bool,
    /// Rating sheets only: replaces the item's points when this option is chosen.
    pub points: Option<u32>,
}

impl Choice {
    /// Its own points ("points per choice replace the item's points"), else the item's points
    /// unless the choice fails.
    pub fn points_awarded(&self, item_points: Option<u32>) -> u32 {
        match self.points {
            Some(p) => p,
            None if self.fails => 0,
            None => item_points.unwrap_or(0),
        }
    }
}

/// The item is shown (and required) only if an earlier item's answer equals `equals`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShowIf {
    pub item: String,
    /// `yes`/`no`/`na`, a choice id, a number written as a string, or a text answer.
    pub equals: String,
}

/// How a failed item is reported.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Failure {
    pub severity: Severity,
    pub hazard: Hazard,
    pub basis: Basis,
    /// What the inspector must attach when the item fails.
    pub evidence: Vec<EvidenceKind>,
    pub deadline: DeadlineClass,
    /// The wording the rectification notice uses.
    pub notice: Text,
    /// Major hazards only: the immediate measures the notice orders.
    pub measures: Option<Text>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    Minor,
    Ordinary,
    MajorHazard,
}

impl Severity {
    pub const ALL: [Severity; 3] = [Severity::Minor, Severity::Ordinary, Severity::MajorHazard];

    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Minor => "minor",
            Severity::Ordinary => "ordinary",
            Severity::MajorHazard => "major_hazard",
        }
    }
}

/// Hazard categories. The five categories of the 2023 major-accident-hazard criteria map to
/// `Building`, `Qualification`, `Management`, `IllegalService` and `Other`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Hazard {
    Fire,
    Building,
    FoodDrug,
    Hygiene,
    CareRisk,
    Qualification,
    Management,
    IllegalService,
    Information,
    Other,
}

impl Hazard {
    pub const ALL: [Hazard; 10] = [
        Hazard::Fire,
        Hazard::Building,
        Hazard::FoodDrug,
        Hazard::Hygiene,
        Hazard::CareRisk,
        Hazard::Qualification,
        Hazard::Management,
        Hazard::IllegalService,
        Hazard::Information,
        Hazard::Other,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Hazard::Fire => "fire",
            Hazard::Building => "building",
            Hazard::FoodDrug => "food_drug",
            Hazard::Hygiene => "hygiene",
            Hazard::CareRisk => "care_risk",
            Hazard::Qualification => "qualification",
            Hazard::Management => "management",
            Hazard::IllegalService => "illegal_service",
            Hazard::Information => "information",
            Hazard::Other => "other",
        }
    }
}

/// The standard and clause a failure is measured against.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Basis {
    pub standard: String,
    pub clause: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EvidenceKind {
    Photo,
    Note,
}

impl EvidenceKind {
    pub const ALL: [EvidenceKind; 2] = [EvidenceKind::Photo, EvidenceKind::Note];

    pub fn as_str(self) -> &'static str {
        match self {
            EvidenceKind::Photo => "photo",
            EvidenceKind::Note => "note",
        }
    }
}

/// The 13710 deadline class a failure is rectified under.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DeadlineClass {
    Immediate,
    Ordinary,
    Major,
}

impl DeadlineClass {
    pub const ALL: [DeadlineClass; 3] = [DeadlineClass::Immediate, DeadlineClass::Ordinary, DeadlineClass::Major];

    pub fn as_str(self) -> &'static str {
        match self {
            DeadlineClass::Immediate => "immediate",
            DeadlineClass::Ordinary => "ordinary",
            DeadlineClass::Major => "major",
        }
    }
}
