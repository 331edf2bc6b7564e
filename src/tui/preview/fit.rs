//! How big an image is drawn: as large as its pane allows, its aspect kept, in whole pixels of
//! the terminal's real cell size, never past the pane.

/// An image fitted to a box of cells.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Fit {
    /// The image's size in pixels, as it is sent.
    pub px: (u32, u32),
    /// The cells it covers (whole cells: the last row or column may be partly empty).
    pub cells: (u16, u16),
}

/// Fits an image of `src` pixels into `cells` cells of `cell` pixels each, at most `max`
/// pixels (a terminal's limit), with a height that is a multiple of `row_step` pixels (sixel
/// draws bands of 6 rows: a partial band must not reach past the box).
pub fn fit(
    src: (u32, u32),
    cells: (u16, u16),
    cell: (u32, u32),
    max: Option<(u32, u32)>,
    row_step: u32,
) -> Fit {
    let (cw, ch) = (cell.0.max(1), cell.1.max(1));
    let (mut bw, mut bh) = (u32::from(cells.0) * cw, u32::from(cells.1) * ch);
    if let Some((mw, mh)) = max {
        bw = bw.min(mw);
        bh = bh.min(mh);
    }
    let step = row_step.max(1);
    bh -= bh % step;
    let (bw, bh) = (bw.max(1), bh.max(1));
    let (iw, ih) = (f64::from(src.0.max(1)), f64::from(src.1.max(1)));
    let scale = (f64::from(bw) / iw).min(f64::from(bh) / ih);
    let w = ((iw * scale).round() as u32).clamp(1, bw);
    let h = ((ih * scale).round() as u32).clamp(1, bh);
    let cols = w.div_ceil(cw).clamp(1, u32::from(cells.0.max(1)));
    let rows = h.div_ceil(ch).clamp(1, u32::from(cells.1.max(1)));
    Fit {
        px: (w, h),
        cells: (cols as u16, rows as u16),
    }
}

/// Half blocks: each cell shows two pixels, one above the other, so a pixel is a cell wide and
/// half a cell tall on screen (8x8.5 with 8x17 cells, not square). The fit is made in screen
/// pixels and counted back in those: `px` is the image to print, one pixel per column and two
/// per row.
pub fn fit_blocks(src: (u32, u32), cells: (u16, u16), cell: (u32, u32)) -> Fit {
    let (cols, rows) = (u32::from(cells.0.max(1)), u32::from(cells.1.max(1)));
    let (pw, ph) = (f64::from(cell.0.max(1)), f64::from(cell.1.max(1)) / 2.0);
    let (iw, ih) = (f64::from(src.0.max(1)), f64::from(src.1.max(1)));
    let scale = (f64::from(cols) * pw / iw).min(f64::from(rows * 2) * ph / ih);
    let w = ((iw * scale / pw).round() as u32).clamp(1, cols);
    let h = ((ih * scale / ph).round() as u32).clamp(1, rows * 2);
    Fit {
        px: (w, h),
        cells: (w as u16, h.div_ceil(2) as u16),
    }
}

/// The size in cells of an image of `px` pixels drawn in half blocks in `cells`, in cells
/// twice as tall as wide.
pub fn fit_cells(px: (u32, u32), cells: (u16, u16)) -> (u16, u16) {
    fit_blocks(px, cells, (1, 2)).cells
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn half_blocks_keep_the_aspect() {
        // 60x30 cells hold 60x60 "pixels".
        assert_eq!(fit_cells((1024, 1024), (60, 30)), (60, 30));
        assert_eq!(fit_cells((1536, 1024), (60, 30)), (60, 20));
        assert_eq!(fit_cells((1024, 1536), (60, 30)), (40, 30));
        assert_eq!(fit_cells((1024, 1024), (38, 10)), (20, 10));
        assert_eq!(fit_cells((0, 0), (0, 0)), (1, 1));
    }

    /// Every aspect in every odd cell size: aspect within 2 %, inside the box, and filling it
    /// along one side to within a cell.
    #[test]
    fn fits_odd_cell_sizes_without_stretching() {
        for cell in [(6, 10), (8, 17), (10, 20), (9, 18), (7, 15)] {
            for src in [
                (1024, 1024),
                (1536, 1024),
                (1024, 1536),
                (3000, 500),
                (40, 30),
            ] {
                for cells in [(60, 20), (38, 10), (150, 40), (13, 7)] {
                    for step in [1, 6] {
                        let f = fit(src, cells, cell, None, step);
                        let want = f64::from(src.0) / f64::from(src.1);
                        let got = f64::from(f.px.0) / f64::from(f.px.1);
                        // One pixel of rounding on a side of a few pixels is more than 2 %.
                        if f.px.0.min(f.px.1) >= 60 {
                            assert!(
                                (got / want - 1.0).abs() <= 0.02,
                                "{src:?} {cells:?} {cell:?}: {f:?}"
                            );
                        }
                        let (bw, bh) = (u32::from(cells.0) * cell.0, u32::from(cells.1) * cell.1);
                        assert!(f.px.0 <= bw && f.px.1 <= bh, "{f:?} past {bw}x{bh}");
                        assert!(f.cells.0 <= cells.0 && f.cells.1 <= cells.1);
                        assert!(u32::from(f.cells.0) * cell.0 >= f.px.0);
                        assert!(u32::from(f.cells.1) * cell.1 >= f.px.1);
                        let fills = f.px.0 + cell.0 >= bw || f.px.1 + cell.1.max(step) >= bh;
                        assert!(fills, "{src:?} {cells:?} {cell:?}: {f:?} leaves room");
                        if step == 6 {
                            assert!(f.px.1.div_ceil(6) * 6 <= bh.max(6));
                        }
                    }
                }
            }
        }
    }

    #[test]
    fn half_blocks_keep_the_aspect_in_cells_that_are_not_one_by_two() {
        // 8x17 cells: a half-block pixel is 8x8.5 on screen. A square image in 50x25 cells
        // (400x425 px) is 50 pixels wide and 47 tall: 400x399.5 on screen, not 400x425.
        let f = fit_blocks((1024, 1024), (50, 25), (8, 17));
        assert_eq!(
            f,
            Fit {
                px: (50, 47),
                cells: (50, 24)
            }
        );
        for cell in [(6, 10), (8, 17), (10, 20), (9, 18), (7, 15)] {
            for src in [(1024, 1024), (1536, 1024), (1024, 1536)] {
                let f = fit_blocks(src, (80, 30), cell);
                let on_screen = (f64::from(f.px.0) * f64::from(cell.0))
                    / (f64::from(f.px.1) * f64::from(cell.1) / 2.0);
                let want = f64::from(src.0) / f64::from(src.1);
                assert!(
                    (on_screen / want - 1.0).abs() <= 0.02,
                    "{src:?} {cell:?}: {f:?}"
                );
                assert!(f.cells.0 <= 80 && f.cells.1 <= 30);
            }
        }
    }

    #[test]
    fn a_terminal_limit_caps_the_pixels() {
        let f = fit((1536, 1024), (150, 40), (8, 17), Some((1000, 1000)), 6);
        assert_eq!(f.px.0, 1000);
        assert!((f64::from(f.px.0) / f64::from(f.px.1) - 1.5).abs() < 0.01);
        assert_eq!(f.cells, (125, 40));
        // 8x17 cells: a 50-column pane is 400 px wide, and the image fills it.
        let f = fit((1024, 1024), (50, 30), (8, 17), None, 6);
        assert_eq!(f.px, (400, 400));
        assert_eq!(f.cells, (50, 24));
    }
}
