//! Checklist templates for inspections and ratings: the template format of `FORMAT.md` as types,
//! a loader that reports every problem of a template file with its line, the built-in catalog
//! embedded from `checklists/templates/`, and the evaluation of a filled checklist into findings,
//! scores and rectification-notice groups.
//!
//! Invariant: evaluation is a pure function of the template and the filled checklist — no clock,
//! no randomness, no I/O, and nothing ordered by a hash. Only the loader's `load_file`/`load_dir`
//! read files. This crate knows nothing of Temporal, the database, mail or the web console.

pub mod catalog;
pub mod evaluate;
pub mod load;
pub mod model;
pub mod notice;

pub use catalog::{Catalog, pinned};
pub use evaluate::{Answer, AnswerLimits, AnswerProblem, Evaluation, Evidence, Filled, Finding, SectionScore, Total, check_bounds, evaluate};
pub use load::{Problem, load_dir, load_file, load_path, load_str};
pub use model::{AnswerSpec, Basis, Choice, DeadlineClass, EvidenceKind, Failure, Hazard, Item, Kind, Section, Severity, ShowIf, Template, Text, YesNo};
pub use notice::{NoticeGroup, group_notices};
