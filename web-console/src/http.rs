//! What every feature's handlers share and nothing feature-specific: the extractor that makes
//! the scope check part of a handler's signature ([`Visible`]), reading a request body
//! ([`parse_json`], multipart [`Uploads`]), encoders ([`url_encode`], [`file_response`],
//! [`with_cookie`], [`facility_json`]), and the one way a handler waits for the worker to store
//! what it asked for ([`wait_for`]).
//!
//! It depends on `context` and `error` only; the features (`matters`, `inspections`, …) depend
//! on it and never on each other's handler modules.

use crate::Shared;
use crate::context::{Ctx, Signed};
use crate::error::Error;
use axum::body::{Body, Bytes};
use axum::extract::{FromRequestParts, Multipart, Path};
use axum::http::request::Parts;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::Response;
use qingling_activities::db::entities::{facility, user};
use serde::de::DeserializeOwned;
use serde_json::{Value, json};
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

/// A case the route's `{id}` names, found only if the signed-in caller may see it: a handler
/// that takes one cannot skip the scope check, and the check runs before the body is read.
/// Absent or outside the caller's scope, it is a 404 (the two are never told apart); without a
/// session the middleware has already refused.
pub struct Visible<T>(pub T);

/// A kind of case a [`Visible`] can name: how to find one for a caller, with the scope rule.
pub trait Scoped: Sized + Send {
    fn find(shared: &Shared, who: &Signed, id: &str) -> impl Future<Output = Result<Self, Error>> + Send;
}

impl<T: Scoped> FromRequestParts<Arc<Shared>> for Visible<T> {
    type Rejection = Error;

    async fn from_request_parts(parts: &mut Parts, shared: &Arc<Shared>) -> Result<Self, Self::Rejection> {
        let ctx = Ctx::from_request_parts(parts, shared).await?;
        let who = ctx.signed()?;
        let Path(params) = Path::<HashMap<String, String>>::from_request_parts(parts, shared).await.map_err(|_| Error::NotFound)?;
        let id = params.get("id").ok_or(Error::NotFound)?;
        T::find(shared, &who, id).await.map(Visible)
    }
}

/// How often [`wait_for`] looks.
const POLL: Duration = Duration::from_millis(50);

/// Polls `probe` until it finds something or `within` has passed (then `None`): how a handler
/// waits for the worker to store what the workflow accepted, so the answer shows it.
pub async fn wait_for<T, F, Fut>(within: Duration, mut probe: F) -> Result<Option<T>, Error>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<Option<T>, Error>>,
{
    let deadline = tokio::time::Instant::now() + within;
    loop {
        if let Some(found) = probe().await? {
            return Ok(Some(found));
        }
        if tokio::time::Instant::now() >= deadline {
            return Ok(None);
        }
        tokio::time::sleep(POLL).await;
    }
}

/// A JSON body, or the parser's message as a 400.
pub fn parse_json<T: DeserializeOwned>(body: &Bytes) -> Result<T, Error> {
    serde_json::from_slice(body).map_err(|e| Error::BadRequest(e.to_string()))
}

/// A multipart body as the handler receives it: taken as a `Result`, so a handler checks the
/// session and the scope before a malformed body is even looked at (an outsider learns nothing
/// from a 400).
pub type Uploads = Result<Multipart, axum::extract::multipart::MultipartRejection>;

/// One uploaded file: the name the client gave it and its bytes.
#[derive(Debug, Clone)]
pub struct Upload {
    pub name: String,
    pub bytes: Vec<u8>,
}

/// The files (field `file`) and the other fields of a multipart body; a file over `max_bytes`
/// is refused as too large.
pub async fn read_uploads(multipart: Uploads, max_bytes: u64) -> Result<(Vec<Upload>, Vec<(String, String)>), Error> {
    let mut multipart = multipart.map_err(|e| Error::BadRequest(e.body_text()))?;
    let mut files = vec![];
    let mut fields = vec![];
    loop {
        let next = multipart.next_field().await.map_err(|e| multipart_error(e, max_bytes))?;
        let Some(field) = next else { break };
        let name = field.name().unwrap_or_default().to_string();
        if name == "file" {
            let file_name = field.file_name().unwrap_or_default().to_string();
            let bytes = field.bytes().await.map_err(|e| multipart_error(e, max_bytes))?;
            // Browsers send an empty part when no file was chosen.
            if file_name.is_empty() && bytes.is_empty() {
                continue;
            }
            files.push(Upload { name: file_name, bytes: bytes.to_vec() });
        } else {
            let text = field.text().await.map_err(|e| multipart_error(e, max_bytes))?;
            fields.push((name, text));
        }
    }
    Ok((files, fields))
}

fn multipart_error(e: axum::extract::multipart::MultipartError, max_bytes: u64) -> Error {
    if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
        Error::evidence("too_large", qingling_rules::refusal::Class::TooLarge, max_bytes)
    } else {
        Error::BadRequest(e.body_text())
    }
}

/// Percent-encodes everything but unreserved characters (RFC 3986).
pub fn url_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// A stored file as a response: its type, never sniffed by the browser, cached privately (a
/// file is named by its hash, so it never changes); `download_name` names a printed notice.
pub fn file_response(bytes: Vec<u8>, content_type: &str, download_name: Option<&str>) -> Result<Response, Error> {
    let mut r = Response::new(Body::from(bytes));
    let h = r.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_str(content_type).map_err(|e| Error::Internal(e.to_string()))?);
    h.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("private, max-age=86400, immutable"));
    if let Some(name) = download_name
        && let Ok(v) = HeaderValue::from_str(&format!("inline; filename=\"notice\"; filename*=UTF-8''{}", url_encode(name)))
    {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    Ok(r)
}

/// A file to save (an export): downloaded under `file_name`, never cached.
pub fn download_response(bytes: Vec<u8>, content_type: &str, file_name: &str) -> Result<Response, Error> {
    let mut r = Response::new(Body::from(bytes));
    let h = r.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_str(content_type).map_err(|e| Error::Internal(e.to_string()))?);
    h.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("private, no-store"));
    let disposition = format!("attachment; filename=\"export\"; filename*=UTF-8''{}", url_encode(file_name));
    h.insert(header::CONTENT_DISPOSITION, HeaderValue::from_str(&disposition).map_err(|e| Error::Internal(e.to_string()))?);
    Ok(r)
}

/// The response with one more `Set-Cookie`.
pub fn with_cookie(mut r: Response, cookie: String) -> Response {
    if let Ok(v) = HeaderValue::from_str(&cookie) {
        r.headers_mut().append(header::SET_COOKIE, v);
    }
    r
}

/// A facility as the API shows it.
pub fn facility_json(f: &facility::Model) -> Value {
    json!({ "id": f.id, "region_id": f.region_id, "name": f.name, "address": f.address })
}

/// The fields of an action form, as posted (`Vec` keeps repeated plan rows in order).
pub type FormFields = Vec<(String, String)>;

/// The first value of a form field.
pub fn field<'a>(fields: &'a FormFields, name: &str) -> &'a str {
    fields.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str()).unwrap_or_default()
}

/// Facility names the caller may see, by id.
pub async fn facility_names(shared: &Shared, who: &Signed) -> Result<HashMap<i64, String>, Error> {
    Ok(shared.app.store.facilities_for(&who.user).await?.into_iter().map(|f| (f.id, f.name)).collect())
}

/// A person as the API shows them: nothing secret (no password hash).
pub fn user_json(u: &user::Model) -> Value {
    json!({
        "id": u.id, "username": u.username, "display_name": u.display_name, "role": u.role,
        "facility_id": u.facility_id, "region_id": u.region_id, "locale": u.locale,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_are_encoded_byte_by_byte() {
        assert_eq!(url_encode("/board?x=1"), "%2Fboard%3Fx%3D1");
        assert_eq!(url_encode("照片.png"), "%E7%85%A7%E7%89%87.png");
    }
}
