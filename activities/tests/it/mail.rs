//! Mail delivery into the outbox: a real RFC 822 message with an encoded UTF-8 subject.

use base64::Engine;
use qingling_activities::mail::{Mailer, Transport};

/// Decodes RFC 2047 `=?utf-8?b?...?=` words, the way lettre writes non-ASCII headers.
fn decode_words(value: &str) -> String {
    value
        .split_whitespace()
        .map(|word| {
            let lower = word.to_ascii_lowercase();
            match lower.strip_prefix("=?utf-8?b?").and_then(|_| word.get(10..word.len() - 2)) {
                Some(b64) if word.ends_with("?=") => String::from_utf8(base64::engine::general_purpose::STANDARD.decode(b64).unwrap()).unwrap(),
                _ => word.to_string(),
            }
        })
        .collect()
}

#[tokio::test]
async fn the_outbox_holds_a_parsable_message_with_the_chinese_subject() {
    let dir = tempfile::tempdir().unwrap();
    let outbox = dir.path().join("outbox");
    let mailer = Mailer::new(Transport::Outbox { dir: outbox.clone() }, "清零 <noreply@example.test>");
    let subject = "【整改通知】朝民养整改〔2026〕0001号：消防通道堵塞";
    mailer.send("facility1@example.test", "孙院长", subject, "您好，孙院长：\n\n请于 2026-11-23 24:00 前签收。").await.unwrap();

    let files: Vec<_> = std::fs::read_dir(&outbox).unwrap().map(|e| e.unwrap().path()).collect();
    assert_eq!(files.len(), 1);
    let name = files[0].file_name().unwrap().to_str().unwrap();
    assert!(name.ends_with(".eml") && name.split('-').next().unwrap().parse::<i64>().is_ok(), "{name}");

    let raw = std::fs::read_to_string(&files[0]).unwrap();
    let (head, body) = raw.split_once("\r\n\r\n").expect("headers end with an empty line");
    // Unfold continuation lines, then read the headers.
    let unfolded = head.replace("\r\n ", " ").replace("\r\n\t", " ");
    let header = |name: &str| unfolded.lines().find_map(|l| l.strip_prefix(&format!("{name}: "))).map(str::to_string);
    assert!(head.is_ascii(), "headers are encoded, not raw UTF-8");
    assert_eq!(decode_words(&header("Subject").unwrap()), subject);
    assert!(header("To").unwrap().contains("<facility1@example.test>"));
    assert!(header("From").unwrap().contains("<noreply@example.test>"));
    assert!(header("Date").is_some());
    assert!(header("Content-Type").unwrap().to_ascii_lowercase().contains("charset=utf-8"));
    assert!(!body.trim().is_empty());
}

/// A minimal SMTP server on loopback: accepts one message and hands back what it received.
async fn one_message_smtp_server() -> (u16, tokio::task::JoinHandle<String>) {
    use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let server = tokio::spawn(async move {
        let (socket, _) = listener.accept().await.unwrap();
        let (read, mut write) = socket.into_split();
        let mut lines = BufReader::new(read).lines();
        write.write_all(b"220 test ESMTP\r\n").await.unwrap();
        let mut data = String::new();
        while let Some(line) = lines.next_line().await.unwrap() {
            let verb = line.split_whitespace().next().unwrap_or_default().to_ascii_uppercase();
            let reply: &[u8] = match verb.as_str() {
                "EHLO" => b"250-test\r\n250 8BITMIME\r\n",
                "DATA" => {
                    write.write_all(b"354 go ahead\r\n").await.unwrap();
                    while let Some(l) = lines.next_line().await.unwrap() {
                        if l == "." {
                            break;
                        }
                        data.push_str(&l);
                        data.push('\n');
                    }
                    b"250 queued\r\n"
                }
                "QUIT" => {
                    write.write_all(b"221 bye\r\n").await.unwrap();
                    break;
                }
                _ => b"250 OK\r\n",
            };
            write.write_all(reply).await.unwrap();
        }
        data
    });
    (port, server)
}

#[tokio::test]
async fn smtp_delivers_to_a_plain_loopback_relay() {
    let (port, server) = one_message_smtp_server().await;
    let mailer = Mailer::new(Transport::Smtp { url: format!("smtp://127.0.0.1:{port}") }, "清零 <noreply@example.test>");
    mailer.send("inspector1@example.test", "赵检查", "【已销号】测试", "事项已销号。").await.unwrap();
    let data = tokio::time::timeout(std::time::Duration::from_secs(10), server).await.unwrap().unwrap();
    let subject = data.lines().find_map(|l| l.strip_prefix("Subject: ")).expect("a subject header");
    assert_eq!(decode_words(subject), "【已销号】测试");
}
