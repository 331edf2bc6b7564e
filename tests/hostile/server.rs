//! The hostile server on 127.0.0.1: what the service could say at its worst. Escape sequences
//! in every field fouro shows, a status answer about another task, answers far larger than
//! any of the service's, an HTML page served as the image, and, under `/bad8`, answers that
//! are not UTF-8 (under `/bad8poll`, all but the submission's).

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use serde_json::{Value, json};

/// Clears the screen, sets the window title, writes the clipboard (OSC 52), rings the bell,
/// and a one-byte CSI (U+009B): nothing of it may reach the terminal as it is.
pub const HOSTILE: &str =
    "\u{1b}]0;pwned\u{7}\u{1b}[2J\u{1b}]52;c;ZXZpbA==\u{7}\u{9b}31mred\u{1b}[0m";

/// The task ids a submission gets when its prompt names one; any other prompt is refused
/// with the hostile text (under `/bad8poll`, it gets `t_new`).
const SUBMITTED: &[&str] = &["t_html", "t_file", "t_asked", "t_app", "t_new"];

/// What the server saw: requests per path.
#[derive(Default)]
pub struct Seen {
    pub huge_image: AtomicU64,
    pub big_answer: AtomicU64,
}

pub struct Hostile {
    pub base: String,
    pub seen: Arc<Seen>,
}

/// Serves on 127.0.0.1 until the test ends.
pub fn start() -> Hostile {
    let listener = TcpListener::bind("127.0.0.1:0").expect("a port on 127.0.0.1");
    let base = format!(
        "http://{}",
        listener.local_addr().expect("the listener's address")
    );
    let seen = Arc::new(Seen::default());
    let (b, s) = (base.clone(), seen.clone());
    std::thread::spawn(move || {
        for conn in listener.incoming() {
            let Ok(conn) = conn else { continue };
            let (b, s) = (b.clone(), s.clone());
            std::thread::spawn(move || serve(conn, &b, &s));
        }
    });
    Hostile { base, seen }
}

/// The request's path and body.
fn read_request(conn: &TcpStream) -> Option<(String, String)> {
    let mut reader = BufReader::new(conn.try_clone().ok()?);
    let mut request_line = String::new();
    reader.read_line(&mut request_line).ok()?;
    let mut length = 0usize;
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
            break;
        }
        if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
            length = v.trim().parse().unwrap_or(0);
        }
    }
    let mut body = vec![0; length];
    let _ = reader.read_exact(&mut body);
    let path = request_line.split_whitespace().nth(1).unwrap_or("/");
    Some((path.to_owned(), String::from_utf8_lossy(&body).into_owned()))
}

fn serve(conn: TcpStream, base: &str, seen: &Seen) {
    let Some((path, body)) = read_request(&conn) else {
        return;
    };
    let mut out = conn;
    let answer = match path.as_str() {
        "/page.png" => {
            let page = "<!doctype html><html><body>Sign in to continue</body></html>";
            let _ = write!(
                out,
                "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{page}",
                page.len()
            );
            return;
        }
        "/huge.png" => {
            seen.huge_image.fetch_add(1, Ordering::Relaxed);
            // Announces 2 GB; sends a little, then nothing more is wanted.
            let _ = out.write_all(
                b"HTTP/1.1 200 OK\r\nContent-Type: image/png\r\nContent-Length: 2147483648\r\nConnection: close\r\n\r\n\x89PNG",
            );
            return;
        }
        p if p.ends_with("taskId=t_big") => {
            seen.big_answer.fetch_add(1, Ordering::Relaxed);
            big_answer(&mut out);
            return;
        }
        p => json_answer(p, &body, base),
    };
    let _ = write!(
        out,
        "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        answer.len()
    );
    let _ = out.write_all(&answer);
}

/// 500 MB of JSON, made as it is sent, with no Content-Length: only reading it tells how big
/// it is.
fn big_answer(out: &mut TcpStream) {
    let _ = out.write_all(
        b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nConnection: close\r\n\r\n{\"code\":200,\"msg\":\"",
    );
    let chunk = vec![b'a'; 1 << 20];
    for _ in 0..500 {
        if out.write_all(&chunk).is_err() {
            return;
        }
    }
    let _ = out.write_all(b"\"}");
}

fn envelope(code: i64, msg: &str, data: Value) -> Vec<u8> {
    json!({"code": code, "msg": msg, "data": data})
        .to_string()
        .into_bytes()
}

fn record(id: &str, status: &str, urls: Vec<String>, error: Option<&str>) -> Vec<u8> {
    let flag = if status == "SUCCESS" { 1 } else { 2 };
    let data = json!({"taskId": id, "status": status, "progress": "1.00", "successFlag": flag,
        "response": {"resultUrls": urls}, "errorCode": error.map(|_| 400),
        "errorMessage": error, "createTime": 1_700_000_000_000i64,
        "completeTime": 1_700_000_060_000i64,
        "paramJson": json!({"prompt": format!("a cat {HOSTILE}"), "size": "1:1"}).to_string()});
    envelope(200, "success", data)
}

fn json_answer(path: &str, body: &str, base: &str) -> Vec<u8> {
    let submit = path.contains("/gpt4o-image/generate");
    if path.starts_with("/bad8") && !(submit && path.starts_with("/bad8poll")) {
        return not_utf8(path, submit);
    }
    if submit {
        return match SUBMITTED.iter().find(|id| body.contains(*id)) {
            Some(id) => envelope(200, "success", json!({"taskId": id})),
            None if path.starts_with("/bad8poll") => {
                envelope(200, "success", json!({"taskId": "t_new"}))
            }
            None => envelope(400, HOSTILE, Value::Null),
        };
    }
    if path.contains("/chat/credit") {
        return envelope(402, HOSTILE, Value::Null);
    }
    if path.contains("/gpt4o-image/download-url") {
        return envelope(422, HOSTILE, Value::Null);
    }
    let url = |name: &str| vec![format!("{base}/{name}")];
    let Some((_, id)) = path.split_once("taskId=") else {
        return envelope(404, HOSTILE, Value::Null);
    };
    match id {
        "t_urls" => record(id, "SUCCESS", url(&format!("img{HOSTILE}.png")), None),
        "t_new" => record(id, "SUCCESS", url(&format!("img{HOSTILE}.png")), None),
        "t_failed" | "t_app" => record(id, "GENERATE_FAILED", vec![], Some(HOSTILE)),
        "t_huge" => record(id, "SUCCESS", url("huge.png"), None),
        "t_html" => record(id, "SUCCESS", url("page.png"), None),
        "t_file" => record(id, "SUCCESS", vec!["file:///etc/passwd".to_owned()], None),
        "t_echo" => record(
            id,
            "GENERATE_FAILED",
            vec![],
            Some("the key test-key-01234567 may not use this model"),
        ),
        // The service mixes answers up: asked about one task, it tells of another.
        "t_asked" => record("t_other", "SUCCESS", url("other.png"), None),
        _ => envelope(404, HOSTILE, Value::Null),
    }
}

/// A JSON answer whose strings hold Latin-1 bytes, as a misconfigured proxy sends.
fn not_utf8(path: &str, submit: bool) -> Vec<u8> {
    let data: Vec<u8> = if let Some((_, id)) = path.split_once("taskId=") {
        let record = format!(
            r#"{{"taskId":"{id}","status":"GENERATE_FAILED","successFlag":2,"errorMessage":"caf"#
        );
        [record.as_bytes(), b"\xe9 \xff\xfe\"}"].concat()
    } else if submit {
        b"{\"taskId\":\"t_\xe9\"}".to_vec()
    } else {
        b"100".to_vec()
    };
    [
        &b"{\"code\":200,\"msg\":\"d\xe9j\xe0 \xff\",\"data\":"[..],
        &data,
        b"}",
    ]
    .concat()
}
