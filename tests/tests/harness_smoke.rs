//! The test harness itself: the SMTP sink receives mail, the Temporal dev server starts and
//! stops, and test databases can be created and used.

use std::io::{BufRead, BufReader, Write};
use std::net::TcpStream;
use std::time::Duration;

use qingling_tests::harness::{DevServer, DevServerOptions, SmtpSink, test_database_url};

/// Read one (possibly multi-line) SMTP reply and check its code.
fn expect_reply(reader: &mut impl BufRead, code: &str) {
    loop {
        let mut line = String::new();
        reader.read_line(&mut line).expect("reading SMTP reply");
        assert!(line.starts_with(code), "expected {code}, got {line:?}");
        if line.as_bytes().get(3) != Some(&b'-') {
            return;
        }
    }
}

#[tokio::test]
async fn smtp_sink_receives_a_message() {
    let sink = SmtpSink::start().expect("start SMTP sink");
    let port = sink.port;
    tokio::task::spawn_blocking(move || {
        let stream = TcpStream::connect(("127.0.0.1", port)).unwrap();
        stream.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        let mut reader = BufReader::new(stream.try_clone().unwrap());
        let mut w = stream;
        expect_reply(&mut reader, "220");
        let mut send = |cmd: &str, code: &str| {
            w.write_all(cmd.as_bytes()).unwrap();
            expect_reply(&mut reader, code);
        };
        send("EHLO localhost\r\n", "250");
        send("MAIL FROM:<sender@qingling.test>\r\n", "250");
        send("RCPT TO:<to@qingling.test>\r\n", "250");
        send("RCPT TO:<hidden@qingling.test>\r\n", "250");
        send("DATA\r\n", "354");
        send(
            "From: sender@qingling.test\r\nTo: to@qingling.test\r\nSubject: Harness smoke\r\n\
             \r\nHello from the harness.\r\n..leading dot line\r\n.\r\n",
            "250",
        );
        send("QUIT\r\n", "221");
    })
    .await
    .unwrap();

    let msg = sink.wait_for(|m| m.contains("Subject: Harness smoke"), Duration::from_secs(10)).await.expect("message received");
    assert!(msg.contains("Hello from the harness."), "{msg}");
    assert!(msg.contains("\n.leading dot line"), "dot-unstuffed: {msg}");
    assert!(msg.starts_with("X-MailFrom: sender@qingling.test\r\n"), "{msg}");
    assert!(msg.contains("X-RcptTo: to@qingling.test, hidden@qingling.test"), "{msg}");
    assert_eq!(sink.messages().len(), 1);
}

#[tokio::test]
async fn dev_server_starts_and_stops() {
    let server = DevServer::start(DevServerOptions { headless: true, ..Default::default() }).await.expect("start Temporal dev server");
    assert!(server.ui_url.is_none());
    let address = server.address.clone();
    assert!(address.starts_with("127.0.0.1:"), "{address}");
    tokio::net::TcpStream::connect(&address).await.expect("frontend port accepts connections");
    server.stop().await;
    // Stopped: the port no longer accepts connections (allow a moment for the socket to close).
    let mut closed = false;
    for _ in 0..20 {
        if tokio::net::TcpStream::connect(&address).await.is_err() {
            closed = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(closed, "{address} still accepts connections after stop");
}

#[tokio::test]
async fn test_database_is_fresh_and_usable() {
    use sea_orm::ConnectionTrait;
    let url = test_database_url("harness smoke").await.expect("database URL");
    let other = test_database_url("harness smoke").await.expect("database URL");
    assert_ne!(url, other);
    let db = sea_orm::Database::connect(&url).await.expect("connect");
    db.execute_unprepared("CREATE TABLE t (x INTEGER)").await.expect("create");
    db.execute_unprepared("INSERT INTO t VALUES (1)").await.expect("insert");
    db.close().await.ok();
}
