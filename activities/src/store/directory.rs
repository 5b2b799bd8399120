//! The two directories of 双随机 (RULES.md §2): imports checked whole by `rules::directory` and
//! then written in one transaction or not at all, exports, and the snapshots a draw names.
//!
//! Who may change what: an administrator every district; a supervisor the districts of their
//! region (a district, or every district under their city or province). Anyone else nothing.
//! A snapshot is the directory as the draw reads it (`rules::draw::Target`, `InspectorDirectory`)
//! in canonical JSON, addressed by its SHA-256; one is recorded in the transaction of every change,
//! and again when a campaign commits (with the homes' open hazards and inspections of that day).

use super::Store;
use crate::db::entities::{
    directory_conflict as dc, directory_inspector as di, directory_snapshot as ds, directory_target as dt, facility, inspection, matter, region, user,
};
use crate::{Error, Result};
use qingling_rules::directory::{self, Availability, ConflictRecord, Districts, InspectorRecord, Kind, Refused, Table, TargetRecord};
use qingling_rules::draw::{self, Conflict, Inspector, InspectorDirectory, RiskClass, Target};
use qingling_rules::inspection::InspectionStatus;
use qingling_rules::matter::{Severity, Status};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveValue::{NotSet, Set},
    ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect, TransactionTrait,
};
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};

/// Rows written per `INSERT` (well under SQLite's 32,766 parameters).
const CHUNK: usize = 500;

/// What an import does with the entries of the importer's districts that its table leaves out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Mode {
    /// Adds and changes; leaves out nothing.
    #[default]
    Merge,
    /// The table is the whole directory of the importer's districts: what it leaves out is removed.
    Replace,
    /// [`Mode::Merge`] of one row edited in the console (its snapshot's cause is `edit`).
    Edit,
    /// [`Mode::Replace`] by the rest of the rows when one is removed in the console (`edit`).
    Remove,
}

impl Mode {
    /// Whether what the table leaves out is removed.
    fn replaces(self) -> bool {
        matches!(self, Mode::Replace | Mode::Remove)
    }

    /// The cause the snapshot of the write names.
    fn cause(self) -> &'static str {
        match self {
            Mode::Merge | Mode::Replace => "import",
            Mode::Edit | Mode::Remove => "edit",
        }
    }
}

/// Which snapshot.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SnapshotKind {
    Targets,
    /// The inspectors and their declared conflicts.
    Inspectors,
}

impl SnapshotKind {
    pub fn as_str(self) -> &'static str {
        match self {
            SnapshotKind::Targets => "targets",
            SnapshotKind::Inspectors => "inspectors",
        }
    }
}

/// A snapshot's identity, without its content.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SnapshotInfo {
    pub id: i64,
    pub kind: String,
    pub sha256: String,
    pub rows: i32,
    pub cause: String,
    pub created_by: Option<i64>,
    pub created_at_ms: i64,
}

impl From<&ds::Model> for SnapshotInfo {
    fn from(m: &ds::Model) -> SnapshotInfo {
        SnapshotInfo {
            id: m.id,
            kind: m.kind.clone(),
            sha256: m.sha256.clone(),
            rows: m.rows,
            cause: m.cause.clone(),
            created_by: m.created_by,
            created_at_ms: m.created_at_ms,
        }
    }
}

/// What an import did, or (dry run) would do.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ImportSummary {
    pub kind: &'static str,
    pub rows: usize,
    pub added: usize,
    pub changed: usize,
    pub unchanged: usize,
    pub removed: usize,
    /// The keys (code, certificate) the import would remove, first 200.
    pub removing: Vec<String>,
    pub written: bool,
    /// The snapshot the written directory is now (when written).
    pub snapshot: Option<SnapshotInfo>,
}

impl ImportSummary {
    fn new(kind: Kind, rows: usize) -> ImportSummary {
        let kind = match kind {
            Kind::Targets => "targets",
            Kind::Inspectors => "inspectors",
            Kind::Conflicts => "conflicts",
        };
        ImportSummary { kind, rows, added: 0, changed: 0, unchanged: 0, removed: 0, removing: vec![], written: false, snapshot: None }
    }
    /// Commits the import's transaction: the summary of what was written, naming the snapshot.
    async fn committed(mut self, txn: sea_orm::DatabaseTransaction, snapshot: &ds::Model) -> std::result::Result<ImportSummary, ImportError> {
        txn.commit().await?;
        self.written = true;
        self.snapshot = Some(SnapshotInfo::from(snapshot));
        Ok(self)
    }
    fn remove(&mut self, key: &str) {
        self.removed += 1;
        if self.removing.len() < directory::MAX_PROBLEMS {
            self.removing.push(key.to_string());
        }
    }
}

/// An import refused: the table's problems, or the importer may change no directory.
#[derive(Debug)]
pub enum ImportError {
    Refused(Refused),
    /// Only administrators and supervisors maintain the directories.
    NotAllowed,
    Store(Error),
}

impl From<Error> for ImportError {
    fn from(e: Error) -> ImportError {
        ImportError::Store(e)
    }
}

impl From<sea_orm::DbErr> for ImportError {
    fn from(e: sea_orm::DbErr) -> ImportError {
        ImportError::Store(e.into())
    }
}

/// The regions, by id, with the district codes each may change (also what a person may plan a
/// campaign for, and see of campaigns: `store::campaigns`).
pub(super) struct Regions {
    all: BTreeMap<i64, region::Model>,
}

impl Regions {
    pub(super) async fn load<C: ConnectionTrait>(db: &C) -> Result<Regions> {
        Ok(Regions { all: region::Entity::find().all(db).await?.into_iter().map(|r| (r.id, r)).collect() })
    }
    pub(super) fn districts(&self) -> impl Iterator<Item = &region::Model> {
        self.all.values().filter(|r| r.level == "district")
    }
    fn code(&self, id: i64) -> Option<&str> {
        self.all.get(&id).map(|r| r.code.as_str())
    }
    fn district_id(&self, code: &str) -> Option<i64> {
        self.districts().find(|r| r.code == code).map(|r| r.id)
    }
    /// Whether `region` is `ancestor` or lies under it.
    pub(super) fn within(&self, mut region: i64, ancestor: i64) -> bool {
        for _ in 0..8 {
            if region == ancestor {
                return true;
            }
            match self.all.get(&region).and_then(|r| r.parent_id) {
                Some(parent) => region = parent,
                None => return false,
            }
        }
        false
    }
    /// The district codes `who` may change: `None` for every one (an administrator).
    fn writable(&self, who: &user::Model) -> std::result::Result<Option<BTreeSet<String>>, ImportError> {
        match (who.role.as_str(), who.region_id) {
            ("admin", _) => Ok(None),
            ("supervisor", Some(region)) => Ok(Some(self.districts().filter(|d| self.within(d.id, region)).map(|d| d.code.clone()).collect())),
            _ => Err(ImportError::NotAllowed),
        }
    }
    fn scope(&self, who: &user::Model, existing: BTreeMap<String, String>) -> std::result::Result<Districts, ImportError> {
        Ok(Districts { known: Some(self.districts().map(|d| d.code.clone()).collect()), writable: self.writable(who)?, existing })
    }
}

fn writable_district(writable: &Option<BTreeSet<String>>, district: &str) -> bool {
    writable.as_ref().is_none_or(|w| w.contains(district))
}

/// A home's directory entry with its facility.
struct HeldTarget {
    target: dt::Model,
    facility: facility::Model,
    record: TargetRecord,
}

async fn held_targets<C: ConnectionTrait>(db: &C, regions: &Regions) -> Result<BTreeMap<String, HeldTarget>> {
    let targets = dt::Entity::find().all(db).await?;
    let facilities: BTreeMap<i64, facility::Model> = facility::Entity::find().all(db).await?.into_iter().map(|f| (f.id, f)).collect();
    let mut out = BTreeMap::new();
    for t in targets {
        let Some(f) = facilities.get(&t.facility_id) else { continue };
        let record = TargetRecord {
            code: t.code.clone(),
            name: f.name.clone(),
            district: regions.code(f.region_id).unwrap_or_default().to_string(),
            facility_type: t.facility_type.clone(),
            beds: u32::try_from(t.beds).unwrap_or_default(),
            risk: RiskClass::parse(&t.risk).unwrap_or(RiskClass::D),
        };
        out.insert(t.code.clone(), HeldTarget { target: t, facility: f.clone(), record });
    }
    Ok(out)
}

fn inspector_record(m: &di::Model, regions: &Regions) -> InspectorRecord {
    InspectorRecord {
        certificate: m.certificate.clone(),
        name: m.name.clone(),
        district: regions.code(m.region_id).unwrap_or_default().to_string(),
        qualification: m.qualification.clone(),
        specialisms: m.specialisms.split(',').filter(|s| !s.is_empty()).map(str::to_string).collect(),
        availability: Availability::parse(&m.availability).unwrap_or(Availability::Suspended),
    }
}

async fn held_inspectors<C: ConnectionTrait>(db: &C, regions: &Regions) -> Result<BTreeMap<String, InspectorRecord>> {
    Ok(di::Entity::find().all(db).await?.iter().map(|m| (m.certificate.clone(), inspector_record(m, regions))).collect())
}

fn specialisms_text(r: &InspectorRecord) -> String {
    r.specialisms.iter().cloned().collect::<Vec<_>>().join(",")
}

/// The targets directory as a draw reads it, with each home's open major hazards and the last
/// inspection date per template.
pub async fn targets_for_draw<C: ConnectionTrait>(db: &C) -> Result<Vec<Target>> {
    let regions = Regions::load(db).await?;
    let held = held_targets(db, &regions).await?;
    let ended: Vec<&str> = Status::ALL.iter().filter(|s| s.is_ended()).map(|s| s.as_str()).collect();
    let hazards: BTreeMap<i64, i64> = matter::Entity::find()
        .select_only()
        .column(matter::Column::FacilityId)
        .column_as(Expr::col(matter::Column::Id).count(), "n")
        .filter(matter::Column::Severity.eq(Severity::Major.as_str()))
        .filter(matter::Column::Status.is_not_in(ended))
        .group_by(matter::Column::FacilityId)
        .into_tuple::<(i64, i64)>()
        .all(db)
        .await?
        .into_iter()
        .collect();
    let done = [InspectionStatus::Submitted.as_str(), InspectionStatus::Completed.as_str()];
    let mut inspected: BTreeMap<i64, BTreeMap<String, String>> = BTreeMap::new();
    for (facility, template, date) in inspection::Entity::find()
        .select_only()
        .column(inspection::Column::FacilityId)
        .column(inspection::Column::TemplateId)
        .column_as(Expr::col(inspection::Column::Date).max(), "last")
        .filter(inspection::Column::Status.is_in(done))
        .group_by(inspection::Column::FacilityId)
        .group_by(inspection::Column::TemplateId)
        .into_tuple::<(i64, String, String)>()
        .all(db)
        .await?
    {
        inspected.entry(facility).or_default().insert(template, date);
    }
    let targets = held
        .into_values()
        .map(|h| Target {
            id: h.record.code,
            district: h.record.district,
            facility_type: h.record.facility_type,
            risk: h.record.risk,
            open_major_hazards: hazards.get(&h.facility.id).map_or(0, |n| u32::try_from(*n).unwrap_or(u32::MAX)),
            // The credit lists arrive with issue 10; until then no home is listed.
            credit_listed: false,
            last_inspected: inspected.remove(&h.facility.id).unwrap_or_default(),
        })
        .collect();
    Ok(draw::canonical_targets(targets))
}

/// The inspectors' directory as a draw reads it: an inspector is available when the directory
/// says so and an inspector's account carries the certificate (a drawn inspector must be able to
/// sign in and fill the checklist).
pub async fn inspectors_for_draw<C: ConnectionTrait>(db: &C) -> Result<InspectorDirectory> {
    let regions = Regions::load(db).await?;
    let accounts: BTreeSet<String> = user::Entity::find()
        .select_only()
        .column(user::Column::Certificate)
        .filter(user::Column::Role.eq("inspector"))
        .filter(user::Column::Certificate.is_not_null())
        .into_tuple::<Option<String>>()
        .all(db)
        .await?
        .into_iter()
        .flatten()
        .collect();
    let inspectors = held_inspectors(db, &regions)
        .await?
        .into_values()
        .map(|r| Inspector {
            available: r.availability == Availability::Available && accounts.contains(&r.certificate),
            id: r.certificate,
            district: r.district,
            specialisms: r.specialisms,
        })
        .collect();
    let conflicts =
        dc::Entity::find().all(db).await?.into_iter().map(|c| Conflict { inspector: c.certificate, target: c.facility_code, relation: c.relation }).collect();
    Ok(draw::canonical_inspectors(InspectorDirectory { inspectors, conflicts }))
}

/// Records `content` as a snapshot of `kind` unless the same content is one already; returns it.
async fn record_snapshot<C: ConnectionTrait, T: Serialize>(
    db: &C,
    kind: SnapshotKind,
    content: &T,
    rows: usize,
    cause: &str,
    by: Option<i64>,
    now_ms: i64,
) -> Result<ds::Model> {
    let sha256 = draw::digest(content);
    let find = || ds::Entity::find().filter(ds::Column::Kind.eq(kind.as_str())).filter(ds::Column::Sha256.eq(sha256.clone()));
    if let Some(found) = find().one(db).await? {
        return Ok(found);
    }
    let row = ds::ActiveModel {
        id: NotSet,
        kind: Set(kind.as_str().into()),
        sha256: Set(sha256.clone()),
        content: Set(draw::canonical_json(content)),
        rows: Set(i32::try_from(rows).unwrap_or(i32::MAX)),
        cause: Set(cause.into()),
        created_by: Set(by),
        created_at_ms: Set(now_ms),
    };
    ds::Entity::insert(row).exec_without_returning(db).await?;
    find().one(db).await?.ok_or_else(|| Error::Inconsistent(format!("snapshot {sha256} not found after insert")))
}

/// Takes a snapshot of `kind` as the directory stands now.
pub async fn take_snapshot<C: ConnectionTrait>(db: &C, kind: SnapshotKind, cause: &str, by: Option<i64>, now_ms: i64) -> Result<ds::Model> {
    match kind {
        SnapshotKind::Targets => {
            let t = targets_for_draw(db).await?;
            record_snapshot(db, kind, &t, t.len(), cause, by, now_ms).await
        }
        SnapshotKind::Inspectors => {
            let d = inspectors_for_draw(db).await?;
            let rows = d.inspectors.len() + d.conflicts.len();
            record_snapshot(db, kind, &d, rows, cause, by, now_ms).await
        }
    }
}

impl Store {
    /// Checks `table` as the targets directory and, unless `dry_run`, writes it: new homes become
    /// facilities, known codes are updated (name, district, type, beds, risk), and in
    /// [`Mode::Replace`] the entries of the importer's districts the table leaves out are removed
    /// from the directory (the facility and its cases stay), with their declared conflicts.
    pub async fn import_targets(
        &self,
        who: &user::Model,
        table: &Table,
        mode: Mode,
        dry_run: bool,
        now_ms: i64,
    ) -> std::result::Result<ImportSummary, ImportError> {
        let regions = Regions::load(&self.db).await?;
        let held = held_targets(&self.db, &regions).await?;
        let districts = regions.scope(who, held.iter().map(|(k, h)| (k.clone(), h.record.district.clone())).collect())?;
        let records = directory::parse_targets(table, &districts).map_err(ImportError::Refused)?;
        let mut summary = ImportSummary::new(Kind::Targets, records.len());
        let mut added = vec![];
        let mut changed = vec![];
        for r in &records {
            match held.get(&r.code) {
                None => added.push(r),
                Some(h) if h.record == *r => summary.unchanged += 1,
                Some(h) => changed.push((h, r)),
            }
        }
        summary.added = added.len();
        summary.changed = changed.len();
        let named: BTreeSet<&str> = records.iter().map(|r| r.code.as_str()).collect();
        let removed: Vec<&HeldTarget> = match mode.replaces() {
            false => vec![],
            true => held.values().filter(|h| writable_district(&districts.writable, &h.record.district) && !named.contains(h.record.code.as_str())).collect(),
        };
        for h in &removed {
            summary.remove(&h.record.code);
        }
        if dry_run {
            return Ok(summary);
        }
        let region_of = |code: &str| regions.district_id(code).ok_or_else(|| Error::Inconsistent(format!("district {code} vanished during the import")));
        let txn = self.db.begin().await?;
        let mut new_targets = vec![];
        for r in &added {
            let f = facility::ActiveModel {
                id: NotSet,
                region_id: Set(region_of(&r.district)?),
                name: Set(r.name.clone()),
                address: Set(String::new()),
                email: Set(None),
                created_at_ms: Set(now_ms),
            };
            let id = facility::Entity::insert(f).exec(&txn).await?.last_insert_id;
            new_targets.push(dt::ActiveModel {
                facility_id: Set(id),
                code: Set(r.code.clone()),
                facility_type: Set(r.facility_type.clone()),
                beds: Set(i32::try_from(r.beds).unwrap_or(i32::MAX)),
                risk: Set(r.risk.as_str().into()),
                updated_at_ms: Set(now_ms),
            });
        }
        for chunk in new_targets.chunks(CHUNK) {
            dt::Entity::insert_many(chunk.to_vec()).exec_without_returning(&txn).await?;
        }
        for (h, r) in &changed {
            if h.record.name != r.name || h.record.district != r.district {
                let mut f: facility::ActiveModel = h.facility.clone().into();
                f.name = Set(r.name.clone());
                f.region_id = Set(region_of(&r.district)?);
                facility::Entity::update(f).exec(&txn).await?;
            }
            let mut t: dt::ActiveModel = h.target.clone().into();
            t.facility_type = Set(r.facility_type.clone());
            t.beds = Set(i32::try_from(r.beds).unwrap_or(i32::MAX));
            t.risk = Set(r.risk.as_str().into());
            t.updated_at_ms = Set(now_ms);
            dt::Entity::update(t).exec(&txn).await?;
        }
        let mut conflicts_changed = false;
        for chunk in removed.chunks(CHUNK) {
            let ids: Vec<i64> = chunk.iter().map(|h| h.facility.id).collect();
            let codes: Vec<String> = chunk.iter().map(|h| h.record.code.clone()).collect();
            dt::Entity::delete_many().filter(dt::Column::FacilityId.is_in(ids)).exec(&txn).await?;
            conflicts_changed |= dc::Entity::delete_many().filter(dc::Column::FacilityCode.is_in(codes)).exec(&txn).await?.rows_affected > 0;
        }
        let snapshot = take_snapshot(&txn, SnapshotKind::Targets, mode.cause(), Some(who.id), now_ms).await?;
        if conflicts_changed {
            take_snapshot(&txn, SnapshotKind::Inspectors, mode.cause(), Some(who.id), now_ms).await?;
        }
        summary.committed(txn, &snapshot).await
    }

    /// Checks `table` as the inspectors directory and, unless `dry_run`, writes it (by
    /// certificate number); [`Mode::Replace`] removes the importer's districts' inspectors the
    /// table leaves out, with their declared conflicts.
    pub async fn import_inspectors(
        &self,
        who: &user::Model,
        table: &Table,
        mode: Mode,
        dry_run: bool,
        now_ms: i64,
    ) -> std::result::Result<ImportSummary, ImportError> {
        let regions = Regions::load(&self.db).await?;
        let held = held_inspectors(&self.db, &regions).await?;
        let districts = regions.scope(who, held.iter().map(|(k, r)| (k.clone(), r.district.clone())).collect())?;
        let records = directory::parse_inspectors(table, &districts).map_err(ImportError::Refused)?;
        let mut summary = ImportSummary::new(Kind::Inspectors, records.len());
        let mut upserts = vec![];
        for r in &records {
            match held.get(&r.certificate) {
                None => {
                    summary.added += 1;
                    upserts.push((r, false));
                }
                Some(h) if h == r => summary.unchanged += 1,
                Some(_) => {
                    summary.changed += 1;
                    upserts.push((r, true));
                }
            }
        }
        let named: BTreeSet<&str> = records.iter().map(|r| r.certificate.as_str()).collect();
        let removed: Vec<&InspectorRecord> = match mode.replaces() {
            false => vec![],
            true => held.values().filter(|h| writable_district(&districts.writable, &h.district) && !named.contains(h.certificate.as_str())).collect(),
        };
        for r in &removed {
            summary.remove(&r.certificate);
        }
        if dry_run {
            return Ok(summary);
        }
        let txn = self.db.begin().await?;
        let mut inserts = vec![];
        for (r, exists) in upserts {
            let region_id =
                regions.district_id(&r.district).ok_or_else(|| Error::Inconsistent(format!("district {} vanished during the import", r.district)))?;
            let row = di::ActiveModel {
                certificate: Set(r.certificate.clone()),
                name: Set(r.name.clone()),
                region_id: Set(region_id),
                qualification: Set(r.qualification.clone()),
                specialisms: Set(specialisms_text(r)),
                availability: Set(r.availability.as_str().into()),
                updated_at_ms: Set(now_ms),
            };
            if exists {
                di::Entity::update(row).exec(&txn).await?;
            } else {
                inserts.push(row);
            }
        }
        for chunk in inserts.chunks(CHUNK) {
            di::Entity::insert_many(chunk.to_vec()).exec_without_returning(&txn).await?;
        }
        for chunk in removed.chunks(CHUNK) {
            let certs: Vec<String> = chunk.iter().map(|r| r.certificate.clone()).collect();
            di::Entity::delete_many().filter(di::Column::Certificate.is_in(certs.clone())).exec(&txn).await?;
            dc::Entity::delete_many().filter(dc::Column::Certificate.is_in(certs)).exec(&txn).await?;
        }
        let snapshot = take_snapshot(&txn, SnapshotKind::Inspectors, mode.cause(), Some(who.id), now_ms).await?;
        summary.committed(txn, &snapshot).await
    }

    /// Checks `table` as declared conflicts (each naming a known inspector and a home of the
    /// importer's districts) and, unless `dry_run`, adds them; [`Mode::Replace`] removes the
    /// declared conflicts with the importer's homes that the table leaves out.
    pub async fn import_conflicts(
        &self,
        who: &user::Model,
        table: &Table,
        mode: Mode,
        dry_run: bool,
        now_ms: i64,
    ) -> std::result::Result<ImportSummary, ImportError> {
        let regions = Regions::load(&self.db).await?;
        let homes: BTreeMap<String, String> = held_targets(&self.db, &regions).await?.into_iter().map(|(k, h)| (k, h.record.district)).collect();
        let certificates: BTreeSet<String> = held_inspectors(&self.db, &regions).await?.into_keys().collect();
        let districts = regions.scope(who, BTreeMap::new())?;
        let records = directory::parse_conflicts(table, &certificates, &homes, &districts).map_err(ImportError::Refused)?;
        let held = dc::Entity::find().all(&self.db).await?;
        let key = |c: &str, f: &str, r: &str| format!("{c} {f} {r}");
        let held_keys: BTreeSet<String> = held.iter().map(|c| key(&c.certificate, &c.facility_code, &c.relation)).collect();
        let mut summary = ImportSummary::new(Kind::Conflicts, records.len());
        let added: Vec<&ConflictRecord> = records.iter().filter(|r| !held_keys.contains(&key(&r.certificate, &r.facility, &r.relation))).collect();
        summary.added = added.len();
        summary.unchanged = records.len() - added.len();
        let named: BTreeSet<String> = records.iter().map(|r| key(&r.certificate, &r.facility, &r.relation)).collect();
        let removed: Vec<&dc::Model> = match mode.replaces() {
            false => vec![],
            true => held
                .iter()
                .filter(|c| homes.get(&c.facility_code).is_none_or(|d| writable_district(&districts.writable, d)))
                .filter(|c| !named.contains(&key(&c.certificate, &c.facility_code, &c.relation)))
                .collect(),
        };
        for c in &removed {
            summary.remove(&key(&c.certificate, &c.facility_code, &c.relation));
        }
        if dry_run {
            return Ok(summary);
        }
        let txn = self.db.begin().await?;
        let rows: Vec<dc::ActiveModel> = added
            .iter()
            .map(|r| dc::ActiveModel {
                id: NotSet,
                certificate: Set(r.certificate.clone()),
                facility_code: Set(r.facility.clone()),
                relation: Set(r.relation.clone()),
                updated_at_ms: Set(now_ms),
            })
            .collect();
        for chunk in rows.chunks(CHUNK) {
            dc::Entity::insert_many(chunk.to_vec()).exec_without_returning(&txn).await?;
        }
        for chunk in removed.chunks(CHUNK) {
            let ids: Vec<i64> = chunk.iter().map(|c| c.id).collect();
            dc::Entity::delete_many().filter(dc::Column::Id.is_in(ids)).exec(&txn).await?;
        }
        let snapshot = take_snapshot(&txn, SnapshotKind::Inspectors, mode.cause(), Some(who.id), now_ms).await?;
        summary.committed(txn, &snapshot).await
    }

    /// The rows of a directory table that `who` may see (an administrator every district, anyone
    /// else with a region the districts of it), as an export writes them, in code order.
    pub async fn directory_rows(&self, who: &user::Model, kind: Kind) -> Result<Vec<Vec<String>>> {
        let regions = Regions::load(&self.db).await?;
        let visible: Option<BTreeSet<String>> = match (who.role.as_str(), who.region_id) {
            ("admin", _) => None,
            (_, Some(region)) => Some(regions.districts().filter(|d| regions.within(d.id, region)).map(|d| d.code.clone()).collect()),
            _ => Some(BTreeSet::new()),
        };
        let sees = |district: &str| writable_district(&visible, district);
        Ok(match kind {
            Kind::Targets => held_targets(&self.db, &regions).await?.into_values().filter(|h| sees(&h.record.district)).map(|h| h.record.row()).collect(),
            Kind::Inspectors => held_inspectors(&self.db, &regions).await?.into_values().filter(|r| sees(&r.district)).map(|r| r.row()).collect(),
            Kind::Conflicts => {
                let homes: BTreeMap<String, String> = held_targets(&self.db, &regions).await?.into_iter().map(|(k, h)| (k, h.record.district)).collect();
                let mut rows: Vec<ConflictRecord> = dc::Entity::find()
                    .all(&self.db)
                    .await?
                    .into_iter()
                    .filter(|c| homes.get(&c.facility_code).is_some_and(|d| sees(d)))
                    .map(|c| ConflictRecord { certificate: c.certificate, facility: c.facility_code, relation: c.relation })
                    .collect();
                rows.sort_by(|a, b| (&a.certificate, &a.facility, &a.relation).cmp(&(&b.certificate, &b.facility, &b.relation)));
                rows.iter().map(ConflictRecord::row).collect()
            }
        })
    }

    /// Takes a snapshot of `kind` as the directory stands now (a campaign's commitment).
    pub async fn snapshot_directory(&self, kind: SnapshotKind, cause: &str, by: Option<i64>, now_ms: i64) -> Result<ds::Model> {
        take_snapshot(&self.db, kind, cause, by, now_ms).await
    }

    /// The newest snapshots of `kind`, newest first.
    pub async fn directory_snapshots(&self, kind: SnapshotKind, limit: u64) -> Result<Vec<SnapshotInfo>> {
        let rows = ds::Entity::find()
            .select_only()
            .columns([
                ds::Column::Id,
                ds::Column::Kind,
                ds::Column::Sha256,
                ds::Column::Rows,
                ds::Column::Cause,
                ds::Column::CreatedBy,
                ds::Column::CreatedAtMs,
            ])
            .filter(ds::Column::Kind.eq(kind.as_str()))
            .order_by_desc(ds::Column::Id)
            .limit(limit)
            .into_tuple::<(i64, String, String, i32, String, Option<i64>, i64)>()
            .all(&self.db)
            .await?;
        Ok(rows
            .into_iter()
            .map(|(id, kind, sha256, rows, cause, created_by, created_at_ms)| SnapshotInfo { id, kind, sha256, rows, cause, created_by, created_at_ms })
            .collect())
    }

    /// A snapshot by its digest, with its content.
    pub async fn directory_snapshot(&self, kind: SnapshotKind, sha256: &str) -> Result<Option<ds::Model>> {
        Ok(ds::Entity::find().filter(ds::Column::Kind.eq(kind.as_str())).filter(ds::Column::Sha256.eq(sha256)).one(&self.db).await?)
    }
}
