//! Signing in, as a security test of the console found it and as it must be now: wrong passwords
//! are throttled per account and per address (the right password after them waits for the
//! back-off, with `429` and `Retry-After`), the co-signer's password on a checklist likewise; an
//! unknown username is answered as a wrong password is; the login form needs its CSRF token;
//! signing in ends the session the browser had; a person can sign out everywhere, and an
//! administrator can end another person's sessions. The short periods are in
//! `tests/fast-policy.toml` (`[signin]`: 5 per account, 8 per address, a 10 s first back-off, long enough that a slow password check cannot outlast it).

use anyhow::Context;
use qingling_tests::app::TestApp;
use reqwest::header::{COOKIE, RETRY_AFTER, SET_COOKIE};
use reqwest::redirect::Policy;
use serde_json::{Value, json};
use std::time::Duration;

const PASSWORD: &str = "qingling-demo";

/// A client that follows no redirects and keeps no cookies: the tests hold them.
fn raw() -> reqwest::Client {
    reqwest::Client::builder().redirect(Policy::none()).build().expect("client")
}

/// An answer: status, `Retry-After` (seconds), the JSON body, and the session cookie it set.
struct Answer {
    status: u16,
    retry_after: Option<u64>,
    body: Value,
    session: Option<String>,
}

async fn answer(res: reqwest::Response) -> anyhow::Result<Answer> {
    let status = res.status().as_u16();
    let retry_after = res.headers().get(RETRY_AFTER).and_then(|v| v.to_str().ok()).and_then(|v| v.parse().ok());
    let session = set_cookie(&res, "qingling_session").filter(|v| !v.is_empty());
    Ok(Answer { status, retry_after, body: res.json().await.unwrap_or(Value::Null), session })
}

fn set_cookie(res: &reqwest::Response, name: &str) -> Option<String> {
    res.headers()
        .get_all(SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .filter_map(|v| v.split(';').next()?.split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.to_string())
}

/// `POST /api/session`, optionally with a session cookie the client already has.
async fn api_login(app: &TestApp, username: &str, password: &str, cookie: Option<&str>) -> anyhow::Result<Answer> {
    let mut req = raw().post(format!("{}/api/session", app.base)).json(&json!({ "username": username, "password": password }));
    if let Some(c) = cookie {
        req = req.header(COOKIE, format!("qingling_session={c}"));
    }
    answer(req.send().await?).await
}

/// Who a session cookie signs in, if anyone.
async fn me(app: &TestApp, session: &str) -> anyhow::Result<u16> {
    Ok(raw().get(format!("{}/api/me", app.base)).header(COOKIE, format!("qingling_session={session}")).send().await?.status().as_u16())
}

/// A JSON POST with a session cookie and its CSRF token.
async fn post_as(app: &TestApp, session: &str, csrf: &str, path: &str) -> anyhow::Result<Answer> {
    let res = raw()
        .post(format!("{}{path}", app.base))
        .header(COOKIE, format!("qingling_session={session}"))
        .header("X-CSRF-Token", csrf)
        .json(&json!({}))
        .send()
        .await?;
    answer(res).await
}

/// Signs in through the API; returns the session cookie and the CSRF token.
async fn signed_in(app: &TestApp, username: &str) -> anyhow::Result<(String, String)> {
    let a = api_login(app, username, PASSWORD, None).await?;
    anyhow::ensure!(a.status == 200, "login as {username}: {} {}", a.status, a.body);
    Ok((a.session.context("a session cookie")?, a.body["csrf"].as_str().context("csrf")?.to_string()))
}

/// The login page: its `qingling_login` cookie and the hidden token of its form.
async fn login_form(app: &TestApp) -> anyhow::Result<(String, String)> {
    let res = raw().get(format!("{}/login", app.base)).send().await?;
    let cookie = set_cookie(&res, "qingling_login").context("the login page sets its token cookie")?;
    let html = res.text().await?;
    let field = html.split("name=\"csrf\" value=\"").nth(1).and_then(|rest| rest.split('"').next()).context("the form has a csrf field")?.to_string();
    Ok((cookie, field))
}

/// `POST /login` as a browser sends the form: status, the page or redirect target, the session.
async fn form_login(app: &TestApp, cookies: &str, fields: &[(&str, impl serde::Serialize)]) -> anyhow::Result<(u16, Option<u64>, String, Option<String>)> {
    let res = raw().post(format!("{}/login", app.base)).header(COOKIE, cookies).form(fields).send().await?;
    let status = res.status().as_u16();
    let retry_after = res.headers().get(RETRY_AFTER).and_then(|v| v.to_str().ok()).and_then(|v| v.parse().ok());
    let session = set_cookie(&res, "qingling_session").filter(|v| !v.is_empty());
    let location = res.headers().get("location").and_then(|v| v.to_str().ok()).map(str::to_string);
    let text = res.text().await?;
    Ok((status, retry_after, location.unwrap_or(text), session))
}

async fn wait(secs: Option<u64>) {
    tokio::time::sleep(Duration::from_secs(secs.unwrap_or(1)) + Duration::from_millis(200)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_right_password_after_wrong_ones_waits_for_the_back_off() -> anyhow::Result<()> {
    let app = TestApp::start("signin-account").await?;
    for _ in 0..5 {
        let a = api_login(&app, "facility2", "guess", None).await?;
        assert_eq!((a.status, a.body["error"]["code"].as_str()), (401, Some("auth.bad_credentials")), "{}", a.body);
    }
    // The right password now is refused without being checked, and says when to come back.
    let a = api_login(&app, "facility2", PASSWORD, None).await?;
    assert_eq!((a.status, a.body["error"]["code"].as_str()), (429, Some("auth.throttled")), "{}", a.body);
    let secs = a.retry_after.context("Retry-After")?;
    assert!((1..=10).contains(&secs), "the first back-off is 10 s: {secs}");
    assert!(a.body["error"]["message"].as_str().unwrap_or_default().contains(&secs.to_string()), "{}", a.body);
    assert!(a.session.is_none());
    // The login form counts against the same account and shows the reason.
    let (cookie, token) = login_form(&app).await?;
    let (status, retry, page, session) =
        form_login(&app, &format!("qingling_login={cookie}"), &[("username", "facility2"), ("password", PASSWORD), ("csrf", token.as_str()), ("next", "/")])
            .await?;
    assert_eq!((status, session), (429, None), "{page}");
    assert!(retry.is_some() && page.contains("登录尝试次数过多"), "{page}");
    // Another account is not held up.
    assert_eq!(api_login(&app, "facility3", PASSWORD, None).await?.status, 200);

    wait(Some(secs)).await;
    let a = api_login(&app, "facility2", PASSWORD, None).await?;
    assert_eq!(a.status, 200, "after the back-off: {}", a.body);
    // A right password cleared the account's count: a typo now is only a wrong password.
    let a = api_login(&app, "facility2", "typo", None).await?;
    assert_eq!(a.status, 401, "{}", a.body);
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_passwords_for_many_accounts_from_one_address_are_throttled_together() -> anyhow::Result<()> {
    let app = TestApp::start("signin-address").await?;
    // One wrong password each for eight accounts (two of them do not exist): no account reaches
    // its limit of 5, the address reaches its limit of 8.
    for username in ["supervisor", "haidian", "inspector1", "inspector2", "facility1", "facility3", "nobody", "ghost"] {
        let a = api_login(&app, username, "spray-1", None).await?;
        assert_eq!(a.status, 401, "{username}: {}", a.body);
    }
    let a = api_login(&app, "admin", PASSWORD, None).await?;
    assert_eq!((a.status, a.body["error"]["code"].as_str()), (429, Some("auth.throttled")), "{}", a.body);
    wait(a.retry_after).await;
    let a = api_login(&app, "admin", PASSWORD, None).await?;
    assert_eq!(a.status, 200, "after the back-off: {}", a.body);
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn co_signer_password_guesses_are_throttled_like_a_sign_in() -> anyhow::Result<()> {
    let app = TestApp::start("signin-cosigner").await?;
    let sup = app.login("supervisor").await?;
    let (_, facilities) = sup.get("/api/facilities").await?;
    let mut inspectors = vec![];
    for name in ["inspector1", "inspector2"] {
        inspectors.push(app.store.user_by_username(name).await?.context("demo user")?.id);
    }
    let body = json!({ "facility_id": facilities[0]["id"], "template": "fire-major-hazard", "inspectors": inspectors });
    let (s, b) = sup.post("/api/inspections", body).await?;
    assert_eq!(s, 201, "{b}");
    let id = b["inspection_id"].as_str().context("id")?.to_string();
    let insp = app.login("inspector1").await?;
    let (s, b) = insp.post(&format!("/api/inspections/{id}/start"), json!({})).await?;
    assert_eq!(s, 200, "{b}");
    let url = format!("/api/inspections/{id}/submit");
    let submit = |password: &str| json!({ "idempotency_key": "k1", "answers": {}, "cosigner": { "username": "inspector2", "password": password } });
    for _ in 0..5 {
        let (s, b) = insp.post(&url, submit("guess")).await?;
        assert_eq!((s, b["error"]["code"].as_str()), (422, Some("inspection.cosigner_invalid")), "{b}");
    }
    let (s, b) = insp.post(&url, submit(PASSWORD)).await?;
    assert_eq!((s, b["error"]["code"].as_str()), (429, Some("auth.throttled")), "the right password is not even checked: {b}");
    // The co-signer's guesses count against the account's sign-in as well.
    let a = api_login(&app, "inspector2", PASSWORD, None).await?;
    assert_eq!(a.status, 429, "{}", a.body);
    wait(a.retry_after).await;
    // Now the password is checked and passes; the (empty) checklist is what is refused.
    let (s, b) = insp.post(&url, submit(PASSWORD)).await?;
    assert!(s != 429 && b["error"]["code"] != "inspection.cosigner_invalid", "{s} {b}");
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unknown_user_is_answered_like_a_wrong_password_and_throttled_alike() -> anyhow::Result<()> {
    let app = TestApp::start("signin-unknown").await?;
    for lang in ["zh-CN", "en"] {
        let ask = |username: &'static str| {
            raw()
                .post(format!("{}/api/session", app.base))
                .header("Accept-Language", lang)
                .json(&json!({ "username": username, "password": format!("wrong-{lang}") }))
                .send()
        };
        let known = answer(ask("supervisor").await?).await?;
        let unknown = answer(ask("no-such-user").await?).await?;
        assert_eq!((known.status, &known.body), (unknown.status, &unknown.body), "{lang}: the answers must not tell them apart");
        assert_eq!(known.body["error"]["code"], "auth.bad_credentials");
    }
    // An unknown name is throttled just as a known one is (else the 429 would tell): its
    // fifth wrong password starts the back-off of its own count, not the address's.
    for guess in ["third", "fourth", "fifth"] {
        let a = api_login(&app, "no-such-user", guess, None).await?;
        assert_eq!(a.status, 401, "{}", a.body);
    }
    let a = api_login(&app, "no-such-user", "sixth", None).await?;
    assert_eq!((a.status, a.body["error"]["code"].as_str()), (429, Some("auth.throttled")), "{}", a.body);
    assert!(a.retry_after.is_some());
    assert_eq!(api_login(&app, "supervisor", PASSWORD, None).await?.status, 200, "the address is not what waits");
    // Hostile input is bounded before anything is looked up.
    let a = api_login(&app, "admin\u{0}", PASSWORD, None).await?;
    assert_eq!((a.status, a.body["error"]["field"].as_str()), (422, Some("username")), "{}", a.body);
    let a = api_login(&app, &"a".repeat(10_000), PASSWORD, None).await?;
    assert_eq!((a.status, a.body["error"]["code"].as_str()), (422, Some("validation.too_long")), "{}", a.body);
    // A cross-site form can post text/plain that parses as JSON: not accepted as a sign-in.
    let forged = raw()
        .post(format!("{}/api/session", app.base))
        .header("Content-Type", "text/plain")
        .body(json!({ "username": "admin", "password": PASSWORD }).to_string());
    let a = answer(forged.send().await?).await?;
    assert_eq!((a.status, a.body["error"]["code"].as_str(), a.session), (400, Some("request.invalid"), None), "{}", a.body);
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_login_form_needs_its_token_and_signing_in_ends_the_old_session() -> anyhow::Result<()> {
    let app = TestApp::start("signin-form").await?;
    let (cookie, token) = login_form(&app).await?;
    assert_eq!(cookie, token, "the form's field repeats its cookie");
    let jar = format!("qingling_login={cookie}");
    let creds = [("username", "facility1"), ("password", PASSWORD), ("next", "/")];
    let forged = "00".repeat(32);
    let with = |csrf: &str| -> Vec<(&'static str, String)> { creds.iter().map(|(k, v)| (*k, v.to_string())).chain([("csrf", csrf.to_string())]).collect() };
    let without: Vec<(&str, String)> = creds.iter().map(|(k, v)| (*k, v.to_string())).collect();
    // No token, a wrong token, a token without its cookie: refused with the readable page.
    for (cookies, fields) in [(jar.as_str(), without), (jar.as_str(), with(&forged)), ("", with(&token))] {
        let (status, _, page, session) = form_login(&app, cookies, &fields).await?;
        assert_eq!((status, session), (403, None), "{page}");
        assert!(page.contains("页面已过期") && page.contains("name=\"csrf\""), "the form again, with the reason: {page}");
    }
    let (status, _, target, session) = form_login(&app, &jar, &with(&token)).await?;
    assert_eq!((status, target.as_str()), (303, "/notices"), "{target}");
    let first = session.context("a session cookie")?;
    assert_eq!(me(&app, &first).await?, 200);

    // Signing in again from that browser, through the form or the API, ends its old session.
    let (status, _, _, session) = form_login(&app, &format!("{jar}; qingling_session={first}"), &with(&token)).await?;
    assert_eq!(status, 303);
    let second = session.context("a new session cookie")?;
    assert_ne!(first, second);
    assert_eq!((me(&app, &first).await?, me(&app, &second).await?), (401, 200), "the old cookie no longer signs in");
    let a = api_login(&app, "facility1", PASSWORD, Some(&second)).await?;
    let third = a.session.context("a session cookie")?;
    assert_eq!((me(&app, &second).await?, me(&app, &third).await?), (401, 200));
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn signing_out_everywhere_ends_every_session_and_only_an_admin_ends_another_persons() -> anyhow::Result<()> {
    let app = TestApp::start("signin-everywhere").await?;
    // Two browsers of one person; one signs out everywhere, through the page's form.
    let (tablet, _) = signed_in(&app, "facility1").await?;
    let (desk, desk_csrf) = signed_in(&app, "facility1").await?;
    let page = raw().get(format!("{}/account", app.base)).header(COOKIE, format!("qingling_session={desk}")).send().await?;
    assert_eq!(page.status(), 200);
    assert!(page.text().await?.contains("action=\"/account/sessions/end\""));
    let res =
        raw().post(format!("{}/account/sessions/end", app.base)).header(COOKIE, format!("qingling_session={desk}")).form(&[("csrf", "forged")]).send().await?;
    assert_eq!(res.status(), 403, "the form needs the session's token");
    assert_eq!(me(&app, &tablet).await?, 200);
    let res = raw()
        .post(format!("{}/account/sessions/end", app.base))
        .header(COOKIE, format!("qingling_session={desk}"))
        .form(&[("csrf", &desk_csrf)])
        .send()
        .await?;
    assert_eq!((res.status().as_u16(), res.headers().get("location").and_then(|v| v.to_str().ok())), (303, Some("/login")));
    assert_eq!((me(&app, &tablet).await?, me(&app, &desk).await?), (401, 401), "both sessions ended");
    // The API route does the same.
    let (one, one_csrf) = signed_in(&app, "facility1").await?;
    let (two, _) = signed_in(&app, "facility1").await?;
    let a = post_as(&app, &one, &one_csrf, "/api/me/sessions/end").await?;
    assert_eq!((a.status, a.body["ended"].as_u64()), (200, Some(2)), "{}", a.body);
    assert_eq!(me(&app, &two).await?, 401);

    // Another person's sessions: a supervisor may not end them, an administrator may.
    let (victim, _) = signed_in(&app, "facility1").await?;
    let id = app.store.user_by_username("facility1").await?.context("demo user")?.id;
    let path = format!("/api/users/{id}/sessions/end");
    let (sup, sup_csrf) = signed_in(&app, "supervisor").await?;
    let a = post_as(&app, &sup, &sup_csrf, &path).await?;
    assert_eq!((a.status, a.body["error"]["code"].as_str()), (403, Some("auth.forbidden")), "{}", a.body);
    assert_eq!(me(&app, &victim).await?, 200);
    let users = raw().get(format!("{}/admin/users", app.base)).header(COOKIE, format!("qingling_session={sup}")).send().await?;
    assert_eq!(users.status(), 403);
    let (admin, admin_csrf) = signed_in(&app, "admin").await?;
    let a = post_as(&app, &admin, "wrong", &path).await?;
    assert_eq!((a.status, a.body["error"]["code"].as_str()), (403, Some("auth.csrf")), "{}", a.body);
    for missing in ["/api/users/999999/sessions/end", "/api/users/x/sessions/end"] {
        assert_eq!(post_as(&app, &admin, &admin_csrf, missing).await?.status, 404, "{missing}");
    }
    let users = raw().get(format!("{}/admin/users", app.base)).header(COOKIE, format!("qingling_session={admin}")).send().await?;
    assert_eq!(users.status(), 200);
    assert!(users.text().await?.contains(&format!("action=\"/admin/users/{id}/sessions/end\"")));
    let a = post_as(&app, &admin, &admin_csrf, &path).await?;
    assert_eq!((a.status, a.body["ended"].as_u64()), (200, Some(1)), "{}", a.body);
    assert_eq!((me(&app, &victim).await?, me(&app, &admin).await?), (401, 200), "the victim is out, the admin still in");
    Ok(())
}
