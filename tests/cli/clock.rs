//! One clock: every time the CLI shows is local time, and `--json` carries RFC 3339 with the
//! zone. Run in a zone far from UTC (+05:45) so that a UTC time cannot pass for local.

use crate::common;

use chrono::{DateTime, FixedOffset};
use common::*;
use serde_json::Value;

const ZONE: &str = "Asia/Kathmandu";

#[tokio::test]
async fn status_and_history_show_local_time_and_json_carries_the_zone() {
    let emu = emulator(200).await;
    let data = tempfile::tempdir().unwrap();
    let run = Fouro::at(&emu.base_url(), data.path(), Some(KEY)).env("TZ", ZONE);
    let o = run.run(&["generate", "a clock", "--wait", "--json"]).await;
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let id = json_out(&o)["taskId"].as_str().unwrap().to_owned();

    let o = run.run(&["status", &id, "--json"]).await;
    let s: Value = json_out(&o);
    let created_ms = s["createTime"].as_i64().unwrap();
    let created: DateTime<FixedOffset> =
        DateTime::parse_from_rfc3339(s["created"].as_str().unwrap()).unwrap();
    assert_eq!(
        created.offset().local_minus_utc(),
        5 * 3600 + 45 * 60,
        "{s}"
    );
    assert_eq!(created.timestamp_millis() / 1000, created_ms / 1000, "{s}");
    assert!(s["completed"].as_str().unwrap().ends_with("+05:45"), "{s}");

    // The text shows the same instant, in the zone's wall-clock time.
    let wall = created.format("%Y-%m-%d %H:%M:%S +05:45").to_string();
    let o = run.run(&["status", &id]).await;
    assert!(
        stdout(&o).contains(&format!("created    {wall}")),
        "{}",
        stdout(&o)
    );
    assert!(!stdout(&o).contains("UTC"), "{}", stdout(&o));

    let o = run.run(&["history"]).await;
    let minute = created.format("%Y-%m-%d %H:%M").to_string();
    assert!(
        stdout(&o).starts_with(&minute),
        "{} vs {minute}",
        stdout(&o)
    );
    let o = run.run(&["history", "--json"]).await;
    let h: Value = json_out(&o);
    assert!(h[0]["created"].as_str().unwrap().ends_with("+05:45"), "{h}");
}
