#!/usr/bin/env python3
"""Real-terminal test of fouro's inline image preview (see README.md in this folder).

Runs `fouro demo` in real terminals on a private Xvfb display, drives it with xdotool and
checks screenshots by program: where the demo image is (found by its colours), whether it lies
inside the pane it belongs to with the right aspect, whether anything of it stays after a step
that removes it, and whether the app still answers keys. Prints (and writes) a Markdown table.

Python 3 standard library plus numpy; the tools: Xvfb, xdotool, ImageMagick (`import`,
`convert`), the terminals themselves. `run` (next to this file) installs them.
"""

import argparse
import hashlib
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
SESSION = os.path.join(HERE, "session.sh")

COLS, ROWS = 150, 44
RESIZED = (124, 38)  # still the wide layout (>= 120x36), but every pane moves

# What each terminal is tested with: auto-detection, half blocks, and each protocol it has.
PROTOCOLS = {
    "xterm": ["auto", "blocks", "sixel"],
    "mlterm": ["auto", "blocks", "sixel", "iterm"],
    "kitty": ["auto", "blocks", "kitty"],
    "konsole": ["auto", "blocks", "kitty", "sixel", "iterm"],
}
TERMINALS = list(PROTOCOLS)

STEPS_FULL = [
    "start",
    "first image",
    "second task",
    "help (F1)",
    "help closed",
    "task switch",
    "variant switch",
    "resize",
    "full screen",
    "full screen back",
    "history (F3)",
    "history closed",
    "quit",
]

# Timeouts (seconds). A step whose expected change does not come in time is a FAIL, or a
# FREEZE when the app then does not answer a key either.
T_START = 20.0
T_IMAGE = 15.0
T_CHANGE = 6.0
T_QUIT = 8.0
T_PROBE = 4.0
# A failed check that stays the same this long ends the wait (unless it is one of WAITING).
SETTLED = 3.0
WAITING = ("no image shown", "image still changing", "the screen did not change", "no screenshot")

# Colour matching: a pixel is of a colour when every channel is within TOL of it.
TOL = 22
# A palette colour is left out of the search when it is within this of the terminal's
# background or text colour.
NEAR_BG = 60
# Fewer core pixels than this: nothing of the image is there.
GONE_PX = 24
# At least this many core pixels: an image is there.
PRESENT_PX = 400

# The colours the app draws solid areas with are the terminal's 16 colours, its background
# and its text colour: here those of xterm, kitty and konsole's Breeze (mlterm's are xterm's).
# Prompts are chosen so that none of their image colours is near any of these; at run time the
# colours near what the terminal really shows (measured) are left out as well.
UI_COLOURS = [
    (0, 0, 0), (255, 255, 255), (205, 0, 0), (0, 205, 0), (205, 205, 0), (0, 0, 238),
    (205, 0, 205), (0, 205, 205), (229, 229, 229), (127, 127, 127), (255, 0, 0), (0, 255, 0),
    (255, 255, 0), (92, 92, 255), (255, 0, 255), (0, 255, 255), (0, 0, 205), (204, 4, 3),
    (25, 203, 0), (206, 203, 0), (13, 115, 204), (203, 30, 209), (13, 205, 205), (221, 221, 221),
    (118, 118, 118), (242, 32, 31), (35, 253, 0), (255, 253, 0), (26, 143, 255), (253, 40, 255),
    (20, 255, 255), (35, 38, 39), (237, 21, 21), (17, 209, 22), (246, 116, 0), (29, 153, 243),
    (155, 89, 182), (26, 188, 156), (252, 252, 252), (127, 140, 141), (192, 57, 43),
    (28, 220, 154), (253, 188, 75), (61, 174, 233), (142, 68, 173), (22, 160, 133),
    (49, 54, 59), (239, 240, 241),
]
# How far a prompt's colours must be from UI colours: exact colours, 256-colour stand-ins.
FAR = 44
FAR256 = 26


# --------------------------------------------------------------------------------------------
# Colours of the demo's images


def demo_palette(prompt):
    """The four colours of the demo image for `prompt` (src/emulator/images.rs: palette)."""
    d = hashlib.sha256(prompt.encode()).digest()
    cols = [tuple(d[8 + 3 * i: 11 + 3 * i]) for i in range(4)]
    cols[3] = tuple(c // 4 for c in cols[3])
    return cols


CUBE = [0, 95, 135, 175, 215, 255]
ANSI256 = [(r, g, b) for r in CUBE for g in CUBE for b in CUBE] + \
    [(v, v, v) for v in range(8, 239, 10)]


def ansi256(c):
    """What a 256-colour terminal shows for `c` (half blocks without COLORTERM=truecolor):
    the nearest colour of the 6x6x6 cube or of the grey ramp."""
    return min(ANSI256, key=lambda v: sum((int(x) - y) ** 2 for x, y in zip(c, v)))


def dist(a, b):
    return max(abs(int(x) - int(y)) for x, y in zip(a, b))


def variants_of(c):
    """The colour as a truecolour terminal shows it, and as a 256-colour one does."""
    return [tuple(c), ansi256(c)]


def usable_colours(palette, avoid, far=FAR, far256=FAR256):
    """The palette colours (each with its 256-colour stand-in) far from every colour of
    `avoid`."""
    out = []
    for c in palette:
        exact, q = variants_of(c)
        if all(dist(exact, a) >= far for a in avoid) and all(dist(q, a) >= far256 for a in avoid):
            out.append([exact, q])
    return out


def pick_prompts(count, prefix="fouro test"):
    """Prompts whose images are easy to find: their three bright colours (and the 256-colour
    stand-ins) far from every UI colour and from every other chosen prompt's colours."""
    chosen = []
    taken = []
    n = 0
    while len(chosen) < count:
        n += 1
        prompt = f"{prefix} {n}"
        pal = demo_palette(prompt)
        # The dark fourth colour is rarely usable; the three bright ones are enough.
        good = usable_colours(pal[:3], UI_COLOURS + taken)
        if len(good) < 3:
            continue
        # The dark one must not pass for a background either, or the image's edge could be
        # taken for background.
        if not usable_colours(pal[3:], UI_COLOURS, 24, 20):
            continue
        # Distinct among themselves too, so a pixel is never two colours at once.
        flat = [g[0] for g in good]
        if any(dist(x, y) < 2 * TOL + 2 for i, x in enumerate(flat) for y in flat[i + 1:]):
            continue
        chosen.append(prompt)
        for g in good:
            taken.extend(g)
    return chosen


# --------------------------------------------------------------------------------------------
# Screenshots and finding the image in them


def read_ppm(data):
    m = re.match(rb"P6\s+(\d+)\s+(\d+)\s+(\d+)\s", data)
    if not m:
        raise RuntimeError("not a PPM from import")
    w, h, maxv = int(m.group(1)), int(m.group(2)), int(m.group(3))
    if maxv != 255:
        raise RuntimeError("import gave a 16-bit PPM")
    arr = np.frombuffer(data, dtype=np.uint8, count=w * h * 3, offset=m.end())
    return arr.reshape(h, w, 3)


def near(img16, colour, tol=TOL):
    c = np.array(colour, dtype=np.int16)
    return (np.abs(img16 - c) <= tol).all(axis=2)


def erode3(mask):
    """Pixels whose whole 3x3 neighbourhood is in `mask`."""
    out = np.zeros_like(mask)
    if mask.shape[0] < 3 or mask.shape[1] < 3:
        return out
    core = mask[1:-1, 1:-1].copy()
    for dy in (0, 1, 2):
        for dx in (0, 1, 2):
            core &= mask[dy: dy + mask.shape[0] - 2, dx: dx + mask.shape[1] - 2]
    out[1:-1, 1:-1] = core
    return out


# Colours are looked up in tables of 32x32x32 bins (5 bits a channel): one gather per
# screenshot instead of one comparison per colour.
BINS = (np.stack(np.meshgrid(np.arange(32), np.arange(32), np.arange(32), indexing="ij"),
                 -1).reshape(-1, 3) * 8 + 4).astype(np.int16)


def bin_index(img):
    i = img.astype(np.int32) >> 3
    return (i[..., 0] << 10) | (i[..., 1] << 5) | i[..., 2]


def lut_near(colours, tol):
    """For each bin: is it within `tol` of one of `colours`."""
    lut = np.zeros(len(BINS), dtype=bool)
    for c in colours:
        lut |= (np.abs(BINS - np.array(c, dtype=np.int16)) <= tol).all(axis=1)
    return lut


def lut_labels(palettes):
    """For each bin: 8 * (index of the palette) + (index of the colour), or -1."""
    lut = np.full(len(BINS), -1, dtype=np.int16)
    for k, colours in enumerate(palettes):
        for j, variants in enumerate(colours):
            for n, v in enumerate(variants):
                hit = (np.abs(BINS - np.array(v, dtype=np.int16)) <= (TOL if n == 0 else 12)).all(1)
                lut[hit & (lut < 0)] = 8 * k + j
    return lut


def flat3(idx):
    """Pixels whose 3x3 neighbourhood is all one colour bin (antialiased text never is)."""
    h, w = idx.shape
    out = np.zeros((h, w), dtype=bool)
    if h < 3 or w < 3:
        return out
    centre = idx[1:-1, 1:-1]
    eq = np.ones((h - 2, w - 2), dtype=bool)
    for dy in (0, 1, 2):
        for dx in (0, 1, 2):
            if dy == 1 and dx == 1:
                continue
            eq &= idx[dy: h - 2 + dy, dx: w - 2 + dx] == centre
    out[1:-1, 1:-1] = eq
    return out


@dataclass
class Found:
    count: int = 0
    bbox: tuple = None  # x0, y0, x1, y1 (exclusive), in window pixels

    @property
    def present(self):
        return self.count >= PRESENT_PX

    @property
    def gone(self):
        return self.count < GONE_PX

    def size(self):
        x0, y0, x1, y1 = self.bbox
        return x1 - x0, y1 - y0


class Shot:
    """A screenshot, analysed: the image is whatever is drawn in flat 3x3 patches of colours
    the app never uses itself (the terminal's 16 colours, its background, text and cursor
    colours), inside the text area (the terminal's own bars are not looked at)."""

    def __init__(self, img, ui_lut, area):
        self.img = img
        self.idx = bin_index(img)
        self.flat = flat3(self.idx)
        ax0, ay0, ax1, ay1 = area
        core = np.zeros(self.flat.shape, dtype=bool)
        core[ay0:ay1, ax0:ax1] = self.flat[ay0:ay1, ax0:ax1] & ~ui_lut[self.idx[ay0:ay1, ax0:ax1]]
        self.core = core
        count = int(core.sum())
        if count == 0:
            self.found = Found(0, None)
            return
        ys = np.flatnonzero(core.any(axis=1))
        xs = np.flatnonzero(core.any(axis=0))
        # Core pixels are one in from the patch's edge.
        self.found = Found(count, (int(xs[0]) - 1, int(ys[0]) - 1, int(xs[-1]) + 2,
                                   int(ys[-1]) + 2))

    def labels(self, lut):
        lab = lut[self.idx]
        lab[~self.core] = -1
        return lab


def blocky(lab, bbox, origin, cell):
    """True when the image is drawn in whole cells (half blocks): its colour changes along a
    row fall on cell borders. `lab`: colour labels (-1: none)."""
    x0, y0, x1, y1 = bbox
    lab = lab[y0:y1, x0:x1]
    # A change between two different colours at most 2 px apart (over one blended pixel).
    a, b = lab[:, :-2], lab[:, 2:]
    ch = (a >= 0) & (b >= 0) & (a != b)
    _, xs = np.nonzero(ch)
    if len(xs) < 40:
        return False
    borders = (xs + x0 + 1 - origin[0]) % cell[0]
    on_border = (borders <= 1) | (borders >= cell[0] - 1)
    return bool(on_border.mean() > 0.9)


# --------------------------------------------------------------------------------------------
# The display, the terminals


def run(cmd, env=None, timeout=20, check=False, capture=True):
    r = subprocess.run(
        cmd, env=env, timeout=timeout, check=check,
        stdout=subprocess.PIPE if capture else subprocess.DEVNULL,
        stderr=subprocess.PIPE if capture else subprocess.DEVNULL,
    )
    return r


class Display:
    """A private Xvfb. Its number is picked at random from a high range (other tools on the
    machine tend to take the low ones), passed with -displayfd; started again, under another
    number, when it went away."""

    def __init__(self, workdir):
        self.workdir = workdir
        self.proc = None
        self.log = open(os.path.join(workdir, "xvfb.log"), "ab")
        self.start()

    def start(self):
        import random
        for _ in range(10):
            number = random.randrange(100, 900)
            if os.path.exists(f"/tmp/.X11-unix/X{number}") or os.path.exists(f"/tmp/.X{number}-lock"):
                continue
            r, w = os.pipe()
            self.proc = subprocess.Popen(
                ["Xvfb", f":{number}", "-displayfd", str(w), "-screen", "0", "1600x1000x24",
                 "-nolisten", "tcp", "+extension", "GLX", "-br",
                 # No server reset when the last client goes (between two terminals): a
                 # terminal started during a reset cannot open the display.
                 "-noreset"],
                pass_fds=(w,), stdout=self.log, stderr=self.log, start_new_session=True,
            )
            os.close(w)
            buf = b""
            while not buf.endswith(b"\n"):
                chunk = os.read(r, 64)
                if not chunk:
                    break
                buf += chunk
            os.close(r)
            if buf.strip() and self.proc.poll() is None:
                self.number = int(buf.decode().strip())
                break
            stop_group(self.proc)
        else:
            raise RuntimeError("Xvfb did not start (see xvfb.log)")
        self.name = f":{self.number}"
        self.env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "HOME": os.environ.get("HOME", "/root"),
            "USER": os.environ.get("USER", "root"),
            "LANG": "C.UTF-8",
            "LC_ALL": "C.UTF-8",
            "SHELL": "/bin/bash",
            "DISPLAY": self.name,
        }
        # The terminals' runtime files and settings (konsole remembers its window size) stay
        # in the work directory, away from the user's.
        for var, name in (("XDG_RUNTIME_DIR", "xdg-runtime"), ("XDG_CONFIG_HOME", "xdg-config"),
                          ("XDG_DATA_HOME", "xdg-data"), ("XDG_CACHE_HOME", "xdg-cache"),
                          ("XDG_STATE_HOME", "xdg-state")):
            path = os.path.join(self.workdir, name)
            os.makedirs(path, mode=0o700, exist_ok=True)
            self.env[var] = path

    def alive(self):
        return (self.proc is not None and self.proc.poll() is None
                and os.path.exists(f"/tmp/.X11-unix/X{self.number}"))

    def ensure(self):
        """Starts the display again when it went away (its process, or its socket file, which
        clients need). Returns True when it had to."""
        if self.alive():
            return False
        if self.proc is not None:
            stop_group(self.proc)
        self.start()
        return True

    def xdotool(self, *args, timeout=10):
        r = run(["xdotool", *args], env=self.env, timeout=timeout)
        return r.stdout.decode(errors="replace").strip()

    def key(self, *keys):
        self.xdotool("key", "--delay", "60", *keys)

    def type(self, text):
        self.xdotool("type", "--delay", "25", text)

    def shot(self, geom):
        x, y, w, h = geom
        r = run(["import", "-display", self.name, "-window", "root", "-crop",
                 f"{w}x{h}+{x}+{y}", "+repage", "-depth", "8", "ppm:-"], env=self.env)
        if r.returncode != 0:
            raise RuntimeError("import failed: " + r.stderr.decode(errors="replace"))
        return read_ppm(r.stdout)

    def stop(self):
        if self.proc is not None:
            stop_group(self.proc)
        self.log.close()


def stop_group(proc, grace=3.0):
    """Ends a process group this harness started (by its id), politely first."""
    if proc.poll() is not None:
        return
    try:
        os.killpg(proc.pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    try:
        proc.wait(grace)
    except subprocess.TimeoutExpired:
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        proc.wait(5)


def terminal_command(kind, cmd):
    if kind == "xterm":
        return ["xterm", "-ti", "vt340", "-xrm", "XTerm*decTerminalID: vt340",
                "-xrm", "XTerm*numColorRegisters: 256", "-xrm", "XTerm*allowWindowOps: true",
                "-geometry", f"{COLS}x{ROWS}+0+0", "-fa", "DejaVu Sans Mono", "-fs", "10",
                "-e", *cmd], {}
    if kind == "mlterm":
        return ["mlterm", "-g", f"{COLS}x{ROWS}+0+0", "--fontsize=14", "-e", *cmd], {}
    if kind == "kitty":
        return ["kitty", "--config", "NONE", "-o", "font_size=10",
                "-o", f"initial_window_width={COLS}c", "-o", f"initial_window_height={ROWS}c",
                "-o", "remember_window_size=no", "-o", "cursor_blink_interval=0", *cmd], \
            {"LIBGL_ALWAYS_SOFTWARE": "1"}
    if kind == "konsole":
        return ["dbus-run-session", "konsole", "--nofork", "--separate",
                "-p", f"TerminalColumns={COLS}", "-p", f"TerminalRows={ROWS}", "-e", *cmd], {}
    raise ValueError(kind)


class TerminalGone(Exception):
    """The terminal closed under the harness (it crashed, or something outside killed it)."""


class Terminal:
    """One terminal window running session.sh; fouro runs in it once per job."""

    def __init__(self, kind, display, workdir):
        self.kind = kind
        self.x = display
        self.workdir = workdir
        self.proc = None

    def start(self):
        self.ctl = tempfile.mkdtemp(prefix=f"ctl-{self.kind}-", dir=self.workdir)
        self.fifo = os.path.join(self.ctl, "jobs")
        os.mkfifo(self.fifo)
        cmd, extra = terminal_command(self.kind, ["bash", SESSION, self.ctl])
        env = dict(self.x.env, **extra)
        self.log = open(os.path.join(self.workdir, f"{self.kind}.log"), "ab")
        self.proc = subprocess.Popen(cmd, env=env, stdout=self.log, stderr=self.log,
                                     start_new_session=True, cwd=self.workdir)
        deadline = time.time() + T_START
        self.wid = None
        while time.time() < deadline and self.proc.poll() is None:
            ids = self.x.xdotool("search", "--onlyvisible", "--class", self.kind).split()
            best = None
            for wid in ids:
                g = self.window_geometry(wid)
                if g and g[2] > 200 and g[3] > 200 and (best is None or g[2] * g[3] > best[1]):
                    best = (wid, g[2] * g[3])
            if best and os.path.exists(os.path.join(self.ctl, "size")):
                self.wid = best[0]
                break
            time.sleep(0.2)
        if not self.wid:
            raise RuntimeError(f"{self.kind}: no window within {T_START:.0f} s "
                               f"(exit {self.proc.poll()}; see {self.kind}.log)")
        with open(os.path.join(self.ctl, "size")) as f:
            self.rows, self.cols = map(int, f.read().split())
        with open(os.path.join(self.ctl, "tty")) as f:
            self.tty = f.read().strip()
        self.focus()
        self.calibrate()
        if (self.cols, self.rows) != (COLS, ROWS):
            # Started at another size (a remembered one): make it the one asked for.
            size = self.resize_cells(COLS, ROWS)
            if size:
                self.cols, self.rows = size

    def window_geometry(self, wid=None):
        out = self.x.xdotool("getwindowgeometry", "--shell", wid or self.wid)
        vals = dict(line.split("=", 1) for line in out.splitlines() if "=" in line)
        try:
            return int(vals["X"]), int(vals["Y"]), int(vals["WIDTH"]), int(vals["HEIGHT"])
        except (KeyError, ValueError):
            return None

    def focus(self):
        self.x.xdotool("windowfocus", "--sync", self.wid, timeout=5)

    def geometry(self):
        g = self.window_geometry()
        if g is None or self.proc is None or self.proc.poll() is not None:
            raise TerminalGone(f"the {self.kind} window is gone (exit {self.proc and self.proc.poll()})")
        x, y, w, h = g
        # Keep to the screen (import refuses a crop outside it).
        w = min(w, 1600 - max(x, 0))
        h = min(h, 1000 - max(y, 0))
        return max(x, 0), max(y, 0), w, h

    def shot(self):
        return self.x.shot(self.geometry())

    def calibrate(self):
        """Measures the cell size and the text area's origin from the marks session.sh drew."""
        deadline = time.time() + 10
        why = "no marks"
        while time.time() < deadline:
            img = self.shot()
            img16 = img.astype(np.int16)
            mag = erode3(near(img16, (95, 0, 255), 30))
            h, w = mag.shape
            ys, xs = np.nonzero(mag)
            if len(xs) > 20:
                tl = (xs < w // 2) & (ys < h // 2)
                br = (xs >= w // 2) & (ys >= h // 2)
                if tl.sum() > 10 and br.sum() > 10:
                    tx0, ty0 = xs[tl].min() - 1, ys[tl].min() - 1
                    tx1, ty1 = xs[tl].max() + 2, ys[tl].max() + 2
                    bx0, by0 = xs[br].min() - 1, ys[br].min() - 1
                    cw = (bx0 - tx0) / (self.cols - 2)
                    ch = (by0 - ty0) / (self.rows - 1)
                    if abs(cw - (tx1 - tx0) / 2) <= 1.01 and abs(ch - (ty1 - ty0)) <= 1.01:
                        self.origin = (int(tx0), int(ty0))
                        self.cell = (round(cw, 2), round(ch, 2))
                        cy = int(ty0 + ch / 2)
                        self.fg = tuple(int(v) for v in img[cy, int(tx0 + 5 * cw)])
                        self.bg = tuple(int(v) for v in img[int(ty0 + 2.5 * ch), int(tx0 + 10.5 * cw)])
                        # Row 1: the 16 colours, two cells each.
                        y = int(ty0 + 1.5 * ch)
                        self.ansi = [tuple(int(v) for v in img[y, int(tx0 + (2 * i + 1) * cw)])
                                     for i in range(16)]
                        # The cursor, shown at cell (0,8).
                        self.cursor = tuple(int(v) for v in img[cy, int(tx0 + 8.5 * cw)])
                        self.make_luts()
                        return
                    why = f"marks disagree: {cw:.2f}x{ch:.2f} vs {(tx1 - tx0) / 2}x{ty1 - ty0}"
            time.sleep(0.2)
        save_png(img, os.path.join(self.workdir, f"calibration-{self.kind}.png"))
        raise RuntimeError(f"{self.kind}: could not measure the cells ({why})")

    def ui_colours(self):
        """Every colour the app may draw flat areas with: the 16 colours, background, text,
        cursor."""
        return [self.bg, self.fg, self.cursor] + self.ansi

    def make_luts(self):
        self.ui_lut = lut_near(self.ui_colours(), 16)
        self.text_lut = lut_near([self.bg, self.fg], 16)
        self.fg_lut = lut_near([self.fg], 24)

    def cells_to_px(self, rect):
        """A cell rect (col, row, cols, rows) in window pixels (x0, y0, x1, y1)."""
        c, r, w, h = rect
        ox, oy = self.origin
        cw, ch = self.cell
        return (round(ox + c * cw), round(oy + r * ch), round(ox + (c + w) * cw),
                round(oy + (r + h) * ch))

    def pty_size(self):
        r = run(["stty", "-F", self.tty, "size"])
        try:
            rows, cols = map(int, r.stdout.split())
            return cols, rows
        except ValueError:
            return None

    def pty_raw(self):
        r = run(["stty", "-F", self.tty, "-a"])
        return b"-icanon" in r.stdout

    def resize_cells(self, cols, rows):
        """Resizes the window by whole cells; returns when the pty has the new size."""
        _, _, w, h = self.window_geometry()
        cw, ch = self.cell
        now = self.pty_size() or (self.cols, self.rows)
        nw = int(round(w + (cols - now[0]) * cw))
        nh = int(round(h + (rows - now[1]) * ch))
        self.x.xdotool("windowsize", self.wid, str(nw), str(nh))
        deadline = time.time() + 5
        while time.time() < deadline:
            size = self.pty_size()
            if size == (cols, rows):
                return size
            time.sleep(0.1)
        return self.pty_size()

    def send(self, line):
        # Non-blocking: with no session reading, fail instead of hanging.
        fd = os.open(self.fifo, os.O_WRONLY | os.O_NONBLOCK)
        try:
            os.write(fd, (line + "\n").encode())
        finally:
            os.close(fd)

    def stop(self):
        if self.proc is None:
            return
        if self.proc.poll() is None:
            try:
                self.send("quit")
                self.proc.wait(3)
            except (OSError, subprocess.TimeoutExpired):
                pass
        stop_group(self.proc)
        self.log.close()
        self.proc = None


def save_png(img, path):
    h, w = img.shape[:2]
    data = b"P6 %d %d 255\n" % (w, h) + img.tobytes()
    subprocess.run(["convert", "ppm:-", path], input=data, check=False,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


# --------------------------------------------------------------------------------------------
# The app's layout (src/tui/ui/layout.rs), in cells: where the preview's image may go


def main_preview_inner(cols, rows):
    compact = cols < 120 or rows < 36
    main_h = rows - 1
    left_w = cols // 2 if compact else cols * 2 // 5
    credits_h = 3 if compact else 4
    tasks_h = 10 if compact else max(main_h * 3 // 10, 10)
    y = credits_h + tasks_h
    x = left_w
    return (x + 1, y + 1, cols - x - 2, main_h - y - 2)


def history_preview_inner(cols, rows):
    compact = cols < 120 or rows < 36
    main_h = rows - 1
    if compact:
        bottom_h = main_h // 2 + 1
        y = main_h - bottom_h
        w = cols * 2 // 5
        return (1, y + 1, w - 2, bottom_h - 2)
    # Percentage(58) of the width, rounded (ratatui's solver).
    list_w = int(cols * 58 / 100 + 0.5)
    info_h = max(main_h * 3 // 10, 8)
    return (list_w + 1, 1, cols - list_w - 2, main_h - info_h - 2)


def fullscreen_inner(cols, rows):
    return (0, 1, cols, rows - 3)


# --------------------------------------------------------------------------------------------
# One launch of fouro


PROTO_NAMES = {"blocks": "blocks", "half": "blocks", "kitty": "kitty", "iterm": "iterm",
               "sixel": "sixel"}


def short_protocol(label):
    label = (label or "").lower()
    for k, v in PROTO_NAMES.items():
        if k in label:
            return v
    return label or "?"


FIELD = re.compile(r'(\w+)=("[^"]*"|\S+)')


def parse_fields(line):
    return {k: v.strip('"') for k, v in FIELD.findall(line)}


class Failure(Exception):
    def __init__(self, status, reason, img=None):
        super().__init__(reason)
        self.status = status
        self.reason = reason
        self.img = img


@dataclass
class Step:
    name: str
    status: str
    reason: str = ""
    shot: str = ""
    seconds: float = 0.0


class Launch:
    """fouro demo, once, in `term`, with fresh data and config directories."""

    def __init__(self, h, term, protocol, tag):
        self.h = h
        self.term = term
        self.protocol = protocol
        self.tag = tag
        self.dir = tempfile.mkdtemp(prefix=f"job-{term.kind}-{protocol}-", dir=h.workdir)
        self.data = os.path.join(self.dir, "data")
        self.config = os.path.join(self.dir, "config")
        os.makedirs(self.data)
        os.makedirs(self.config)
        lines = [
            f"export FOURO_BIN='{h.run_bin}'",
            f"export FOURO_DEMO_DURATION='{h.duration}'",
            f"export FOURO_DATA_DIR='{self.data}'",
            f"export FOURO_CONFIG_DIR='{self.config}'",
            "export FOURO_LOG='fouro=debug'",
        ]
        if protocol == "auto":
            lines.append("unset FOURO_IMAGE_PROTOCOL")
        else:
            lines.append(f"export FOURO_IMAGE_PROTOCOL='{protocol}'")
        with open(os.path.join(self.dir, "env.sh"), "w") as f:
            f.write("\n".join(lines) + "\n")
        self.log_path = os.path.join(self.data, "demo", "logs", "fouro.log")
        self.images = os.path.join(self.data, "demo", "images")
        self.pid = None
        self.steps = []
        self.size = (term.cols, term.rows)
        self.last = None  # the last screenshot
        self.detected = None  # the protocol the app says it uses
        self.logged_cell = None
        self.probe = ("F1", "F1")
        self.submitted = []
        self._luts = {}
        self.found = None  # the last image found settled, and its screenshot
        self.found_img = None

    # -- the process

    def exit_code(self):
        p = os.path.join(self.dir, "exit")
        if os.path.exists(p):
            with open(p) as f:
                return f.read().strip()
        return None

    def alive(self):
        return self.exit_code() is None

    def kill(self):
        """Ends this launch's fouro (by its pid) when it is stuck."""
        if self.pid and self.alive():
            for sig in (signal.SIGTERM, signal.SIGKILL):
                try:
                    os.kill(self.pid, sig)
                except ProcessLookupError:
                    return
                deadline = time.time() + 3
                while time.time() < deadline and self.alive():
                    time.sleep(0.1)
                if not self.alive():
                    return

    # -- the log

    def log_text(self):
        try:
            with open(self.log_path, errors="replace") as f:
                return f.read()
        except OSError:
            return ""

    def log_mark(self):
        return len(self.log_text())

    def shown_since(self, mark):
        """The last `image shown` line after `mark`: its fields."""
        last = None
        for line in self.log_text()[mark:].splitlines():
            if "image shown" in line:
                last = parse_fields(line)
        return last

    # -- screenshots

    def shot(self):
        img = self.term.shot()
        self.last = img
        return img

    def keep(self, img, name):
        img = self.last if img is None else img
        if img is None:
            return ""
        safe = re.sub(r"[^A-Za-z0-9.-]+", "-", name).strip("-")
        path = os.path.join(self.h.shots, f"{self.term.kind}-{self.protocol}-{self.tag}-{safe}.png")
        save_png(img, path)
        return os.path.relpath(path, self.h.out)

    # -- keys

    def key(self, *keys):
        self.term.focus()
        self.h.x.key(*keys)

    def type(self, text):
        self.term.focus()
        self.h.x.type(text)

    # -- waiting

    def responsive(self):
        """Does the app answer a key? The probe keys toggle something visible in the state the
        step leaves (the help on the main and history screens, the account screen over the
        full-screen image): the screen must change, and change back."""
        if not self.alive():
            return False
        there, back = self.probe
        before = self.shot().astype(np.int16)
        self.key(there)
        if not self.wait_change(before, T_PROBE):
            return False
        mid = self.last.astype(np.int16)
        self.key(back)
        self.wait_change(mid, T_PROBE)
        return True

    def wait_change(self, before, timeout):
        deadline = time.time() + timeout
        while time.time() < deadline:
            img = self.shot()
            if img.shape == before.shape:
                diff = (np.abs(img.astype(np.int16) - before) > 40).any(axis=2).sum()
                if diff > 150:
                    return True
            else:
                return True
            time.sleep(0.1)
        return False

    def poll(self, check, timeout, what):
        """Screenshots until check(img) returns (True, _) or the deadline passes. On time out:
        FREEZE when the app answers no key either, EXIT when it quit, else FAIL with the
        last reason."""
        deadline = time.time() + timeout
        reason, since = "no screenshot", time.time()
        while True:
            img = self.shot()
            ok, why = check(img)
            if ok:
                return img
            if why != reason:
                reason, since = why, time.time()
            if not self.alive():
                raise Failure("EXIT", f"fouro exited ({self.exit_code()}) while waiting: {what}; "
                              f"{reason}", img)
            if time.time() > deadline:
                break
            # A wrong image that stays wrong: no need to wait for the deadline.
            if reason not in WAITING and time.time() - since > SETTLED:
                break
            time.sleep(0.08)
        img = self.last
        if not self.responsive():
            if not self.alive():
                raise Failure("EXIT", f"fouro exited ({self.exit_code()}): {what}; {reason}", img)
            raise Failure("FREEZE", f"no answer to keys ({what} did not happen in "
                          f"{timeout:.0f} s: {reason})", img)
        raise Failure("FAIL", f"{reason} (for {time.time() - since:.0f} s)", img)

    # -- what the steps expect

    def colours(self, prompt):
        return self.h.colours_for(prompt, self.term)

    def pane_px(self, kind):
        cols, rows = self.size
        rect = {"main": main_preview_inner, "history": history_preview_inner,
                "full": fullscreen_inner}[kind](cols, rows)
        return rect, self.term.cells_to_px(rect)

    def image_aspect(self, prompt):
        """The saved image's width / height (from its PNG), or None while none is saved."""
        png = self.h.png_for(self, prompt)
        if png is None:
            return None
        return png[0] / png[1]

    def text_area(self):
        cols, rows = self.size
        x0, y0, x1, y1 = self.term.cells_to_px((0, 0, cols, rows))
        h, w = self.last.shape[:2] if self.last is not None else (10 ** 6, 10 ** 6)
        return max(0, x0), max(0, y0), min(w, x1), min(h, y1)

    def analyse(self, img):
        return Shot(img, self.term.ui_lut, self.text_area())

    def labels_for(self, prompts):
        key = tuple(prompts)
        if key not in self._luts:
            self._luts[key] = lut_labels([self.colours(p) for p in prompts])
        return self._luts[key]

    def stale_around(self, img, shot, pane, bbox):
        """Text or anything else left in the pane outside the image's box: pixels far from
        the background colour (antialiased text included)."""
        px0, py0, px1, py1 = pane
        x0, y0, x1, y1 = bbox
        h, w = img.shape[:2]
        px0, py0, px1, py1 = max(0, px0), max(0, py0), min(w, px1), min(h, py1)
        region = img[py0:py1, px0:px1].astype(np.int16)
        other = (np.abs(region - np.array(self.term.bg, dtype=np.int16)) > 48).any(axis=2)
        # The image and a pixel around it (its blended edge) are not "around".
        other[max(0, y0 - py0 - 2): max(0, y1 - py0 + 2), max(0, x0 - px0 - 2): max(0, x1 - px0 + 2)] = False
        n = int(other.sum())
        if n > 40:
            ys, xs = np.nonzero(other)
            return (f"{n} px of something else in the pane around the image "
                    f"(within {xs.min() + px0},{ys.min() + py0} - {xs.max() + px0},{ys.max() + py0})")
        return None

    def which(self, shot, prompts):
        """Which of `prompts` the image found is: the one with the most pixels of its colours;
        for images too small to keep any colour flat (half blocks in a small pane), the one
        whose saved image's mean colour is nearest."""
        if len(prompts) == 1:
            return prompts[0], "the only one"
        lab = shot.labels(self.labels_for(prompts))
        hits = lab[lab >= 0] // 8
        counts = [int((hits == k).sum()) for k in range(len(prompts))]
        best = max(range(len(prompts)), key=lambda i: counts[i])
        rest = sorted(counts, reverse=True)[1]
        if counts[best] >= max(60, 0.03 * shot.found.count) and counts[best] >= 3 * rest:
            if rest > max(100, 0.05 * shot.found.count):
                return None, (f"{rest} px of another image's colours besides {counts[best]} px "
                              f"of this one's")
            return prompts[best], f"{counts[best]} px of its colours, {rest} of another's"
        means = [self.h.mean_for(self, p) for p in prompts]
        if any(m is None for m in means):
            return None, f"cannot tell which image (colour counts {counts})"
        got = shot.img[shot.core].astype(np.float64).mean(axis=0)
        d = [float(np.abs(got - np.array(m)).max()) for m in means]
        best = min(range(len(prompts)), key=lambda i: d[i])
        return prompts[best], f"mean colour {tuple(int(v) for v in got)} nearest to {means[best]}"

    def expect_image(self, prompt, pane, mark=None, differs_from=None, bigger_than=None):
        """A check: the image of `prompt` is shown, settled, inside the pane, with the right
        aspect, nothing of any other image anywhere (its pixels would be outside the pane or
        spoil the aspect), not cut by text."""
        candidates = [prompt] + [p for p in self.submitted if p != prompt]
        rect_cells, (px0, py0, px1, py1) = self.pane_px(pane)
        state = {"prev": None}
        cw, ch = self.term.cell

        def check(img):
            shot = self.analyse(img)
            f = shot.found
            if not f.present:
                state["prev"] = None
                return False, "no image shown" if f.count == 0 else \
                    f"only {f.count} px of an image shown"
            prev, state["prev"] = state["prev"], f.bbox
            if prev is None or any(abs(a - b) > 1 for a, b in zip(prev, f.bbox)):
                return False, "image still changing"
            x0, y0, x1, y1 = f.bbox
            w, h = x1 - x0, y1 - y0
            self.found, self.found_img = f, img
            slack = 1
            if x0 < px0 - slack or y0 < py0 - slack or x1 > px1 + slack or y1 > py1 + slack:
                return False, (f"image pixels at {w}x{h}+{x0}+{y0} px, outside the pane "
                               f"{px1 - px0}x{py1 - py0}+{px0}+{py0} (cells {rect_cells})")
            who, why = self.which(shot, candidates)
            if who != prompt:
                return False, f"not the expected image ({why})"
            aspect = self.image_aspect(prompt)
            if aspect is None:
                return False, "the saved image was not found in the data directory"
            blocks = self.protocol == "blocks" or self.detected == "blocks"
            # Half blocks come in whole cells and half cells: allow half of one of each.
            qx, qy = (cw / 2, ch / 4) if blocks else (0, 0)
            tol = 0.02 + (qx + 1) / w + (qy + 1) / h
            got = (w / h) / aspect
            if abs(got - 1) > tol:
                return False, (f"aspect off by {100 * (got - 1):+.1f} % "
                               f"({w}x{h} px for a {aspect:.3f} image, allowed "
                               f"{100 * tol:.1f} %)")
            # Text or background inside the image: flat patches of the background colour (a
            # line of text is mostly background) or of the text colour.
            box = (slice(y0, y1), slice(x0, x1))
            holes = int((shot.flat[box] & self.term.text_lut[shot.idx[box]]).sum())
            if holes > max(60, 0.002 * w * h):
                # Half blocks in a small pane blend the tiles into many shades, some as dark
                # (or light) as the background: there, only text counts, and text has pixels
                # of the text colour too.
                ink = int(self.term.fg_lut[shot.idx[box]].sum())
                if not blocks or ink > 40:
                    return False, f"text or background inside the image ({holes} px)"
            # Around the image, the pane must be empty: no stale text, no piece of an earlier
            # image (those in other colours are caught above, as pixels outside the box).
            stale = self.stale_around(img, shot, (px0, py0, px1, py1), f.bbox)
            if stale:
                return False, stale
            # What the app says it sent.
            if mark is not None:
                shown = self.shown_since(mark)
                if shown and all(k in shown for k in ("col", "row", "cols", "rows")):
                    lr = tuple(int(shown[k]) for k in ("col", "row", "cols", "rows"))
                    lx0, ly0, lx1, ly1 = self.term.cells_to_px(lr)
                    if (lr[0] < rect_cells[0] or lr[1] < rect_cells[1]
                            or lr[0] + lr[2] > rect_cells[0] + rect_cells[2]
                            or lr[1] + lr[3] > rect_cells[1] + rect_cells[3]):
                        return False, f"the logged image rect {lr} is outside the pane {rect_cells}"
                    if x0 < lx0 - slack or y0 < ly0 - slack or x1 > lx1 + slack or y1 > ly1 + slack:
                        return False, (f"image {w}x{h}+{x0}+{y0} px is outside the rect the "
                                       f"app logged {lr}")
            if not blocks and self.detected is not None:
                lab = shot.labels(self.labels_for([prompt]))
                if blocky(lab, f.bbox, self.term.origin, self.term.cell):
                    return False, f"drawn in half blocks, not {self.detected}"
            if differs_from is not None:
                bimg, bbox = differs_from
                ux0, uy0 = min(x0, bbox[0]), min(y0, bbox[1])
                ux1, uy1 = max(x1, bbox[2]), max(y1, bbox[3])
                a = bimg[uy0:uy1, ux0:ux1].astype(np.int16)
                b = img[uy0:uy1, ux0:ux1].astype(np.int16)
                changed = (np.abs(a - b) > 40).any(axis=2).mean()
                if changed < 0.15:
                    return False, f"the image did not change ({100 * changed:.0f} % of it)"
            if bigger_than is not None:
                bw, bh = bigger_than
                if w * h < 1.3 * bw * bh:
                    return False, f"not bigger: {w}x{h} px, was {bw}x{bh}"
            return True, "ok"

        return check

    def expect_no_image(self, before=None):
        def check(img):
            if before is not None and img.shape == before.shape:
                diff = (np.abs(img.astype(np.int16) - before) > 40).any(axis=2).sum()
                if diff < 150:
                    return False, "the screen did not change"
            f = self.analyse(img).found
            if not f.gone:
                return False, f"{f.count} px of an image left at {f.bbox}"
            return True, "ok"

        return check

    # -- running steps

    def step(self, name, fn):
        t0 = time.time()
        try:
            fn()
            st = Step(name, "pass", seconds=time.time() - t0)
            if self.h.args.keep_shots:
                st.shot = self.keep(None, name)
        except Failure as e:
            st = Step(name, e.status, e.reason, self.keep(e.img, name), time.time() - t0)
        except TerminalGone as e:
            st = Step(name, "LOST", str(e), "", time.time() - t0)
        except Exception as e:  # a bug of the harness: say so, go on
            import traceback
            self.h.log.write(traceback.format_exc())
            st = Step(name, "ERROR", f"harness error: {e!r}", self.keep(None, name),
                      time.time() - t0)
        self.steps.append(st)
        self.h.say(f"  {self.term.kind}/{self.protocol} #{self.tag} {name}: {st.status}"
                   f"{' - ' + st.reason if st.reason else ''} ({st.seconds:.1f} s)")
        return st.status == "pass"

    def start(self):
        """Starts fouro and waits until it draws in raw mode."""
        try:
            self.term.send(self.dir)
        except OSError as e:
            raise TerminalGone(f"the session in {self.term.kind} does not listen: {e}")
        deadline = time.time() + T_START
        pid_file = os.path.join(self.dir, "pid")
        while not os.path.exists(pid_file) and time.time() < deadline:
            time.sleep(0.05)
        if not os.path.exists(pid_file):
            raise Failure("FAIL", "the session did not start fouro", None)
        time.sleep(0.05)
        with open(pid_file) as f:
            self.pid = int(f.read().strip())
        blank = None
        while time.time() < deadline:
            img = self.shot()
            if not self.alive():
                raise Failure("EXIT", f"fouro exited ({self.exit_code()}) at start", img)
            img16 = img.astype(np.int16)
            drawn = (~near(img16, self.term.bg, 30)).sum()
            if drawn > 3000 and self.term.pty_raw() and "terminal ready" in self.log_text():
                break
            if drawn > 3000 and self.term.pty_raw() and blank is None:
                blank = time.time()
            # Binaries without the "terminal ready" line: drawn in raw mode for 1.5 s.
            if blank is not None and time.time() - blank > 1.5:
                break
            time.sleep(0.1)
        else:
            raise Failure("FAIL" if self.alive() else "EXIT",
                          f"the app did not draw its screen in {T_START:.0f} s", self.last)
        for line in self.log_text().splitlines():
            if "terminal ready" in line:
                fields = parse_fields(line)
                self.detected = short_protocol(fields.get("protocol"))
                self.logged_cell = fields.get("cell")
        if self.detected is None:
            self.detected = self.protocol if self.protocol != "auto" else None
        if self.protocol != "auto" and self.detected != self.protocol:
            raise Failure("FAIL", f"forced {self.protocol}, the app says {self.detected}", self.last)
        if self.logged_cell:
            m = re.match(r"(\d+)x(\d+)", self.logged_cell)
            if m and (abs(int(m.group(1)) - self.term.cell[0]) > 0.5
                      or abs(int(m.group(2)) - self.term.cell[1]) > 0.5):
                raise Failure("FAIL", f"the app's cell size {self.logged_cell} is not the "
                              f"terminal's {self.term.cell[0]:g}x{self.term.cell[1]:g}", self.last)

    def submit(self, prompt, clear=0, options=()):
        """Optionally changes options (from the prompt: Tab Tab to the options pane, keys,
        back), clears `clear` characters, types `prompt` and submits."""
        if options:
            self.key("Tab", "Tab", *options, "shift+Tab", "shift+Tab")
        if clear:
            self.key(*(["BackSpace"] * clear))
        self.type(prompt)
        self.key("ctrl+s")
        self.submitted.append(prompt)

    def quit(self):
        """q (focus outside the prompt), y if asked; then nothing of any image on screen."""
        self.key("q")
        deadline = time.time() + 2
        while time.time() < deadline and self.alive():
            time.sleep(0.05)
        if self.alive():
            self.key("y")
            deadline = time.time() + T_QUIT
            while time.time() < deadline and self.alive():
                time.sleep(0.05)
        if self.alive():
            img = self.shot()
            if not self.responsive():
                raise Failure("FREEZE", "q and y did not quit and keys get no answer", img)
            raise Failure("FAIL", "q and y did not quit", img)
        self.poll(self.expect_no_image(), 3, "screen clean after quit")


# --------------------------------------------------------------------------------------------
# The harness


@dataclass
class Result:
    terminal: str
    protocol: str
    detected: str = None
    steps: list = field(default_factory=list)
    repeats: int = 0
    first_ok: int = 0
    freezes: int = 0
    exits: int = 0
    lost: int = 0
    error: str = ""


class Harness:
    def __init__(self, args):
        self.args = args
        self.bin = os.path.abspath(args.bin)
        self.out = os.path.abspath(args.out)
        self.shots = os.path.join(self.out, "shots")
        os.makedirs(self.shots, exist_ok=True)
        self.workdir = tempfile.mkdtemp(prefix="fouro-terminals-")
        # One binary for the whole run, even if a new build replaces the file meanwhile.
        self.bin_mtime = mtime(self.bin)
        copy = os.path.join(self.workdir, "fouro")
        shutil.copy2(self.bin, copy)
        self.run_bin = copy
        self.duration = args.duration
        self.results = []
        self.log = open(os.path.join(self.out, "run.log"), "w")
        # The full sequence's two tasks, then the repeats' prompts (alternating, so that an
        # image left by one launch is never taken for the next one's).
        self.prompts = pick_prompts(4)
        self.all_prompts = self.prompts
        self._colours = {}
        self._png = {}

    def say(self, msg):
        print(msg, flush=True)
        self.log.write(msg + "\n")
        self.log.flush()

    def colours_for(self, prompt, term):
        key = (prompt, term.bg, term.fg)
        if key not in self._colours:
            pal = demo_palette(prompt)
            near_text = usable_colours(pal, [term.bg, term.fg], NEAR_BG, NEAR_BG)
            near_ansi = usable_colours(pal, term.ansi, 2 * TOL - 10, 20)
            self._colours[key] = [c for c in near_text if c in near_ansi]
        return self._colours[key]

    def png_for(self, launch, prompt):
        """(width, height) of the image the demo saved for `prompt` in this launch, checking
        its colours against the prompt's palette."""
        key = (launch.dir, prompt)
        if key in self._png:
            return self._png[key]
        pal = demo_palette(prompt)
        for root, _, files in os.walk(launch.images):
            for name in sorted(files):
                if not name.endswith(".png"):
                    continue
                path = os.path.join(root, name)
                r = run(["convert", path, "-format", "%w %h\n", "info:-"])
                try:
                    w, h = map(int, r.stdout.split()[:2])
                except ValueError:
                    continue
                hist = run(["convert", path, "-sample", "128x128!", "-depth", "8",
                            "-format", "%c", "histogram:info:-"]).stdout.decode()
                top = []
                for line in hist.splitlines():
                    m = re.match(r"\s*(\d+):\s*\(\s*(\d+),\s*(\d+),\s*(\d+)", line)
                    if m:
                        top.append((int(m.group(1)), tuple(int(m.group(i)) for i in (2, 3, 4))))
                top.sort(reverse=True)
                main = [c for _, c in top[:8]]
                if sum(1 for c in pal if any(dist(c, m) <= 3 for m in main)) >= 3:
                    self._png[key] = (w, h)
                    self._png[("path", launch.dir, prompt)] = path
                    return (w, h)
        return None

    def mean_for(self, launch, prompt):
        """The mean colour of the image saved for `prompt` in this launch (variant 1)."""
        key = ("mean", launch.dir, prompt)
        if key not in self._png:
            path = self._png.get(("path", launch.dir, prompt))
            if path is None:
                return None
            out = run(["convert", path, "-scale", "1x1!", "-depth", "8", "txt:-"]).stdout.decode()
            m = re.search(r"\(\s*(\d+),\s*(\d+),\s*(\d+)", out.splitlines()[-1] if out else "")
            self._png[key] = tuple(int(v) for v in m.groups()) if m else None
        return self._png[key]

    # -- one terminal x protocol

    def run_combo(self, term, protocol, repeats):
        res = Result(term.kind, protocol)
        self.results.append(res)
        a, b, r1, r2 = self.prompts
        for i in range(repeats):
            for attempt in range(3):
                if term.proc is None or term.proc.poll() is not None or not self.x.alive():
                    term.stop()
                    if self.x.ensure():
                        self.say(f"  the X display went away: a new one, {self.x.name}")
                    try:
                        term.start()
                    except (RuntimeError, OSError, subprocess.TimeoutExpired) as e:
                        self.say(f"  {term.kind}: did not start again: {e}")
                        term.stop()
                        if attempt < 2:
                            continue
                        res.error = res.error or f"the terminal did not start again: {e}"
                        return res
                launch = Launch(self, term, protocol, f"{i + 1:02d}")
                if i == 0:
                    ok = self.full_sequence(launch)
                else:
                    ok = self.short_sequence(launch, r1 if i % 2 else r2)
                if not any(s.status == "LOST" for s in launch.steps):
                    break
                # The terminal went away under the launch: not the app's doing; again.
                self.say(f"  {term.kind}: the terminal closed during launch {launch.tag}: again")
                res.lost += 1
                term.stop()
            if i == 0:
                res.steps = launch.steps
            res.repeats += 1
            if res.detected is None:
                res.detected = launch.detected
            first = [s for s in launch.steps if s.name == "first image"]
            if first and first[0].status == "pass":
                res.first_ok += 1
            if any(s.status == "FREEZE" for s in launch.steps):
                res.freezes += 1
            if any(s.status == "EXIT" for s in launch.steps):
                res.exits += 1
            if i > 0:
                for s in launch.steps:
                    if s.status != "pass":
                        res.steps_extra = getattr(res, "steps_extra", [])
                        res.steps_extra.append((launch.tag, s))
            if launch.alive():
                launch.kill()
            if not ok or launch.size != (term.cols, term.rows):
                # Something went wrong, or the window was resized: a fresh terminal.
                term.stop()
        return res

    def full_sequence(self, L):
        a, b = self.prompts[0], self.prompts[1]

        def start():
            L.start()

        def first():
            # Two variants for this task (options pane: v), then the prompt.
            mark = L.log_mark()
            L.submit(a, options=("v",))
            L.poll(L.expect_image(a, "main", mark=mark), T_IMAGE, "the first image")

        def second():
            mark = L.log_mark()
            L.submit(b, clear=len(a), options=("a",))  # 3:2 for this one
            L.poll(L.expect_image(b, "main", mark=mark), T_IMAGE,
                   "the second task's image")

        def help_open():
            before = L.shot().astype(np.int16)
            L.key("F1")
            L.poll(L.expect_no_image(before=before), T_CHANGE, "the help hides the image")

        def help_closed():
            mark = L.log_mark()
            L.key("Escape")
            L.poll(L.expect_image(b, "main", mark=mark), T_CHANGE, "the image back")

        def task_switch():
            mark = L.log_mark()
            L.key("Tab", "Tab", "Tab", "Down")  # prompt -> references -> options -> tasks
            try:
                L.poll(L.expect_image(a, "main", mark=mark), T_CHANGE, "the other task's image")
            finally:
                L.switch_found = (L.found_img, L.found.bbox) if L.found else None

        def variant():
            mark = L.log_mark()
            L.key("Right")
            L.poll(L.expect_image(a, "main", mark=mark,
                                  differs_from=L.switch_found), T_CHANGE, "the second variant")

        def resize():
            mark = L.log_mark()
            size = L.term.resize_cells(*RESIZED)
            if size != RESIZED:
                raise Failure("FAIL", f"the terminal did not resize to {RESIZED} (got {size})",
                              L.shot())
            L.size = size
            try:
                L.poll(L.expect_image(a, "main", mark=mark), T_CHANGE,
                       "the image in the resized pane")
            finally:
                L.resized_found = L.found.size() if L.found else None

        def full():
            mark = L.log_mark()
            L.key("Return")
            L.probe = ("F4", "F4")
            L.poll(L.expect_image(a, "full", mark=mark,
                                  bigger_than=L.resized_found), T_CHANGE, "the full-screen image")

        def full_back():
            mark = L.log_mark()
            L.key("Escape")
            L.probe = ("F1", "F1")
            L.poll(L.expect_image(a, "main", mark=mark), T_CHANGE,
                   "the image back in its pane")

        def history():
            mark = L.log_mark()
            L.key("F3")
            # The history selects the newest entry: the second task's image, and nothing of
            # the first one's left from the main screen.
            L.poll(L.expect_image(b, "history", mark=mark), T_CHANGE,
                   "the history's image")

        def history_back():
            mark = L.log_mark()
            L.key("Escape")
            L.poll(L.expect_image(a, "main", mark=mark), T_CHANGE,
                   "the main screen's image back")

        def quit_():
            L.quit()

        plan = [start, first, second, help_open, help_closed, task_switch, variant, resize,
                full, full_back, history, history_back, quit_]
        for name, fn in zip(STEPS_FULL, plan):
            if not L.step(name, fn):
                st = L.steps[-1].status
                if st in ("FREEZE", "EXIT", "ERROR", "LOST") or name in ("start",):
                    for rest in STEPS_FULL[len(L.steps):]:
                        L.steps.append(Step(rest, "skip", f"after {st} at {name}"))
                    return False
        return all(s.status == "pass" for s in L.steps)

    def short_sequence(self, L, prompt):
        def first():
            mark = L.log_mark()
            L.submit(prompt)
            L.poll(L.expect_image(prompt, "main", mark=mark), T_IMAGE, "the first image")

        def quit_():
            L.key("Tab", "Tab", "Tab")
            L.quit()

        for name, fn in (("start", L.start), ("first image", first), ("quit", quit_)):
            if not L.step(name, fn):
                st = L.steps[-1].status
                if st in ("FREEZE", "EXIT", "ERROR", "LOST") or name == "start":
                    return False
        return all(s.status == "pass" for s in L.steps)

    # -- everything

    def run(self):
        t0 = time.time()
        self.say(f"fouro: {self.bin} (modified {self.bin_mtime})")
        self.say(f"prompts: {self.prompts}")
        self.say(f"table, log and screenshots: {self.out}")
        self.x = Display(self.workdir)
        self.say(f"display {self.x.name}; work dir {self.workdir}")
        try:
            for kind in self.args.terminals:
                # --protocols picks among what the terminal has (auto and blocks always).
                protos = [p for p in PROTOCOLS[kind]
                          if not self.args.protocols or p in self.args.protocols]
                term = Terminal(kind, self.x, self.workdir)
                try:
                    if self.x.ensure():
                        self.say(f"the X display went away: a new one, {self.x.name}")
                    term.start()
                except (RuntimeError, OSError, subprocess.TimeoutExpired) as e:
                    self.say(f"{kind}: cannot run: {e}")
                    for p in protos:
                        self.results.append(Result(kind, p, error=str(e)))
                    term.stop()
                    continue
                self.say(f"{kind}: {term.cols}x{term.rows} cells of "
                         f"{term.cell[0]:g}x{term.cell[1]:g} px at {term.origin}, "
                         f"background {term.bg}, text {term.fg}")
                try:
                    for p in protos:
                        t1 = time.time()
                        self.run_combo(term, p, self.args.repeats)
                        self.say(f"{kind}/{p}: {time.time() - t1:.0f} s")
                finally:
                    term.stop()
        finally:
            self.x.stop()
        self.elapsed = time.time() - t0
        table = self.table()
        with open(os.path.join(self.out, "table.md"), "w") as f:
            f.write(table)
        print()
        print(table)
        if not self.args.keep_workdir:
            shutil.rmtree(self.workdir, ignore_errors=True)
        return 0 if self.all_passed() else 1

    def all_passed(self):
        for r in self.results:
            if r.error or r.freezes or r.exits or r.first_ok < r.repeats:
                return False
            if any(s.status != "pass" for s in r.steps):
                return False
            if getattr(r, "steps_extra", None):
                return False
        return bool(self.results)

    def table(self):
        lines = []
        lines.append(f"fouro `{self.bin}` (modified {self.bin_mtime}), "
                     f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, "
                     f"{self.elapsed:.0f} s, repeats {self.args.repeats}")
        lines.append("")
        steps = STEPS_FULL
        lines.append("| terminal | protocol | " + " | ".join(steps) + " |")
        lines.append("|---|---|" + "---|" * len(steps))
        notes = []
        for r in self.results:
            proto = r.protocol
            if r.protocol == "auto":
                proto = f"auto ({r.detected or '?'})"
            if r.error:
                lines.append(f"| {r.terminal} | {proto} | could not run: {r.error} |"
                             + " |" * (len(steps) - 1))
                continue
            cells = []
            by = {s.name: s for s in r.steps}
            for name in steps:
                s = by.get(name)
                if s is None:
                    cells.append("—")
                elif s.status == "pass":
                    cells.append("pass")
                else:
                    n = len(notes) + 1
                    notes.append((n, r.terminal, proto, name, s))
                    cells.append(f"{s.status} [{n}]" if s.status != "skip" else "skip")
            lines.append(f"| {r.terminal} | {proto} | " + " | ".join(cells) + " |")
        lines.append("")
        lines.append("First-image repeats (each a fresh launch: start, prompt, Ctrl-S, the image, "
                     "quit):")
        lines.append("")
        lines.append("| terminal | protocol | launches | first image passed | freezes | exits | "
                     "other failures | terminal closed under the test (launch retried) |")
        lines.append("|---|---|---|---|---|---|---|---|")
        for r in self.results:
            if r.error:
                continue
            extra = getattr(r, "steps_extra", [])
            others = "; ".join(f"#{tag} {s.name}: {s.status} {s.reason}" for tag, s in extra[:3])
            if len(extra) > 3:
                others += f"; … {len(extra) - 3} more"
            proto = r.protocol if r.protocol != "auto" else f"auto ({r.detected or '?'})"
            lines.append(f"| {r.terminal} | {proto} | {r.repeats} | {r.first_ok}/{r.repeats} | "
                         f"{r.freezes} | {r.exits} | {others.replace('|', '/') or '—'} | "
                         f"{r.lost} |")
        real = [n for n in notes if n[4].status != "skip"]
        if real:
            lines.append("")
            lines.append("Failures:")
            lines.append("")
            for n, t, p, name, s in real:
                shot = f" (`{s.shot}`)" if s.shot else ""
                lines.append(f"{n}. {t} / {p} / {name}: {s.status}: {s.reason}{shot}")
        lines.append("")
        return "\n".join(lines)


def mtime(path):
    try:
        return time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(os.path.getmtime(path)))
    except OSError:
        return "?"


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--bin", required=True, help="the fouro binary")
    ap.add_argument("--terminals", default=",".join(TERMINALS))
    ap.add_argument("--protocols", default=None,
                    help="comma-separated: auto, blocks, sixel, kitty, iterm "
                         "(default: auto, blocks and each protocol the terminal has)")
    ap.add_argument("--repeats", type=int, default=20,
                    help="first-image launches per terminal and protocol (the first one runs "
                         "every step)")
    ap.add_argument("--quick", action="store_true",
                    help="what CI runs: xterm, auto (sixel) and blocks, 3 launches each")
    ap.add_argument("--out", default=None, help="where the table and screenshots go")
    ap.add_argument("--duration", default="1", help="seconds each demo task takes")
    ap.add_argument("--keep-shots", action="store_true",
                    help="keep the last screenshot of every step, not only of failures")
    ap.add_argument("--keep-workdir", action="store_true",
                    help="keep the data directories and logs of every launch")
    args = ap.parse_args()
    if args.quick:
        args.terminals = "xterm"
        args.protocols = args.protocols or "auto,blocks"
        if "--repeats" not in " ".join(sys.argv):
            args.repeats = 3
    args.terminals = [t for t in args.terminals.split(",") if t]
    for t in args.terminals:
        if t not in PROTOCOLS:
            ap.error(f"unknown terminal {t} (known: {', '.join(TERMINALS)})")
    if args.protocols:
        args.protocols = [p for p in args.protocols.split(",") if p]
        for p in args.protocols:
            if p not in ("auto", "blocks", "sixel", "kitty", "iterm"):
                ap.error(f"unknown protocol {p}")
    if args.repeats < 1:
        ap.error("--repeats must be at least 1")
    if args.out is None:
        args.out = tempfile.mkdtemp(prefix="fouro-terminals-out-")
    os.makedirs(args.out, exist_ok=True)
    # Killed: still stop the display and the terminals (the finally blocks).
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    return Harness(args).run()


if __name__ == "__main__":
    sys.exit(main())
