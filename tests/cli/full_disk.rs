//! A real full disk: the data directory is a small tmpfs, filled while the service holds its
//! answer to the generate call, so neither the history nor the journal can take the new id.
//! `fouro generate --wait` must keep the id in memory, say it, and keep trying to write it;
//! once there is room again the id is in the history and the image on disk.
//!
//! Mounting needs root (CI runs as root): without it this test fails, it does not skip.

use std::io::Write;
use std::path::Path;
use std::process::Command;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use fouro::store::{History, Status};
use serde_json::json;
use tokio::io::AsyncBufReadExt;

use crate::common::*;

/// A tmpfs of its own, unmounted when dropped (lazily, so a file still open cannot keep it).
struct Tmpfs {
    dir: tempfile::TempDir,
}

impl Tmpfs {
    fn mount(size: &str) -> Tmpfs {
        let dir = tempfile::tempdir().expect("a mount point");
        let out = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size},mode=0700")])
            .arg("fouro-full-disk")
            .arg(dir.path())
            .output();
        let why = match &out {
            Ok(o) if o.status.success() => return Tmpfs { dir },
            Ok(o) => String::from_utf8_lossy(&o.stderr).trim().to_owned(),
            Err(e) => e.to_string(),
        };
        panic!(
            "cannot mount a tmpfs at {} ({why}): the full-disk test needs root and mount(8), as in CI",
            dir.path().display()
        );
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    /// Writes a file until the disk refuses more.
    fn fill(&self) -> std::path::PathBuf {
        let path = self.path().join("filler");
        let mut file = std::fs::File::create(&path).expect("room for the filler's name");
        let block = vec![0u8; 64 * 1024];
        while file.write_all(&block).is_ok() {}
        let _ = file.sync_all();
        path
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg("-l").arg(self.path()).output();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_id_the_full_disk_refused_is_kept_once_there_is_room() {
    let disk = Tmpfs::mount("16m");
    let data = disk.path();
    let config = tempfile::tempdir().unwrap();
    let emu = emulator(1_000).await;
    control(&emu, "hold", json!({"generate": true})).await;

    let mut child = Fouro::at(&emu.base_url(), data, Some(KEY))
        .config_dir(config.path())
        .command(&["generate", "a lighthouse on a full disk", "--wait"])
        .spawn()
        .expect("fouro starts");
    let said = Arc::new(Mutex::new(String::new()));
    let mut errors = tokio::io::BufReader::new(child.stderr.take().unwrap()).lines();
    let reader = {
        let said = said.clone();
        tokio::spawn(async move {
            while let Ok(Some(line)) = errors.next_line().await {
                let mut said = said.lock().unwrap();
                said.push_str(&line);
                said.push('\n');
            }
        })
    };
    let said = move || said.lock().unwrap().clone();

    // The call is made (its in-flight record written); the disk fills before the answer.
    until(
        "the generate call held",
        Duration::from_secs(20),
        || async { stats(&emu).await["held"] == 1 },
    )
    .await;
    let filler = disk.fill();
    control(&emu, "hold", json!({"generate": false})).await;

    // The id is said with the warning, and the task ends on the service.
    let id = until_some("the id said", Duration::from_secs(20), || async {
        let text = said();
        text.lines()
            .find(|l| l.contains("note the id down"))
            .and_then(|l| l.split_whitespace().find(|w| w.starts_with("task_4o_")))
            .map(str::to_owned)
    })
    .await;
    until_ended(&emu, &id).await;
    // fouro has the final answer and still cannot write it: it must not end.
    let polls = calls(&emu, "record-info").await;
    until(
        "a status query after the end",
        Duration::from_secs(20),
        || async { calls(&emu, "record-info").await > polls },
    )
    .await;
    until(
        "the final answer refused by the disk",
        Duration::from_secs(20),
        || async { said().matches("note the id down").count() >= 2 },
    )
    .await;
    assert!(
        child.try_wait().unwrap().is_none(),
        "fouro ended with the id nowhere on disk:\n{}",
        said()
    );
    // Room again: the id is written, the image saved, and fouro ends well.
    std::fs::remove_file(filler).unwrap();
    let status = tokio::time::timeout(Duration::from_secs(60), child.wait())
        .await
        .expect("fouro ends once there is room")
        .unwrap();
    reader.await.unwrap();
    assert_eq!(status.code(), Some(0), "{}", said());

    let entry = History::open_in(data)
        .unwrap()
        .get(&id)
        .unwrap()
        .expect("the id is in the history");
    assert_eq!(entry.status, Status::Success, "{entry:?}");
    let image = entry.images[0].path.clone().expect("the image is recorded");
    assert_eq!(image::image_dimensions(&image).unwrap(), (1024, 1024));

    // The history and sync say the same.
    let run = Fouro::at(&emu.base_url(), data, Some(KEY)).config_dir(config.path());
    let o = run.run(&["history", "--json"]).await;
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert!(stdout(&o).contains(&id), "{}", stdout(&o));
    let o = run.run(&["sync"]).await;
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    drop(emu);
}
