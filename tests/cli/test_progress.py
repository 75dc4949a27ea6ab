"""Progress in task logs: plain lines every 10 % or every 30 s, nothing else.

``ProgressLines`` takes its clock as a parameter, so these tests drive time
themselves: the 10 % / 30 s rule is checked exactly, without sleeping.
"""

from __future__ import annotations

import fcntl
import io
import os
import pty
import re
import struct
import subprocess
import termios

from genexai.cli._options import ProgressLines, progress

from .conftest import script_env


class Clock:
    """Seconds that advance only when the test says so."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def _lines(stream: io.StringIO) -> list[str]:
    return stream.getvalue().splitlines()


def test_a_line_at_every_tenth_when_time_stands_still():
    clock, out = Clock(), io.StringIO()
    bar = ProgressLines(200, "attribute x.h5ad", unit="examples", stream=out, clock=clock)
    for _ in range(200):
        bar.update(1)
    percents = [int(re.search(r": (\d+)% ", line).group(1)) for line in _lines(out)]
    assert percents == [10, 20, 30, 40, 50, 60, 70, 80, 90, 100]
    assert _lines(out)[3] == ("attribute x.h5ad: 40% (80/200 examples), 0s elapsed, ~0s left")
    assert _lines(out)[-1] == "attribute x.h5ad: 100% (200/200 examples), 0s elapsed"


def test_a_line_every_30_s_when_the_tenths_are_slow():
    clock, out = Clock(), io.StringIO()
    bar = ProgressLines(1000, "evaluate m.tsv", unit="steps", stream=out, clock=clock)
    for _ in range(20):  # 7 s per step, 2 % of the total: 30 s pass before 10 % does
        clock.now += 7
        bar.update(20)
    lines = _lines(out)
    # 35 s (the first update past 30 s), 70 s, 105 s, 140 s ...; 10 % falls at 35 s too.
    assert [line.split(", ")[1] for line in lines] == [
        "35s elapsed",
        "1m10s elapsed",
        "1m45s elapsed",
        "2m20s elapsed",
    ]
    assert lines[1] == "evaluate m.tsv: 20% (200/1000 steps), 1m10s elapsed, ~4m40s left"


def test_whichever_comes_first_and_a_jump_counts_once():
    clock, out = Clock(), io.StringIO()
    bar = ProgressLines(100, "train a.pt", unit="epochs", stream=out, clock=clock)
    bar.update(5)  # 5 %, 0 s: nothing due
    clock.now += 31
    bar.update(0)  # 31 s: the time rule
    bar.update(30)  # 35 %: past three tenths at once, one line
    bar.update(4)  # 39 %, 31 s: nothing due
    clock.now += 3600
    bar.update(61)
    assert _lines(out) == [
        "train a.pt: 5% (5/100 epochs), 31s elapsed, ~9m49s left",
        # The pace since the first update: 30 epochs in 31 s, 65 to go.
        "train a.pt: 35% (35/100 epochs), 31s elapsed, ~1m07s left",
        "train a.pt: 100% (100/100 epochs), 1h00m elapsed",
    ]


def test_bytes_show_as_megabytes():
    out = io.StringIO()
    bar = ProgressLines(50_000_000, "import x.h5ad", unit="bytes", stream=out, clock=Clock())
    bar.update(20_000_000)
    assert _lines(out) == ["import x.h5ad: 40% (20.0/50.0 MB), 0s elapsed, ~0s left"]


def test_nothing_is_printed_on_a_quiet_step():
    """Creating the reporter prints nothing, nor do updates that pass no tenth
    within 30 s, nor a step with nothing to count."""
    clock, out = Clock(), io.StringIO()
    bar = ProgressLines(1000, "graph g.npz", unit="genes", stream=out, clock=clock)
    for _ in range(99):
        clock.now += 0.3
        bar.update(1)  # 9.9 % after 29.7 s
    empty = ProgressLines(0, "graph h.npz", unit="genes", stream=out, clock=clock)
    empty.update(0)
    assert out.getvalue() == ""


def test_progress_writes_lines_to_a_non_terminal_stderr(monkeypatch, capsys):
    monkeypatch.delenv("GENEXAI_PROGRESS", raising=False)
    update = progress(4, "simulate s.h5ad", unit="samples")
    for _ in range(4):
        update(1)
    err = capsys.readouterr().err.splitlines()
    assert [line.split(" (")[0] for line in err] == [
        f"simulate s.h5ad: {p}%" for p in (25, 50, 75, 100)
    ]


def test_progress_0_turns_it_off(monkeypatch, capsys):
    monkeypatch.setenv("GENEXAI_PROGRESS", "0")
    update = progress(4, "simulate s.h5ad", unit="samples")
    update(4)
    assert capsys.readouterr().err == ""


def test_time_left_follows_the_pace_of_the_loop_not_the_setup():
    clock, out = Clock(), io.StringIO()
    bar = ProgressLines(10, "train b.pt", unit="epochs", stream=out, clock=clock)
    clock.now += 60  # reading the data and building the model
    bar.update(1)
    clock.now += 2
    bar.update(1)  # 2 s per epoch since the first: 8 epochs, 16 s to go
    assert _lines(out)[-1] == "train b.pt: 20% (2/10 epochs), 1m02s elapsed, ~16s left"


def test_a_terminal_gets_the_bar_not_lines(tmp_path, script):
    """stderr on a pseudo-terminal: tqdm redraws one bar (carriage returns)."""
    primary, secondary = pty.openpty()
    # 24 × 80, as a real terminal has: tqdm draws nothing in 0 columns.
    fcntl.ioctl(secondary, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 80, 0, 0))
    env = {k: v for k, v in script_env().items() if k != "GENEXAI_PROGRESS"}
    args = ["--config", "test", "--n-samples", "40", "--output", "s.h5ad"]
    done = subprocess.Popen(
        [str(script("simulate")), *args],
        cwd=tmp_path,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=secondary,
    )
    os.close(secondary)
    seen = b""
    while True:  # read while it runs: Linux drops what is unread when the terminal closes
        try:
            chunk = os.read(primary, 65536)
        except OSError:  # EIO: the other side is closed
            break
        if not chunk:
            break
        seen += chunk
    os.close(primary)
    done.wait(timeout=300)
    assert done.returncode == 0, seen
    text = seen.decode(errors="replace")
    assert "simulate s.h5ad:" in text and "\r" in text, text
    assert not re.search(r"\d+% \(\d+/\d+ samples\), ", text), text  # no plain lines


def test_a_step_without_progress_prints_nothing(tmp_path, run_script):
    """PREPARE has no long loop: on a non-terminal stderr it stays silent, as does
    a step with progress under GENEXAI_PROGRESS=0."""
    sizes = ["--n-genes", "200", "--n-pathways", "20", "--n-over", "2", "--n-samples", "40"]
    simulate = ["--config", "test", *sizes, "--output", "s.h5ad"]
    quiet = run_script("simulate", *simulate, cwd=tmp_path, env={"GENEXAI_PROGRESS": "0"})
    assert (quiet.returncode, quiet.stdout, quiet.stderr) == (0, "", "")
    done = run_script(
        "prepare",
        "--input",
        "s.h5ad",
        "--output",
        "p.h5ad",
        cwd=tmp_path,
        env={"GENEXAI_PROGRESS": ""},
    )
    assert (done.returncode, done.stdout, done.stderr) == (0, "", "")
