//! Serving a notice's stored document (the printable A4 HTML page or its PDF), for a matter's
//! notice however it was issued (`GET /matters/{id}/notice/{format}`) and for an inspection's
//! notices (`inspections::notice_document`), with the same headers.

use crate::Shared;
use crate::error::Error;
use crate::http::Visible;
use axum::extract::{Path, State};
use axum::response::Response;
use qingling_activities::db::entities::matter;
use std::sync::Arc;

type S = State<Arc<Shared>>;

/// `GET /matters/{id}/notice/{format}` (`html` or `pdf`): the notice of a matter the caller may
/// see (the same rule as the matter's page: facilities only their own), else 404; also 404 for a
/// matter stored before notices had documents, and for a PDF not printed yet.
#[tracing::instrument(skip_all, fields(matter_id = %row.id))]
pub async fn matter_notice(State(shared): S, Visible(row): Visible<matter::Model>, Path((_, format)): Path<(String, String)>) -> Result<Response, Error> {
    let doc = shared.app.store.notice_document(&row.id).await?.ok_or(Error::NotFound)?;
    respond(&shared, &doc.number, doc.html_sha256.as_deref(), doc.pdf_sha256.as_deref(), &format).await
}

/// The stored file of one format of a notice, named for its number. The caller has checked
/// that the reader may see it.
pub async fn respond(shared: &Shared, number: &str, html_sha256: Option<&str>, pdf_sha256: Option<&str>, format: &str) -> Result<Response, Error> {
    let (sha, ct, ext) = match format {
        "pdf" => (pdf_sha256, "application/pdf", "pdf"),
        "html" => (html_sha256, "text/html; charset=utf-8", "html"),
        _ => return Err(Error::NotFound),
    };
    let sha = sha.ok_or(Error::NotFound)?;
    let bytes = tokio::fs::read(qingling_activities::evidence::path_of(&shared.app.store, sha))
        .await
        .map_err(|e| Error::Internal(format!("notice file {sha}: {e}")))?;
    let mut r = crate::http::file_response(bytes, ct, Some(&format!("{number}.{ext}")))?;
    // The notice is a self-contained document with its styles inline; it may run nothing.
    r.headers_mut().insert(axum::http::header::CONTENT_SECURITY_POLICY, crate::middleware::DOCUMENT_CSP.clone());
    Ok(r)
}

/// The links to a matter's notice document, for its page and its JSON: `None` without one.
pub fn links(matter_id: &str, doc: &qingling_activities::notices::StoredDocument) -> serde_json::Value {
    serde_json::json!({
        "number": doc.number,
        "major_hazard": doc.major_hazard,
        "html_url": format!("/matters/{matter_id}/notice/html"),
        "pdf_url": doc.pdf_sha256.as_ref().map(|_| format!("/matters/{matter_id}/notice/pdf")),
        "html_sha256": doc.html_sha256,
        "pdf_sha256": doc.pdf_sha256,
    })
}
