//! `fouro generate --wait` killed with SIGKILL at several moments (during the generate call,
//! right after the id is kept, while following, while downloading), then `fouro sync`: no task
//! whose id arrived is lost, every cut-off generate call is shown as in flight, and every image
//! is on disk.

use crate::common;

use std::path::Path;
use std::time::Duration;

use common::*;
use fouro::emulator::Emulator;
use fouro::store::{History, Query, Status};
use serde_json::json;

fn fouro(emu: &Emulator, data: &Path, args: &[&str]) -> tokio::process::Command {
    Fouro::at(&emu.base_url(), data, Some(KEY)).command(args)
}

/// How long each moment may take to come.
const WAIT: Duration = Duration::from_secs(20);

/// Tasks in the history (read by a second process, as another fouro would).
fn kept(data: &Path) -> usize {
    let path = data.join(fouro::store::history::FILE_NAME);
    if !path.exists() {
        return 0;
    }
    History::open(&path)
        .and_then(|h| h.count(&Query::default()))
        .unwrap_or(0)
}

#[derive(Debug, Clone, Copy)]
enum Moment {
    /// The generate request reached the service, its answer has not come back.
    DuringGenerate,
    /// The id is in the history.
    IdKept,
    /// A status query was answered.
    Following,
    /// An image download is on its way.
    Downloading,
}

/// Each moment is hit this many times: 20 kills in all.
const ROUNDS: usize = 5;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killed_waits_lose_no_task_once_sync_has_run() {
    let emu = emulator(1_500).await;
    control(&emu, "credits", json!({"credits": 10_000})).await;
    let data = tempfile::tempdir().unwrap();
    let moments = [
        Moment::DuringGenerate,
        Moment::IdKept,
        Moment::Following,
        Moment::Downloading,
    ];
    let mut killed_during_generate = 0;
    for round in 0..ROUNDS {
        for (n, moment) in moments.into_iter().enumerate() {
            let prompt = format!("crash {round}-{n} {moment:?}");
            let generates = calls(&emu, "generate").await;
            let polls = calls(&emu, "record-info").await;
            let files = calls(&emu, "files").await;
            let before = kept(data.path());
            match moment {
                Moment::DuringGenerate => {
                    fault(&emu, "generate", 1, "hang", json!({"ms": 1_500})).await;
                }
                Moment::Downloading => {
                    fault(&emu, "files", 1, "hang", json!({"ms": 3_000})).await;
                }
                _ => {}
            }
            let mut child = fouro(&emu, data.path(), &["generate", &prompt, "--wait"])
                .spawn()
                .unwrap();
            match moment {
                Moment::DuringGenerate => {
                    until("the generate call", WAIT, || async {
                        calls(&emu, "generate").await > generates
                    })
                    .await;
                    killed_during_generate += 1;
                }
                Moment::IdKept => {
                    until("the id kept", WAIT, || async { kept(data.path()) > before }).await;
                }
                Moment::Following => {
                    until("a status answer", WAIT, || async {
                        calls(&emu, "record-info").await > polls
                    })
                    .await;
                }
                Moment::Downloading => {
                    until("a download", WAIT, || async {
                        calls(&emu, "files").await > files
                    })
                    .await;
                }
            }
            child.start_kill().unwrap();
            let status = child.wait().await.unwrap();
            assert!(!status.success(), "{prompt}: killed, not finished");
        }
    }
    // Whatever the service still works on after a cut-off call ends first.
    until("the emulator's tasks ended", WAIT, || async {
        let t = stats(&emu).await;
        t["tasks"].as_u64().unwrap_or(0) >= (ROUNDS * (moments.len() - 1)) as u64
    })
    .await;

    let out = fouro(&emu, data.path(), &["sync"]).output().await.unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{err}");

    let history = History::open_in(data.path()).unwrap();
    let entries = history.page(&Query::default(), 0, 100).unwrap();
    let in_flight = history.in_flight().unwrap();
    let made = stats(&emu).await["tasks"].as_u64().unwrap_or(0) as usize;
    eprintln!(
        "crash test: {} kills, {} tasks made by the service, {} in the history, {} in flight",
        ROUNDS * moments.len(),
        made,
        entries.len(),
        in_flight.len()
    );
    // Every call that was cut off is shown as such; every task whose id arrived is kept.
    assert_eq!(in_flight.len(), killed_during_generate, "{in_flight:?}");
    assert_eq!(entries.len(), ROUNDS * (moments.len() - 1), "{entries:#?}");
    assert!(entries.len() + in_flight.len() >= made, "{made} made");
    for e in &entries {
        assert_eq!(e.status, Status::Success, "{}", e.task_id);
        assert!(!e.images.is_empty(), "{}", e.task_id);
        for image in &e.images {
            let path = image.path.as_ref().expect("saved by sync");
            assert!(path.is_file(), "{}", path.display());
        }
    }
}
