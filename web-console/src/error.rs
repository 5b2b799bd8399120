//! The console's one error type. A handler returns `Result<_, Error>`; the error becomes a
//! response with the right status and carries itself in the response's extensions, and the
//! request middleware (`middleware.rs`) renders it in the request's language: a JSON
//! body `{"error": {"code", "message"}}` under `/api/`, a readable page elsewhere.

use crate::i18n::t;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use qingling_rules::messages::Locale;
use qingling_rules::refusal::{Class, Refusal};
use std::sync::Arc;

#[derive(Debug, Clone, thiserror::Error)]
pub enum Error {
    /// No valid session.
    #[error("sign-in required")]
    Unauthenticated,
    #[error("wrong username or password")]
    BadCredentials,
    /// Too many wrong passwords for the account or from the address: refused without checking.
    #[error("sign-in throttled for {retry_after_secs} s")]
    Throttled { retry_after_secs: u64 },
    /// A write without the session's CSRF token.
    #[error("CSRF token missing or wrong")]
    Csrf,
    /// Signed in, but the role may not do this.
    #[error("forbidden")]
    Forbidden,
    /// Absent, or not the caller's to see: the two are never told apart.
    #[error("not found")]
    NotFound,
    /// A body that does not parse; the detail is the parser's message.
    #[error("invalid request: {0}")]
    BadRequest(String),
    /// A body over the route's limit (`max_bytes` is the largest file it takes).
    #[error("request too large")]
    TooLarge { max_bytes: u64 },
    /// A body of a content type the route does not read.
    #[error("unsupported content type")]
    UnsupportedType,
    #[error("method not allowed")]
    MethodNotAllowed,
    /// A field that parses but makes no sense. `code` is a catalogue key under `validation.`,
    /// `field` names the field (and `web.field.<field>` labels it).
    #[error("invalid field {field}: {code}")]
    Field { field: &'static str, code: &'static str },
    /// The rules refused: an action on a matter, an inspection request, an evidence file, a
    /// step on a held case. The refusal's class decides the status.
    #[error("refused: {0}")]
    Refused(Refusal),
    /// An imported directory table with problems: nothing was written. Each problem names its
    /// row and column.
    #[error("table refused: {} problems", .0.total)]
    Table(Arc<qingling_rules::directory::Refused>),
    /// An idempotency key sent again with a different request.
    #[error("idempotency key reused with another request")]
    KeyReused,
    /// A working-day schedule that does not fit the rules; the detail names the date.
    #[error("schedule refused: {0}")]
    Schedule(String),
    /// The matter's workflow no longer runs although the database says it is open (terminated,
    /// or lost with its Temporal history): an operator must restart it (`qingling doctor`).
    #[error("the matter's workflow is gone")]
    Gone,
    /// An action was sent and no answer came in time; it may still take effect.
    #[error("the workflow did not answer in time")]
    NoAnswer,
    /// Temporal could not be reached.
    #[error("workflow engine unavailable: {0}")]
    Unavailable(String),
    /// A bug or an infrastructure failure; the detail is logged, not shown.
    #[error("internal error: {0}")]
    Internal(String),
}

impl Error {
    pub fn status(&self) -> StatusCode {
        match self {
            Error::Unauthenticated | Error::BadCredentials => StatusCode::UNAUTHORIZED,
            Error::Csrf | Error::Forbidden => StatusCode::FORBIDDEN,
            Error::NotFound => StatusCode::NOT_FOUND,
            Error::Throttled { .. } => StatusCode::TOO_MANY_REQUESTS,
            Error::BadRequest(_) => StatusCode::BAD_REQUEST,
            Error::TooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            Error::UnsupportedType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Error::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            Error::Field { .. } | Error::Schedule(_) | Error::Table(_) => StatusCode::UNPROCESSABLE_ENTITY,
            Error::Refused(r) => StatusCode::from_u16(r.class.http_status()).unwrap_or(StatusCode::UNPROCESSABLE_ENTITY),
            Error::KeyReused => StatusCode::CONFLICT,
            Error::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            Error::NoAnswer => StatusCode::GATEWAY_TIMEOUT,
            Error::Gone => StatusCode::CONFLICT,
            Error::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// The stable code clients match on; also the catalogue key of the message.
    pub fn code(&self) -> String {
        match self {
            Error::Unauthenticated => "auth.required".into(),
            Error::BadCredentials => "auth.bad_credentials".into(),
            Error::Throttled { .. } => "auth.throttled".into(),
            Error::Csrf => "auth.csrf".into(),
            Error::Forbidden => "auth.forbidden".into(),
            Error::NotFound => "http.not_found".into(),
            Error::BadRequest(_) => "request.invalid".into(),
            Error::TooLarge { .. } => "request.too_large".into(),
            Error::UnsupportedType => "request.unsupported_type".into(),
            Error::MethodNotAllowed => "request.method".into(),
            Error::Field { code, .. } => format!("validation.{code}"),
            Error::Refused(r) => r.code.clone(),
            Error::Schedule(_) => "calendar.invalid_schedule".into(),
            Error::Table(_) => "directory.refused".into(),
            Error::KeyReused => "request.key_reused".into(),
            Error::Unavailable(_) => "engine.unavailable".into(),
            Error::Gone => "engine.gone".into(),
            Error::NoAnswer => "engine.no_answer".into(),
            Error::Internal(_) => "http.internal".into(),
        }
    }

    /// The message in the reader's language.
    pub fn message(&self, locale: Locale) -> String {
        match self {
            Error::Refused(r) => r.message_in(locale, &crate::i18n::lookup),
            Error::BadRequest(detail) => t(locale, "request.invalid", &[("detail", detail)]),
            Error::Schedule(detail) => t(locale, "calendar.invalid_schedule", &[("detail", detail)]),
            Error::Throttled { retry_after_secs } => t(locale, "auth.throttled", &[("seconds", &retry_after_secs.to_string())]),
            Error::Field { field, .. } => {
                let label = t(locale, &format!("web.field.{field}"), &[]);
                t(locale, &self.code(), &[("field", &label)])
            }
            Error::TooLarge { max_bytes } => t(locale, "request.too_large", &[("max", &human_bytes(*max_bytes))]),
            Error::Table(r) => t(locale, "directory.refused", &[("total", &r.total.to_string())]),
            _ => t(locale, &self.code(), &[]),
        }
    }

    /// The field a validation error or a refusal is about, for forms and API clients.
    pub fn field(&self) -> Option<&str> {
        match self {
            Error::Field { field, .. } => Some(field),
            Error::Refused(r) => r.field(),
            _ => None,
        }
    }

    /// The refusal of an evidence file (`evidence.<code>`); `max_bytes` fills `{max}`.
    pub fn evidence(code: &str, class: Class, max_bytes: u64) -> Self {
        let r = Refusal::new(format!("evidence.{code}")).class(class);
        Error::Refused(if max_bytes > 0 { r.arg("max", human_bytes(max_bytes)) } else { r })
    }

    /// Whether the request was refused with this code.
    pub fn is_refusal(&self, code: &str) -> bool {
        matches!(self, Error::Refused(r) if r.code == code)
    }

    /// The JSON body of the API.
    pub fn to_json(&self, locale: Locale) -> serde_json::Value {
        let mut error = serde_json::json!({ "code": self.code(), "message": self.message(locale) });
        if let Some(field) = self.field() {
            error["field"] = field.into();
        }
        // A refused checklist lists its problems, each in the reader's language.
        if let Error::Refused(r) = self
            && !r.problems.is_empty()
        {
            let problems: Vec<serde_json::Value> =
                r.problems.iter().map(|p| serde_json::json!({ "item": p.item, "code": p.code, "detail": p.detail, "message": p.message(locale) })).collect();
            error["problems"] = problems.into();
        }
        // A refused table lists its problems as `row:column: message` and in parts.
        if let Error::Table(r) = self {
            let problems: Vec<serde_json::Value> =
                r.problems.iter().map(|p| serde_json::json!({ "row": p.row, "column": p.column, "code": p.code, "message": p.line(locale) })).collect();
            error["problems"] = problems.into();
            error["total"] = r.total.into();
        }
        serde_json::json!({ "error": error })
    }
}

/// `12 MB`, `800 KB`: sizes as people read them.
pub fn human_bytes(n: u64) -> String {
    const MB: u64 = 1024 * 1024;
    if n >= MB && n.is_multiple_of(MB) {
        format!("{} MB", n / MB)
    } else if n >= MB {
        format!("{:.1} MB", n as f64 / MB as f64)
    } else {
        format!("{} KB", n.div_ceil(1024))
    }
}

/// The error a response carries until the context middleware renders it.
#[derive(Clone)]
pub struct Carried(pub Arc<Error>);

impl IntoResponse for Error {
    fn into_response(self) -> Response {
        let status = self.status();
        if let Error::Internal(detail) | Error::Unavailable(detail) = &self {
            tracing::error!(code = %self.code(), %detail, "request failed");
        }
        let mut response = status.into_response();
        response.extensions_mut().insert(Carried(Arc::new(self)));
        response
    }
}

impl From<Refusal> for Error {
    fn from(r: Refusal) -> Self {
        Error::Refused(r)
    }
}

impl From<qingling_activities::Error> for Error {
    fn from(e: qingling_activities::Error) -> Self {
        Error::Internal(e.to_string())
    }
}

impl From<sea_orm::DbErr> for Error {
    fn from(e: sea_orm::DbErr) -> Self {
        Error::Internal(format!("database: {e}"))
    }
}

impl From<minijinja::Error> for Error {
    fn from(e: minijinja::Error) -> Self {
        Error::Internal(format!("template: {e:#}"))
    }
}

impl From<crate::engine::EngineError> for Error {
    fn from(e: crate::engine::EngineError) -> Self {
        match e {
            crate::engine::EngineError::Refused(r) => Error::Refused(r),
            crate::engine::EngineError::Unavailable(why) => Error::Unavailable(why),
            crate::engine::EngineError::Gone => Error::Gone,
            crate::engine::EngineError::NoAnswer => Error::NoAnswer,
            e @ crate::engine::EngineError::Unregistered { .. } => Error::Unavailable(e.to_string()),
        }
    }
}

impl From<qingling_activities::evidence::Error> for Error {
    fn from(e: qingling_activities::evidence::Error) -> Self {
        use qingling_activities::evidence::Error as E;
        match e {
            E::Empty => Error::evidence("empty", Class::Invalid, 0),
            E::TooLarge { max, .. } => Error::evidence("too_large", Class::TooLarge, max),
            E::UnknownType => Error::evidence("unknown_type", Class::Invalid, 0),
            E::TypeNotAllowed(_) => Error::evidence("type_not_allowed", Class::Invalid, 0),
            E::Store(inner) => Error::Internal(inner.to_string()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rejections_keep_their_code_and_read_in_both_languages() {
        let r = Refusal::new("reject.wrong_state").arg("status", "status.issued").arg("action", "action.submit_evidence");
        let e = Error::Refused(r);
        assert_eq!(e.status(), StatusCode::UNPROCESSABLE_ENTITY);
        let zh = e.to_json(Locale::ZhCn);
        assert_eq!(zh["error"]["code"], "reject.wrong_state");
        assert!(zh["error"]["message"].as_str().unwrap_or_default().contains("已下发"), "{zh}");
        let en = e.to_json(Locale::En);
        assert!(!en["error"]["message"].as_str().unwrap_or_default().contains("已下发"), "{en}");
    }

    #[test]
    fn every_error_code_has_a_message_in_both_languages() {
        let errors = [
            Error::Unauthenticated,
            Error::BadCredentials,
            Error::Throttled { retry_after_secs: 3 },
            Error::Field { field: "username", code: "too_long" },
            Error::Field { field: "password", code: "control_chars" },
            Error::Csrf,
            Error::Forbidden,
            Error::NotFound,
            Error::BadRequest("x".into()),
            Error::Field { field: "title", code: "required" },
            Error::Field { field: "kind", code: "unknown_choice" },
            Error::Field { field: "facility_id", code: "required" },
            Error::evidence("too_large", Class::TooLarge, 10 << 20),
            Error::evidence("empty", Class::Invalid, 0),
            Error::evidence("unknown_type", Class::Invalid, 0),
            Error::evidence("type_not_allowed", Class::Invalid, 0),
            Error::evidence("no_file", Class::Invalid, 0),
            Error::Refused(Refusal::stuck("disk full")),
            Error::Table(Arc::new(qingling_rules::directory::Refused { problems: vec![], total: 3 })),
            Error::Refused(Refusal::new("directory.file_unreadable").arg("detail", "x")),
            Error::Refused(Refusal::new("directory.file_too_large").arg("max", "32 MB")),
            Error::Refused(Refusal::new("directory.file_empty")),
            Error::Refused(Refusal::new("directory.file_encoding")),
            Error::Refused(Refusal::new("directory.file_type").arg("name", "a.txt")),
            Error::Unavailable("down".into()),
            Error::Internal("bug".into()),
        ];
        for e in errors {
            for locale in Locale::ALL {
                let key = e.code();
                assert!(crate::i18n::lookup(locale, &key).is_some(), "{key} missing in {locale:?}");
                assert!(!e.message(locale).contains('{'), "{key}: unfilled placeholder in {}", e.message(locale));
            }
            if let Some(field) = e.field() {
                assert!(crate::i18n::lookup(Locale::En, &format!("web.field.{field}")).is_some(), "label of {field}");
            }
        }
    }

    #[test]
    fn sizes_read_naturally() {
        assert_eq!(human_bytes(10 * 1024 * 1024), "10 MB");
        assert_eq!(human_bytes(1536 * 1024), "1.5 MB");
        assert_eq!(human_bytes(1000), "1 KB");
    }
}
