//! The two directories of 双随机 in the console (检查对象名录库, 执法检查人员名录库, and the declared
//! conflicts): the page that lists them with their snapshots, exports them as CSV or Excel, and
//! imports a table after a dry run that lists every problem as `row:column: message`; and the
//! API of the same. An import is all or nothing (`Store::import_*`); administrators change every
//! district, supervisors those of their region; nobody else sees these routes.

use crate::Shared;
use crate::context::{Ctx, Signed, now_ms};
use crate::error::{Error, human_bytes};
use crate::http::{Upload, download_response, field, read_uploads};
use crate::views::{local_time, render};
use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use minijinja::context;
use qingling_activities::store::directory::{ImportError, ImportSummary, Mode, SnapshotInfo, SnapshotKind};
use qingling_activities::tables::{self, Format, ReadError};
use qingling_rules::directory::{Kind, Table, headers};
use qingling_rules::matter::Role;
use qingling_rules::refusal::{Class, Refusal};
use serde::Deserialize;
use serde_json::json;
use std::sync::Arc;

type S = State<Arc<Shared>>;

/// The largest table file an import takes (a province's directory as .xlsx fits).
pub const MAX_FILE_BYTES: usize = tables::MAX_BYTES;

/// Rows the page lists; the export has them all.
const PAGE_ROWS: usize = 500;

/// Administrators and supervisors only.
fn maintainer(ctx: &Ctx) -> Result<Arc<Signed>, Error> {
    let who = ctx.signed()?;
    if matches!(who.role, Role::Admin | Role::Supervisor) { Ok(who) } else { Err(Error::Forbidden) }
}

fn kind_of(name: &str) -> Result<Kind, Error> {
    match name {
        "targets" => Ok(Kind::Targets),
        "inspectors" => Ok(Kind::Inspectors),
        "conflicts" => Ok(Kind::Conflicts),
        _ => Err(Error::NotFound),
    }
}

fn kind_name(kind: Kind) -> &'static str {
    match kind {
        Kind::Targets => "targets",
        Kind::Inspectors => "inspectors",
        Kind::Conflicts => "conflicts",
    }
}

fn mode_of(name: &str) -> Result<Mode, Error> {
    match name {
        "" | "merge" => Ok(Mode::Merge),
        "replace" => Ok(Mode::Replace),
        _ => Err(Error::Field { field: "mode", code: "unknown_choice" }),
    }
}

/// A file that cannot be read as a table, in the reader's language.
fn unreadable(e: ReadError) -> Error {
    let r = match e {
        ReadError::TooLarge { max } => Refusal::new("directory.file_too_large").class(Class::TooLarge).arg("max", human_bytes(max as u64)),
        ReadError::Empty => Refusal::new("directory.file_empty"),
        ReadError::Encoding => Refusal::new("directory.file_encoding"),
        ReadError::Csv(detail) | ReadError::Xlsx(detail) => Refusal::new("directory.file_unreadable").arg("detail", detail),
    };
    Error::Refused(r)
}

fn read_table(format: Format, bytes: &[u8]) -> Result<Table, Error> {
    tables::read(format, bytes).map_err(unreadable)
}

async fn import(shared: &Shared, who: &Signed, kind: Kind, table: &Table, mode: Mode, dry_run: bool) -> Result<ImportSummary, Error> {
    let store = &shared.app.store;
    let (user, now) = (&who.user, now_ms());
    let done = match kind {
        Kind::Targets => store.import_targets(user, table, mode, dry_run, now).await,
        Kind::Inspectors => store.import_inspectors(user, table, mode, dry_run, now).await,
        Kind::Conflicts => store.import_conflicts(user, table, mode, dry_run, now).await,
    };
    match done {
        Ok(summary) => {
            if summary.written {
                tracing::info!(
                    kind = summary.kind,
                    user_id = user.id,
                    added = summary.added,
                    changed = summary.changed,
                    removed = summary.removed,
                    "directory imported"
                );
            }
            Ok(summary)
        }
        Err(ImportError::Refused(r)) => Err(Error::Table(Arc::new(r))),
        Err(ImportError::NotAllowed) => Err(Error::Forbidden),
        Err(ImportError::Store(e)) => Err(e.into()),
    }
}

// ───────────────────────────── API ─────────────────────────────

#[derive(Deserialize, Default)]
pub struct ImportQuery {
    #[serde(default)]
    mode: String,
    #[serde(default)]
    dry_run: bool,
    /// `csv` or `xlsx`, when the content type does not say.
    #[serde(default)]
    format: String,
}

/// The format a request body is in: `?format=`, else its content type.
fn body_format(q: &ImportQuery, headers: &HeaderMap) -> Result<Format, Error> {
    match q.format.as_str() {
        "csv" => return Ok(Format::Csv),
        "xlsx" => return Ok(Format::Xlsx),
        "" => {}
        _ => return Err(Error::Field { field: "format", code: "unknown_choice" }),
    }
    let ct = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or_default();
    let essence = ct.split(';').next().unwrap_or_default().trim().to_ascii_lowercase();
    match essence.as_str() {
        "text/csv" => Ok(Format::Csv),
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet" => Ok(Format::Xlsx),
        _ => Err(Error::UnsupportedType),
    }
}

/// `POST /api/directory/{kind}/import?mode=merge|replace&dry_run=true`: the body is the table,
/// as CSV (`text/csv`) or .xlsx. 200 with what it did or would do; 422 with every problem.
#[tracing::instrument(skip_all, fields(kind = %kind))]
pub async fn api_import(
    State(shared): S,
    ctx: Ctx,
    Path(kind): Path<String>,
    Query(q): Query<ImportQuery>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, Error> {
    let who = maintainer(&ctx)?;
    let kind = kind_of(&kind)?;
    let mode = mode_of(&q.mode)?;
    let table = read_table(body_format(&q, &headers)?, &body)?;
    let summary = import(&shared, &who, kind, &table, mode, q.dry_run).await?;
    let status = if summary.written { StatusCode::CREATED } else { StatusCode::OK };
    Ok((status, Json(json!({ "import": summary }))).into_response())
}

/// `GET /api/directory/{kind}`: the rows the caller may see, with the export's headers.
pub async fn api_rows(State(shared): S, ctx: Ctx, Path(kind): Path<String>) -> Result<Json<serde_json::Value>, Error> {
    let who = maintainer(&ctx)?;
    let kind = kind_of(&kind)?;
    let rows = shared.app.store.directory_rows(&who.user, kind).await?;
    Ok(Json(json!({ "kind": kind_name(kind), "headers": headers(kind), "rows": rows })))
}

#[derive(Deserialize, Default)]
pub struct SnapshotsQuery {
    #[serde(default)]
    kind: String,
}

fn snapshot_kind(name: &str) -> Result<SnapshotKind, Error> {
    match name {
        "targets" => Ok(SnapshotKind::Targets),
        "inspectors" => Ok(SnapshotKind::Inspectors),
        _ => Err(Error::NotFound),
    }
}

/// `GET /api/directory/snapshots?kind=targets|inspectors`: the newest snapshots, newest first.
pub async fn api_snapshots(State(shared): S, ctx: Ctx, Query(q): Query<SnapshotsQuery>) -> Result<Json<serde_json::Value>, Error> {
    maintainer(&ctx)?;
    let kind = snapshot_kind(if q.kind.is_empty() { "targets" } else { &q.kind })?;
    let list = shared.app.store.directory_snapshots(kind, 50).await?;
    Ok(Json(json!({ "kind": kind.as_str(), "snapshots": list })))
}

/// `GET /api/directory/snapshots/{kind}/{sha256}`: a snapshot's canonical JSON, byte for byte
/// what its digest was taken of.
pub async fn api_snapshot(State(shared): S, ctx: Ctx, Path((kind, sha256)): Path<(String, String)>) -> Result<Response, Error> {
    maintainer(&ctx)?;
    let kind = snapshot_kind(&kind)?;
    if sha256.len() != 64 || !sha256.bytes().all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase()) {
        return Err(Error::NotFound);
    }
    let found = shared.app.store.directory_snapshot(kind, &sha256).await?.ok_or(Error::NotFound)?;
    Ok(([(header::CONTENT_TYPE, "application/json")], found.content).into_response())
}

// ───────────────────────────── pages ─────────────────────────────

#[derive(Deserialize, Default)]
pub struct PageQuery {
    #[serde(default)]
    kind: String,
    /// The listed row (0-based) the edit form starts from.
    #[serde(default)]
    edit: Option<usize>,
}

/// `GET /directory/{kind}/export/{format}` (`csv` or `xlsx`): every row the caller may see.
pub async fn export(State(shared): S, ctx: Ctx, Path((kind, format)): Path<(String, String)>) -> Result<Response, Error> {
    let who = maintainer(&ctx)?;
    let kind = kind_of(&kind)?;
    let format = match format.as_str() {
        "csv" => Format::Csv,
        "xlsx" => Format::Xlsx,
        _ => return Err(Error::NotFound),
    };
    let rows = shared.app.store.directory_rows(&who.user, kind).await?;
    let bytes = tables::write(format, &headers(kind), &rows).map_err(Error::Internal)?;
    let today = shared.app.policy.calendar.local_date(now_ms());
    let title = crate::i18n::t(ctx.locale, &format!("web.directory.{}", kind_name(kind)), &[]);
    let ext = if format == Format::Csv { "csv" } else { "xlsx" };
    download_response(bytes, format.content_type(), &format!("{title}-{today}.{ext}"))
}

fn snapshot_view(s: &SnapshotInfo, offset: i32) -> minijinja::Value {
    context! { sha256 => s.sha256.clone(), short => s.sha256[..12].to_string(), rows => s.rows, cause => s.cause.clone(), at => local_time(s.created_at_ms, offset) }
}

fn header_row(kind: Kind) -> Vec<String> {
    headers(kind).into_iter().map(str::to_string).collect()
}

/// What the one-row form starts from: what was typed (after a refusal), or a listed row.
#[derive(Default)]
struct Editing {
    typed: Option<Vec<String>>,
    row: Option<usize>,
}

async fn page(shared: &Shared, ctx: &Ctx, who: &Signed, kind: Kind, outcome: minijinja::Value, status: StatusCode) -> Result<Response, Error> {
    page_editing(shared, ctx, who, kind, outcome, status, Editing::default()).await
}

async fn page_editing(
    shared: &Shared,
    ctx: &Ctx,
    who: &Signed,
    kind: Kind,
    outcome: minijinja::Value,
    status: StatusCode,
    edit: Editing,
) -> Result<Response, Error> {
    let store = &shared.app.store;
    let offset = shared.app.policy.calendar.utc_offset_secs;
    let rows = store.directory_rows(&who.user, kind).await?;
    let editing: Vec<String> = edit.typed.or_else(|| edit.row.and_then(|i| rows.get(i).cloned())).unwrap_or_else(|| vec![String::new(); headers(kind).len()]);
    let snapshot_of = |k| async move { store.directory_snapshots(k, 1).await.map(|l| l.first().map(|s| snapshot_view(s, offset))) };
    let page = context! {
        kind => kind_name(kind),
        kinds => ["targets", "inspectors", "conflicts"],
        headers => headers(kind),
        total => rows.len(),
        rows => rows.into_iter().take(PAGE_ROWS).collect::<Vec<_>>(),
        page_rows => PAGE_ROWS,
        targets_snapshot => snapshot_of(SnapshotKind::Targets).await?,
        inspectors_snapshot => snapshot_of(SnapshotKind::Inspectors).await?,
        outcome => outcome,
        editing => editing,
        admin => who.role == Role::Admin,
        max_file => human_bytes(MAX_FILE_BYTES as u64),
    };
    Ok((status, render(shared, ctx, "directory.html", page)?).into_response())
}

/// `GET /directory?kind=targets|inspectors|conflicts`
pub async fn show(State(shared): S, ctx: Ctx, Query(q): Query<PageQuery>) -> Result<Response, Error> {
    let who = maintainer(&ctx)?;
    let kind = kind_of(if q.kind.is_empty() { "targets" } else { &q.kind })?;
    page_editing(&shared, &ctx, &who, kind, context! {}, StatusCode::OK, Editing { typed: None, row: q.edit }).await
}

fn upload_table(files: Vec<Upload>) -> Result<Table, Error> {
    let file = files.into_iter().next().ok_or(Error::Field { field: "file", code: "required" })?;
    let format = Format::of_name(&file.name).ok_or_else(|| Error::Refused(Refusal::new("directory.file_type").arg("name", file.name.clone())))?;
    read_table(format, &file.bytes)
}

/// The outcome panel of a write (an import, or one row edited or removed), or of its refusal.
fn outcome_of(ctx: &Ctx, shared: &Shared, done: Result<ImportSummary, Error>, dry_run: bool, mode_name: &str) -> Result<(minijinja::Value, StatusCode), Error> {
    let offset = shared.app.policy.calendar.utc_offset_secs;
    Ok(match done {
        Ok(s) => {
            let snapshot = s.snapshot.as_ref().map(|x| snapshot_view(x, offset));
            (context! { summary => s, snapshot => snapshot, dry_run => dry_run, mode => mode_name }, StatusCode::OK)
        }
        Err(Error::Table(r)) => {
            let problems: Vec<String> = r.problems.iter().map(|p| p.line(ctx.locale)).collect();
            let e = Error::Table(r.clone());
            (
                context! { error => e.message(ctx.locale), problems => problems, total => r.total, dry_run => dry_run, mode => mode_name },
                StatusCode::UNPROCESSABLE_ENTITY,
            )
        }
        Err(e @ (Error::Refused(_) | Error::Field { .. })) => (context! { error => e.message(ctx.locale), dry_run => dry_run, mode => mode_name }, e.status()),
        Err(e) => return Err(e),
    })
}

/// The cells of one row as the form sent them (`cell`, once per column, in the export's order).
fn row_of(fields: &[(String, String)], kind: Kind) -> Result<Vec<String>, Error> {
    let cells: Vec<String> = fields.iter().filter(|(k, _)| k == "cell").map(|(_, v)| v.clone()).collect();
    if cells.len() != headers(kind).len() {
        return Err(Error::Field { field: "cell", code: "required" });
    }
    Ok(cells)
}

/// `POST /directory/{kind}/row` (form: `cell` per column): one row added, or changed by its key
/// (a target's code, an inspector's certificate number; a conflict is added), checked as an
/// import's row is; a new snapshot.
#[tracing::instrument(skip_all, fields(kind = %kind))]
pub async fn save_row(State(shared): S, ctx: Ctx, Path(kind): Path<String>, axum::Form(fields): axum::Form<Vec<(String, String)>>) -> Result<Response, Error> {
    let who = ctx.check_csrf(field(&fields, "csrf"))?;
    maintainer(&ctx)?;
    let kind = kind_of(&kind)?;
    let done = async {
        let table = Table { header: header_row(kind), rows: vec![row_of(&fields, kind)?] };
        import(&shared, &who, kind, &table, Mode::Edit, false).await
    }
    .await;
    let (outcome, status) = outcome_of(&ctx, &shared, done, false, "edit")?;
    // After a refusal the form keeps what was typed.
    let typed = (status != StatusCode::OK).then(|| fields.iter().filter(|(k, _)| k == "cell").map(|(_, v)| v.clone()).collect());
    page_editing(&shared, &ctx, &who, kind, outcome, status, Editing { typed, row: None }).await
}

/// `POST /directory/{kind}/remove` (form: `cell` per column, the row as listed): that row
/// removed (a target leaves the directory, its facility and cases stay; an inspector or a target
/// takes its declared conflicts along), a new snapshot. A row changed or removed meanwhile is not
/// found, and nothing is written.
#[tracing::instrument(skip_all, fields(kind = %kind))]
pub async fn remove_row(
    State(shared): S,
    ctx: Ctx,
    Path(kind): Path<String>,
    axum::Form(fields): axum::Form<Vec<(String, String)>>,
) -> Result<Response, Error> {
    let who = ctx.check_csrf(field(&fields, "csrf"))?;
    maintainer(&ctx)?;
    let kind = kind_of(&kind)?;
    let done = async {
        let gone = row_of(&fields, kind)?;
        let mut rows = shared.app.store.directory_rows(&who.user, kind).await?;
        let at = rows.iter().position(|r| *r == gone).ok_or_else(|| Error::Refused(Refusal::new("directory.row_gone").class(Class::Conflict)))?;
        rows.remove(at);
        import(&shared, &who, kind, &Table { header: header_row(kind), rows }, Mode::Remove, false).await
    }
    .await;
    let (outcome, status) = outcome_of(&ctx, &shared, done, false, "edit")?;
    page(&shared, &ctx, &who, kind, outcome, status).await
}

/// `POST /directory/import` (multipart: `kind`, `mode`, `intent` = `check` or `import`, `file`):
/// the page again, with the dry run's or the import's outcome, or every problem.
#[tracing::instrument(skip_all)]
pub async fn submit(State(shared): S, ctx: Ctx, multipart: crate::http::Uploads) -> Result<Response, Error> {
    maintainer(&ctx)?;
    let (files, fields) = read_uploads(multipart, MAX_FILE_BYTES as u64).await?;
    let who = ctx.check_csrf(field(&fields, "csrf"))?;
    let kind = kind_of(field(&fields, "kind"))?;
    let mode_name = field(&fields, "mode");
    let dry_run = field(&fields, "intent") != "import";
    let done = async { import(&shared, &who, kind, &upload_table(files)?, mode_of(mode_name)?, dry_run).await }.await;
    let (outcome, status) = outcome_of(&ctx, &shared, done, dry_run, mode_name)?;
    page(&shared, &ctx, &who, kind, outcome, status).await
}
