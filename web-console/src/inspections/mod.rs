//! Inspections: assigning one, the tablet checklist (filled offline, synced, co-signed) and its
//! submission, which issues the numbered notices and opens their matters. The decisions are
//! `qingling_rules::inspection`'s; the `Inspection` workflow carries them out.

pub mod api;
pub mod pages;
