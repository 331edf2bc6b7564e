//! Two tasks of one prompt look different in the task list: each shows what it was asked
//! with beyond the prompt and aspect (`×4 ⧉2 mask +enh`, only what was set), beside the
//! aspect where the prompt keeps room, else first on its second row.

use std::time::Instant;

use fouro::api::Variants;
use fouro::store::{Entry, Params, Reference, Status};
use fouro::tui::action::Action;
use fouro::tui::testing::{app, screen};

/// 2026-11-26 08:08 UTC.
const T0_MS: i64 = 1_795_680_480_000;

fn reference(name: &str) -> Reference {
    Reference {
        origin: format!("/home/ana/pictures/{name}"),
        url: format!("https://kieai.redpandaai.co/uploads/{name}"),
    }
}

fn generating(id: &str, params: Params) -> Entry {
    Entry {
        task_id: id.into(),
        base_url: "https://api.kie.ai".into(),
        params,
        status: Status::Generating,
        progress: 0.25,
        error_code: None,
        error_message: None,
        created_at: T0_MS,
        completed_at: None,
        cost: None,
        images: Vec::new(),
    }
}

#[test]
fn task_rows_show_variants_references_mask_and_enhance() {
    let plain = Params {
        prompt: Some("a red fox in snow".into()),
        ..Params::default()
    };
    let dressed = Params {
        variants: Variants::Four,
        refs: vec![reference("coast.png"), reference("leaf.png")],
        mask: Some(reference("sky-mask.png")),
        enhance: true,
        ..plain.clone()
    };
    let only_enhanced = Params {
        enhance: true,
        ..plain.clone()
    };
    let shown = |w: u16, h: u16| {
        let mut a = app(w, h, Instant::now());
        a.update(Action::Resumed {
            entries: vec![
                generating("task_4o_1", plain.clone()),
                generating("task_4o_2", dressed.clone()),
                generating("task_4o_3", only_enhanced.clone()),
            ],
            now: T0_MS + 7_000,
        });
        screen(&a)
    };
    let narrow = shown(80, 24);
    assert!(
        narrow.contains("│  ×4 ⧉2 mask +enh · resumed from the …│"),
        "{narrow}"
    );
    assert!(
        narrow.contains("│  +enh · resumed from the history"),
        "{narrow}"
    );
    assert_eq!(narrow.matches("GENERATING 1:1 0:07 a red fox").count(), 3);
    insta::assert_snapshot!("task_rows_80x24", narrow);
    let wide = shown(160, 48);
    assert!(
        wide.contains("GENERATING 1:1 ×4 ⧉2 mask +enh 0:07 a red fox in snow"),
        "{wide}"
    );
    assert!(
        wide.contains("GENERATING 1:1 +enh 0:07 a red fox in snow"),
        "{wide}"
    );
    assert!(
        wide.contains("GENERATING 1:1 0:07 a red fox in snow"),
        "{wide}"
    );
}
