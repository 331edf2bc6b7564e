//! What the inline preview costs: from a saved 1536x1024 PNG on disk to the bytes the terminal
//! gets, per protocol (half blocks, sixel, kitty, iTerm2), in a pane (80x40 cells) and full
//! screen (150x42), with cells of 8x17 px. That is `decode_fitted` (decode, fit, encode) and
//! then the write: the payload's bytes, or for half blocks viuer's printer, whose output goes
//! to `/dev/null` for the measurement (viuer prints to stdout only, so fd 1 is pointed there).
//! `preview-parts` splits it: the decode alone, then fit, encode and write of a decoded image;
//! `preview-steps` splits that: each protocol's resize, encode (sixel: quantise) and print;
//! `preview-cached` is an image seen before (or decoded ahead): the cache's answer and the
//! write, and says what the cache holds after 200 previews (`target/preview-bench/cached.txt`).
//!
//! The image is made here, the same every run: gradients, shapes and noise, so that sixel's
//! quantisation and the PNG codec do real work (a flat image would flatter them). It is saved,
//! with one line per case (the cells each protocol covers, the bytes) and the bytes themselves,
//! in `target/preview-bench/` (or `$FOURO_PREVIEW_BENCH_DIR`), where `benches/viu-compare`
//! reads them to run `viu` on the same file in the same cells.
//!
//! `cargo bench --bench preview -- --warm-up-time 1 --measurement-time 3`

// viuer prints to stdout only: the bench points fd 1 at a file around its print (dup/dup2),
// the one use of `unsafe` outside the program, which Cargo.toml's lint would refuse.
#![allow(unsafe_code)]

use std::fs::{self, File};
use std::hint::black_box;
use std::io::{self, Write};
use std::os::fd::AsRawFd;
use std::os::raw::c_int;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use criterion::{BenchmarkId, Criterion, SamplingMode, criterion_group, criterion_main};
use fouro::tui::action::Fitted;
use fouro::tui::preview::cache::{self, Cache, Key};
use fouro::tui::preview::{Encoding, Payload, Protocol, decode_fitted, encode, encode_fitted, fit};
use image::{DynamicImage, GenericImageView, Rgb, RgbImage};

/// The size of a 4o image in landscape.
const SOURCE: (u32, u32) = (1536, 1024);
/// xterm's cell with DejaVu Sans Mono at 10 pt (see shared/terminals.md).
const CELL_PX: (u32, u32) = (8, 17);
/// The preview pane of a wide terminal, and the full-screen view of a 150x44 one.
const PANES: [(u16, u16); 2] = [(80, 40), (150, 42)];
const PROTOCOLS: [(Protocol, &str); 4] = [
    (Protocol::Blocks, "blocks"),
    (Protocol::Sixel, "sixel"),
    (Protocol::Kitty, "kitty"),
    (Protocol::Iterm, "iterm"),
];

fn encoding(protocol: Protocol) -> Encoding {
    Encoding {
        cell_px: CELL_PX,
        sixel_max: None,
        ..Encoding::from(protocol)
    }
}

fn out_dir() -> PathBuf {
    std::env::var_os("FOURO_PREVIEW_BENCH_DIR").map_or_else(
        || Path::new(env!("CARGO_MANIFEST_DIR")).join("target/preview-bench"),
        PathBuf::from,
    )
}

/// A small deterministic hash of a lattice point: the same picture every run.
fn hash(x: i64, y: i64, seed: u64) -> f32 {
    let mut h = (x as u64)
        .wrapping_mul(0x9E37_79B9_7F4A_7C15)
        .wrapping_add((y as u64).wrapping_mul(0xC2B2_AE3D_27D4_EB4F))
        .wrapping_add(seed);
    h ^= h >> 31;
    h = h.wrapping_mul(0xBF58_476D_1CE4_E5B9);
    h ^= h >> 29;
    (h >> 40) as f32 / (1u64 << 24) as f32
}

/// Smooth noise in 0..1: bilinear between lattice points `scale` pixels apart.
fn value_noise(x: f32, y: f32, scale: f32, seed: u64) -> f32 {
    let (fx, fy) = (x / scale, y / scale);
    let (x0, y0) = (fx.floor(), fy.floor());
    let (tx, ty) = (fx - x0, fy - y0);
    let (tx, ty) = (tx * tx * (3.0 - 2.0 * tx), ty * ty * (3.0 - 2.0 * ty));
    let (x0, y0) = (x0 as i64, y0 as i64);
    let a = hash(x0, y0, seed) + (hash(x0 + 1, y0, seed) - hash(x0, y0, seed)) * tx;
    let b = hash(x0, y0 + 1, seed) + (hash(x0 + 1, y0 + 1, seed) - hash(x0, y0 + 1, seed)) * tx;
    a + (b - a) * ty
}

/// A photo-like landscape: a sky graded to the horizon, a sun with its glow, clouds, two ranges
/// of hills with texture, and grain on every pixel.
fn photo(w: u32, h: u32) -> RgbImage {
    let (wf, hf) = (w as f32, h as f32);
    RgbImage::from_fn(w, h, |x, y| {
        let (xf, yf) = (x as f32, y as f32);
        let v = yf / hf;
        let mut c = [40.0 + 200.0 * v, 80.0 + 110.0 * v, 170.0 - 60.0 * v.powi(2)];
        let (dx, dy) = (xf - wf * 0.68, yf - hf * 0.42);
        let d = (dx * dx + dy * dy).sqrt();
        let glow = (-d / 140.0).exp();
        for (ch, k) in c.iter_mut().zip([255.0, 190.0, 90.0]) {
            *ch += (k - *ch) * glow;
        }
        if d < 46.0 {
            c = [255.0, 236.0, 180.0];
        }
        let cloud =
            value_noise(xf, yf * 2.5, 160.0, 1) * 0.7 + value_noise(xf, yf * 2.5, 40.0, 2) * 0.3;
        let cloud = ((cloud - 0.55) * 3.0).clamp(0.0, 1.0) * (1.0 - v);
        for ch in &mut c {
            *ch += (245.0 - *ch) * cloud * 0.8;
        }
        let far = hf * 0.55 + 60.0 * (xf / 210.0).sin() + 35.0 * (xf / 97.0 + 1.3).sin();
        let near = hf * 0.72 + 80.0 * (xf / 330.0 + 0.7).sin() + 25.0 * (xf / 61.0).cos();
        let texture = value_noise(xf, yf, 24.0, 3) * 0.6 + value_noise(xf, yf, 6.0, 4) * 0.4;
        if yf > near {
            let shade = 0.55 + 0.45 * texture - 0.3 * (yf - near) / hf;
            c = [70.0 * shade, 120.0 * shade, 40.0 * shade];
        } else if yf > far {
            let haze = (yf - far) / (near - far).max(1.0);
            let shade = 0.7 + 0.3 * texture;
            c = [
                (90.0 + 40.0 * haze) * shade,
                (100.0 + 30.0 * haze) * shade,
                (130.0 - 20.0 * haze) * shade,
            ];
        }
        let grain = (hash(i64::from(x), i64::from(y), 5) - 0.5) * 14.0;
        Rgb(c.map(|ch| (ch + grain).clamp(0.0, 255.0) as u8))
    })
}

/// The bench image, saved as the API would have saved it.
fn source_png(dir: &Path) -> PathBuf {
    let path = dir.join(format!("photo-{}x{}.png", SOURCE.0, SOURCE.1));
    photo(SOURCE.0, SOURCE.1)
        .save(&path)
        .expect("cannot save the bench image");
    path
}

unsafe extern "C" {
    fn dup(fd: c_int) -> c_int;
    fn dup2(from: c_int, to: c_int) -> c_int;
    fn close(fd: c_int) -> c_int;
}

/// Points the process's stdout (fd 1) at `file` while it lives: viuer prints half blocks to
/// stdout and nowhere else.
struct StdoutTo {
    saved: c_int,
}

impl StdoutTo {
    fn file(file: &File) -> StdoutTo {
        io::stdout().flush().expect("flush stdout");
        // SAFETY: plain descriptor calls on descriptors this process owns.
        let saved = unsafe { dup(1) };
        assert!(saved >= 0, "dup(1) failed");
        // SAFETY: as above; `file` outlives the guard.
        assert!(unsafe { dup2(file.as_raw_fd(), 1) } >= 0, "dup2 failed");
        StdoutTo { saved }
    }
}

impl Drop for StdoutTo {
    fn drop(&mut self) {
        let _ = io::stdout().flush();
        // SAFETY: `saved` is the descriptor dup'ed in `file`, closed only here.
        unsafe {
            dup2(self.saved, 1);
            close(self.saved);
        }
    }
}

/// What the preview writes for a fitted image at the top left: the payload's bytes (kitty: the
/// data and its placement), or viuer's half blocks on stdout, configured as `screen.rs` does.
fn write_out(fitted: &Fitted, out: &mut File) {
    match &*fitted.payload {
        Payload::Bytes(bytes) => out.write_all(bytes).expect("write"),
        Payload::Kitty { id, transmit } => {
            out.write_all(transmit).expect("write");
            let place = encode::kitty_place(*id, fitted.cells.0, fitted.cells.1);
            out.write_all(place.as_bytes()).expect("write");
        }
        // Kitty through tmux (not benched): the placeholder cells are ratatui's.
        Payload::KittyCells { transmit, .. } => out.write_all(transmit).expect("write"),
        Payload::Viuer(img) => {
            let config = viuer::Config {
                transparent: false,
                absolute_offset: true,
                x: 0,
                y: 0,
                restore_cursor: true,
                width: Some(u32::from(fitted.cells.0)),
                height: Some(u32::from(fitted.cells.1)),
                truecolor: true,
                use_kitty: false,
                use_iterm: false,
                ..viuer::Config::default()
            };
            viuer::print(img, &config).expect("viuer print");
        }
    }
}

/// Runs `routine` `iters` times with stdout pointed at `/dev/null`, and times it.
fn timed(iters: u64, mut routine: impl FnMut(&mut File)) -> Duration {
    let mut null = File::create("/dev/null").expect("/dev/null");
    let _redirect = StdoutTo::file(&null);
    let start = Instant::now();
    for _ in 0..iters {
        routine(&mut null);
    }
    start.elapsed()
}

/// A sixel image's size in pixels, from its raster attributes (`"1;1;W;H`).
fn sixel_size(bytes: &[u8]) -> Option<(u32, u32)> {
    let text = String::from_utf8_lossy(&bytes[..bytes.len().min(64)]);
    let (_, rest) = text.split_once("\"1;1;")?;
    let mut it = rest.split(|c: char| !c.is_ascii_digit());
    Some((it.next()?.parse().ok()?, it.next()?.parse().ok()?))
}

/// Once per case, outside the measurement: the bytes written, kept for `viu-compare` (which
/// also times the terminal taking them), and a line saying the cells covered.
fn record(dir: &Path, png: &Path, cases: &mut String) {
    for (protocol, name) in PROTOCOLS {
        for pane in PANES {
            let fitted = decode_fitted(png, pane, encoding(protocol)).expect("decode_fitted");
            let path = dir.join(format!("{name}-{}x{}.out", pane.0, pane.1));
            let mut file = File::create(&path).expect("create the bytes file");
            {
                let _redirect = StdoutTo::file(&file);
                write_out(&fitted, &mut file);
            }
            let bytes = fs::metadata(&path).map(|m| m.len()).unwrap_or(0);
            let px = match &*fitted.payload {
                Payload::Viuer(img) => Some(img.dimensions()),
                Payload::Bytes(b) if b.starts_with(b"\x1bP") => sixel_size(b),
                // Kitty and iTerm2: a canvas of whole cells, the image centred on it.
                _ => Some((
                    u32::from(fitted.cells.0) * CELL_PX.0,
                    u32::from(fitted.cells.1) * CELL_PX.1,
                )),
            }
            .unwrap_or_default();
            cases.push_str(&format!(
                "{name}\t{}x{}\t{}\t{}\t{}x{}\t{bytes}\t{}\n",
                pane.0,
                pane.1,
                fitted.cells.0,
                fitted.cells.1,
                px.0,
                px.1,
                path.display()
            ));
        }
    }
}

fn preview(c: &mut Criterion) {
    let dir = out_dir();
    fs::create_dir_all(&dir).expect("cannot create the bench directory");
    let png = source_png(&dir);
    let mut cases = format!("# source\t{}\n", png.display());
    cases.push_str("# protocol\tpane\tcols\trows\tpx\tbytes\tfile\n");
    record(&dir, &png, &mut cases);
    fs::write(dir.join("cases.tsv"), &cases).expect("cannot write cases.tsv");

    let mut group = c.benchmark_group("preview");
    group.sampling_mode(SamplingMode::Flat).sample_size(20);
    for (protocol, name) in PROTOCOLS {
        for pane in PANES {
            let id = BenchmarkId::new(name, format!("{}x{}", pane.0, pane.1));
            group.bench_function(id, |b| {
                b.iter_custom(|iters| {
                    timed(iters, |out| {
                        let fitted =
                            decode_fitted(&png, pane, encoding(protocol)).expect("decode_fitted");
                        write_out(black_box(&fitted), out);
                    })
                })
            });
        }
    }
    group.finish();

    let img: DynamicImage = image::open(&png).expect("decode");
    let mut parts = c.benchmark_group("preview-parts");
    parts.sampling_mode(SamplingMode::Flat).sample_size(20);
    parts.bench_function(
        BenchmarkId::new("decode", format!("{}x{}", SOURCE.0, SOURCE.1)),
        |b| b.iter(|| black_box(image::open(&png).expect("decode"))),
    );
    for (protocol, name) in PROTOCOLS {
        for pane in PANES {
            let id = BenchmarkId::new(
                format!("fit-encode-write-{name}"),
                format!("{}x{}", pane.0, pane.1),
            );
            parts.bench_function(id, |b| {
                b.iter_custom(|iters| {
                    timed(iters, |out| {
                        let fitted =
                            encode_fitted(&img, pane, encoding(protocol)).expect("encode_fitted");
                        write_out(black_box(&fitted), out);
                    })
                })
            });
        }
    }
    parts.finish();

    cached(c, &png);

    // The steps of each, on the decoded image, as `encode_fitted` takes them.
    let mut steps = c.benchmark_group("preview-steps");
    steps.sampling_mode(SamplingMode::Flat).sample_size(20);
    for pane in PANES {
        let at = format!("{}x{}", pane.0, pane.1);
        let blocks = fit(SOURCE, pane, (1, 2), None, 1);
        let small = encode::scale(&img, blocks.px);
        steps.bench_function(BenchmarkId::new("blocks-resize", &at), |b| {
            b.iter(|| black_box(encode::scale(&img, blocks.px)))
        });
        let fitted = Fitted {
            cells: blocks.cells,
            source_dims: SOURCE,
            payload: Arc::new(Payload::Viuer(small)),
        };
        steps.bench_function(BenchmarkId::new("blocks-print", &at), |b| {
            b.iter_custom(|iters| timed(iters, |out| write_out(&fitted, out)))
        });

        let sixel = fit(SOURCE, pane, CELL_PX, None, 6);
        steps.bench_function(BenchmarkId::new("sixel-resize", &at), |b| {
            b.iter(|| black_box(encode::scale(&img, sixel.px).to_rgba8()))
        });
        let small = encode::scale(&img, sixel.px);
        // Already at size: `encode::sixel`'s resize is a copy, the rest is icy_sixel.
        steps.bench_function(BenchmarkId::new("sixel-quantise-encode", &at), |b| {
            b.iter(|| black_box(encode::sixel(&small, sixel.px).expect("sixel")))
        });

        let kitty = fit(SOURCE, pane, CELL_PX, None, 1);
        let canvas = (
            u32::from(kitty.cells.0) * CELL_PX.0,
            u32::from(kitty.cells.1) * CELL_PX.1,
        );
        steps.bench_function(BenchmarkId::new("png-resize-canvas", &at), |b| {
            b.iter(|| black_box(encode::on_canvas(&img, kitty.px, canvas)))
        });
        let on_canvas = encode::on_canvas(&img, kitty.px, canvas);
        steps.bench_function(BenchmarkId::new("png-encode", &at), |b| {
            b.iter(|| black_box(encode::png(&on_canvas).expect("png")))
        });
        let png = encode::png(&on_canvas).expect("png");
        steps.bench_function(BenchmarkId::new("iterm-base64", &at), |b| {
            b.iter(|| black_box(encode::iterm(&png, kitty.cells.0, kitty.cells.1)))
        });
        steps.bench_function(BenchmarkId::new("kitty-base64", &at), |b| {
            b.iter(|| black_box(encode::kitty_transmit(&png, 1)))
        });
    }
    steps.finish();
}

/// The process's resident memory, from `/proc/self/status`.
fn rss_kib() -> u64 {
    let status = fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

/// A selection change to an image seen before, or decoded ahead as a neighbour: the cache's
/// answer and the write. Then what the cache holds after 200 different previews were seen,
/// per protocol and pane (the bound is in bytes: large ones are kept fewer).
fn cached(c: &mut Criterion, png: &Path) {
    let mut group = c.benchmark_group("preview-cached");
    group.sampling_mode(SamplingMode::Flat).sample_size(20);
    let mut seen = String::new();
    for (protocol, name) in PROTOCOLS {
        for pane in PANES {
            let fitted = decode_fitted(png, pane, encoding(protocol)).expect("decode_fitted");
            let before = rss_kib();
            let mut cache = Cache::new(cache::LIMIT);
            for i in 0..200 {
                let key = Key {
                    path: PathBuf::from(format!("/previews/{i}.png")),
                    cells: pane,
                };
                // Each its own copy, as 200 decodes would be.
                let copy = Fitted {
                    payload: Arc::new(match &*fitted.payload {
                        Payload::Viuer(img) => Payload::Viuer(img.clone()),
                        Payload::Bytes(b) => Payload::Bytes(b.clone()),
                        Payload::Kitty { id, transmit } => Payload::Kitty {
                            id: *id,
                            transmit: transmit.clone(),
                        },
                        Payload::KittyCells { id, transmit } => Payload::KittyCells {
                            id: *id,
                            transmit: transmit.clone(),
                        },
                    }),
                    ..fitted.clone()
                };
                cache.insert(key, copy);
            }
            seen.push_str(&format!(
                "{name} {}x{}: {} of 200 kept, {:.1} MiB counted (limit {} MiB), RSS +{:.1} MiB\n",
                pane.0,
                pane.1,
                cache.len(),
                cache.bytes() as f64 / 1048576.0,
                cache::LIMIT >> 20,
                rss_kib().saturating_sub(before) as f64 / 1024.0,
            ));
            let key = Key {
                path: png.to_path_buf(),
                cells: pane,
            };
            cache.insert(key.clone(), fitted);
            let id = BenchmarkId::new(name, format!("{}x{}", pane.0, pane.1));
            group.bench_function(id, |b| {
                b.iter_custom(|iters| {
                    timed(iters, |out| {
                        let fitted = cache.get(&key).expect("kept");
                        write_out(black_box(&fitted), out);
                    })
                })
            });
        }
    }
    group.finish();
    eprint!("{seen}");
    let _ = fs::write(out_dir().join("cached.txt"), seen);
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3));
    targets = preview
}
criterion_main!(benches);
