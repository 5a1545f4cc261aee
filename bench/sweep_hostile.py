"""Hostile-input sweep: run every command on bad or unusual inputs and faults, as a user would.

Each case runs ``python -m vidstyle ...`` in a child process and is judged by what a user sees:
a bad input must give exit 2 and exactly one ``vidstyle: error:`` line (never a traceback or an
"internal error"); a valid-but-odd input must succeed. After every case, no ``*.partial`` may be left
and nothing may appear under an output's final name when the command failed. Files that must
survive (a user's own files, inputs) are checked byte for byte.

    python3 bench/sweep_hostile.py            # prints one line per case and a summary per class
"""

from __future__ import annotations

import collections
import os
import resource
import subprocess
import sys
import tempfile
import time
from fractions import Fraction
from pathlib import Path

import av
import cv2
import numpy as np
import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
# The hostile files are the tests' (tests/_media.py), so the sweep and the suite check the same inputs.
from tests._media import damage_packet, joined_segments, packet_clip  # noqa: E402

SAMPLE = ROOT / "samples" / "hacienda_320x240.mp4"
ENV = dict(os.environ, PYTHONPATH=str(ROOT))


def cli(*args: object, cwd: Path, fsize: int | None = None, timeout: float = 300) -> subprocess.CompletedProcess:
    limit = (lambda: resource.setrlimit(resource.RLIMIT_FSIZE, (fsize, fsize))) if fsize else None
    return subprocess.run([sys.executable, "-m", "vidstyle", *map(str, args)], cwd=cwd, env=ENV, text=True,
                          capture_output=True, timeout=timeout, preexec_fn=limit)


def fixtures(d: Path) -> dict[str, Path]:
    f: dict[str, Path] = {"clip": SAMPLE}
    f["empty"] = d / "empty.mp4"
    f["empty"].write_bytes(b"")
    f["text"] = d / "notes.mp4"
    f["text"].write_text("not a video\n" * 50)
    f["random"] = d / "random.mkv"
    f["random"].write_bytes(np.random.default_rng(0).integers(0, 256, 20000, dtype=np.uint8).tobytes())
    f["truncated"] = d / "truncated.mp4"
    f["truncated"].write_bytes(SAMPLE.read_bytes()[: SAMPLE.stat().st_size // 3])
    f["headless"] = d / "headless.mp4"
    f["headless"].write_bytes(SAMPLE.read_bytes()[SAMPLE.stat().st_size // 3:])
    f["joined"] = joined_segments(d, 12)
    f["joined_cut"] = d / "joined_cut.ts"
    f["joined_cut"].write_bytes(f["joined"].read_bytes()[: f["joined"].stat().st_size * 2 // 3])
    f["dup"] = packet_clip(d / "dup.mkv", [0, 1, 2, 2, 3, 4, 5, 5, 6, 7], fmt="matroska")
    f["vfr"] = packet_clip(d / "vfr.mkv", [0, 40, 80, 120, 160, 400, 440, 480, 520, 760, 800, 1000],
                           fmt="matroska", time_base=Fraction(1, 1000))
    f["corrupt"] = damage_packet(packet_clip(d / "intact.mp4", list(range(30)), gop=1), d / "corrupt.mp4", 11)
    strip = d / "strip.mp4"
    with av.open(str(strip), "w") as container:
        stream = container.add_stream("libx264", rate=10)
        stream.width, stream.height, stream.pix_fmt = 2000, 16, "yuv420p"
        for i in range(3):
            container.mux(stream.encode(av.VideoFrame.from_ndarray(np.full((16, 2000, 3), 60 * i, np.uint8),
                                                                   format="rgb24")))
        container.mux(stream.encode(None))
    f["strip"] = strip
    # models
    from vidstyle.models import ModelConfig, Stylizer, save_checkpoint

    good = save_checkpoint(d / "model.pt", Stylizer(ModelConfig(arch="fast", train_size=(64, 48))))
    f["model"] = good
    state = torch.load(good, weights_only=True)
    for name, payload in {"badjson": {**state, "config": "{"}, "badarch": {**state, "config": state["config"]
                          .replace('"fast"', '"nope"')}, "noweights": {**state, "state_dict": {}}}.items():
        torch.save(payload, d / f"{name}.pt")
        f[name] = d / f"{name}.pt"
    f["cutmodel"] = d / "cut.pt"
    f["cutmodel"].write_bytes(good.read_bytes()[:5000])
    f["textmodel"] = d / "text.pt"
    f["textmodel"].write_text("hello")

    class Evil:
        def __reduce__(self):  # would run a command if unpickled without weights_only
            return (os.system, (f"touch {d / 'PWNED'}",))

    torch.save({"format": "vidstyle-model", "config": state["config"], "state_dict": Evil()}, d / "evil.pt")
    f["evil"] = d / "evil.pt"
    fns = Stylizer(ModelConfig(arch="fast_neural_style")).net.state_dict()
    del fns["res1.conv1.conv2d.weight"]
    torch.save(fns, d / "candy.pth")
    f["candy"] = d / "candy.pth"
    # keyframes
    keys = d / "keys"
    keys.mkdir()
    first = next(iter(av.open(str(SAMPLE)).decode(video=0))).to_ndarray(format="rgb24")
    cv2.imwrite(str(keys / "0000.png"), first[..., ::-1])
    f["keys"] = keys
    for name, writer in {"keys_cut": lambda p: p.write_bytes((keys / "0000.png").read_bytes()[:60]),
                         "keys_far": lambda p: cv2.imwrite(str(p.parent / "99999.png"), first[..., ::-1]),
                         "keys_rgba": lambda p: cv2.imwrite(str(p), np.dstack([first[..., ::-1],
                                                                            np.full(first.shape[:2], 0, np.uint8)])),
                         "keys_small": lambda p: cv2.imwrite(str(p), first[::4, ::4, ::-1])}.items():
        folder = d / name
        folder.mkdir()
        writer(folder / "0000.png")
        f[name] = folder
    return f


def recipes(d: Path, f: dict[str, Path]) -> dict[str, Path]:
    base = f"input: {{video: {f['clip']}, end: 0.5}}\nkeyframes: {{paint: toon, frames: [3]}}\ntrain: {{steps: 2}}\n"
    texts = {
        "notyaml": "input: [unclosed\n", "list": "- a\n- b\n", "unknown": base + "trian: {x: 1}\n",
        "name_up": base + "name: ../../escaped\n", "name_abs": base + "name: /tmp/escaped\n",
        "bomb": base + "a: &a [x,x,x,x,x,x,x,x,x]\n" + "".join(
            f"{chr(98 + i)}: &{chr(98 + i)} [{','.join(['*' + chr(97 + i)] * 9)}]\n" for i in range(8))
        + "report: {stills: *i}\n",
        "loop": base + "report: &r {stills: [*r]}\n", "nan": base.replace("end: 0.5", "end: .nan"),
        "novideo": "keyframes: {paint: toon, frames: [3]}\n", "binary": "\x00\x01\x02",
        "far_key": base.replace("frames: [3]", "frames: [99999]"), "badcodec": base + "render: {codec: vp9}\n",
    }
    out = {}
    for name, text in texts.items():
        out[name] = d / f"{name}.yaml"
        out[name].write_text(text)
    return out


def cases(d: Path, f: dict[str, Path], r: dict[str, Path]) -> list[tuple[str, str, list[object], str]]:
    """(class, description, argv, expected: 'error' or 'ok')."""
    o = d / "out"
    c = [("input file", f"probe {k}", ["probe", f[k]], "error") for k in ("empty", "text", "random")]
    c += [("input file", "probe a missing file", ["probe", d / "nope.mp4"], "error"),
          ("input file", "convert an MP4 cut before its index (moov at the end)",
           ["convert", f["truncated"], "-o", o / "t.mp4", "-q"], "error"),
          ("input file", "convert a transport stream cut short", ["convert", f["joined_cut"], "-o", o / "tc.mp4", "-q"],
           "ok"),
          ("input file", "convert a file without its head", ["convert", f["headless"], "-o", o / "h.mp4", "-q"],
           "error"),
          ("input file", "extract from a folder with no images", ["extract", d / "keys_far" / "..", "-o", o / "x"],
           "error")]
    c += [("timestamps", f"convert {k}", ["convert", f[k], "-o", o / f"{k}.mp4", "-q"], "ok")
          for k in ("joined", "dup", "vfr", "corrupt")]
    c += [("timestamps", f"extract {k}", ["extract", f[k], "-o", o / f"x_{k}", "-q"], "ok")
          for k in ("joined", "dup", "vfr", "corrupt")]
    for opt, value in (("--start", "nan"), ("--end", "inf"), ("--start", "-1"), ("--end", "0"), ("--scale", "1e-9"),
                       ("--scale", "1e9"), ("--scale", "nan"), ("--size", "0x0"), ("--size", "99999x2"),
                       ("--crf", "99"), ("--codec", "vp9"), ("--preset", "bogus"), ("--every", "0")):
        cmd = "extract" if opt == "--every" else "convert"
        c.append(("option values", f"{cmd} {opt} {value}", [cmd, f["clip"], "-o", o / f"v{len(c)}.mp4" if cmd == "convert"
                                                           else o / f"v{len(c)}", opt, value, "-q"], "error"))
    c += [("option values", f"train {a} {v}", ["train", f["clip"], "--keyframes", f["keys"], "-o", o / "m.pt", a, v],
           "error") for a, v in (("--steps", "0"), ("--minutes", "nan"), ("--minutes", "-1"), ("--lr", "inf"))]
    c += [("option values", "masks --erode=-5", ["masks", f["clip"], "-o", o / "mk", "--hud", "--erode=-5"], "error"),
          ("option values", "render --batch 0", ["render", f["clip"], "-m", f["model"], "-o", o / "b.mp4",
                                                 "--batch", "0"], "error")]
    for k in ("empty", "textmodel", "cutmodel", "badjson", "badarch", "noweights", "evil", "candy", "keys"):
        model = f[k] if k != "empty" else f["empty"]
        c.append(("models", f"render -m {k}", ["render", f["clip"], "-m", model, "-o", o / f"r_{k}.mp4", "-q"],
                  "error"))
    c += [("models", "render a 2000x16 strip", ["render", f["strip"], "-m", f["model"], "-o", o / "strip.mp4", "-q"],
           "ok")]
    for k in ("keys_cut", "keys_far", "keys_small", "keys_rgba"):
        expected = "ok" if k in ("keys_small", "keys_rgba") else "error"
        c.append(("keyframes", f"train --keyframes {k}", ["train", f["clip"], "--keyframes", f[k], "-o",
                                                          o / f"m_{k}.pt", "--steps", "1", "--end", "0.5",
                                                          "--size", "64x48", "-q"], expected))
    c += [("keyframes", "paint --frames past the end", ["paint", f["clip"], "-o", o / "p", "--frames", "99999"],
           "error")]
    for k in r:
        c.append(("recipes", f"run {k}.yaml", ["run", r[k], "-o", o / f"run_{k}", "--dry-run"], "error"))
    return c


def output_cases(d: Path, f: dict[str, Path]) -> list[tuple[str, str, list[object], str]]:
    mine = d / "mine"
    mine.mkdir()
    (mine / "notes.txt").write_text("keep")
    exists = d / "exists.mp4"
    exists.write_bytes(b"keep me")
    afile = d / "afile"
    afile.write_text("a file")
    return [
        ("outputs", "convert over an existing file without -y", ["convert", f["clip"], "-o", exists], "error"),
        ("outputs", "extract -o . -y in a user's folder", ["extract", f["clip"], "-o", mine, "-y", "-q"], "error"),
        ("outputs", "convert onto its own input", ["convert", f["clip"], "-o", f["clip"], "-y"], "error"),
        ("outputs", "convert to out.xyz", ["convert", f["clip"], "-o", d / "out.xyz"], "error"),
        ("outputs", "convert under a file", ["convert", f["clip"], "-o", afile / "x.mp4"], "error"),
        ("outputs", "extract onto a file with -y", ["extract", f["clip"], "-o", afile, "-y"], "error"),
        ("outputs", "convert into an existing folder name", ["convert", f["clip"], "-o", mine, "-y"], "error"),
    ]


def disk_full_cases(d: Path, f: dict[str, Path]) -> list[tuple[str, str, list[object], str, int]]:
    o = d / "full"
    return [("disk full", f"{name} with ulimit -f", argv, "error", limit) for name, argv, limit in (
        ("convert", ["convert", f["clip"], "-o", o / "c.mp4", "-q"], 40_000),
        ("extract", ["extract", f["clip"], "-o", o / "x", "--end", "1", "-q"], 40_000),
        ("render", ["render", f["clip"], "-m", f["model"], "-o", o / "r.mp4", "--end", "1", "-q"], 8_000),
        ("train", ["train", f["clip"], "--keyframes", f["keys"], "-o", o / "m.pt", "--steps", "1", "--end", "0.5",
                   "--size", "64x48", "-q"], 300_000),
        ("run", ["run", ROOT / "pipelines" / "fewshot.yaml", "-o", o / "run", "--set", "train.steps=1",
                 "--set", "input.end=0.5", "-q"], 100_000))]


def concurrency_and_signals(d: Path, f: dict[str, Path]) -> list[tuple[str, str, bool]]:
    """Two converts to one output at once; SIGINT and SIGTERM in the middle of a convert."""
    import signal

    out = d / "conc" / "same.mp4"
    out.parent.mkdir()
    argv = [sys.executable, "-m", "vidstyle", "convert", f["clip"], "-o", out, "-y", "-q", "--preset", "slow"]
    procs = [subprocess.Popen(list(map(str, argv)), env=ENV, stderr=subprocess.PIPE, text=True) for _ in range(2)]
    codes = [p.wait(300) for p in procs]
    with av.open(str(out)) as container:
        frames = sum(1 for _ in container.decode(video=0))
    with av.open(str(SAMPLE)) as container:
        expected = sum(1 for _ in container.decode(video=0))
    rows = [("concurrency", f"two converts to one output with -y: exits {codes}, {frames}/{expected} frames",
             codes == [0, 0] and frames == expected and not list(out.parent.glob("*.partial")))]
    for sig in (signal.SIGINT, signal.SIGTERM):
        target = d / "conc" / f"sig{int(sig)}.mp4"
        proc = subprocess.Popen(list(map(str, argv[:5] + ["-o", target, "-q", "--preset", "veryslow"])), env=ENV,
                                stderr=subprocess.PIPE, text=True)
        deadline = time.monotonic() + 60
        while not list(target.parent.glob(f"{target.name}.*.partial")) and time.monotonic() < deadline:
            time.sleep(0.05)
        time.sleep(0.5)
        proc.send_signal(sig)
        _, err = proc.communicate(timeout=60)
        ok = (proc.returncode == 128 + int(sig) and "interrupted" in err and not target.exists()
              and not list(target.parent.glob(f"{target.name}.*.partial")))
        rows.append(("signals", f"{sig.name} during convert: exit {proc.returncode}", ok))
    return rows


def judge(result: subprocess.CompletedProcess, expected: str) -> str | None:
    err = result.stderr
    if "Traceback" in err or "internal error" in err:
        return f"traceback/internal error: {err.strip().splitlines()[-1][:150]}"
    if expected == "ok":
        return None if result.returncode == 0 else f"exit {result.returncode}: {err.strip()[-150:]}"
    lines = [line for line in err.splitlines() if line.startswith("vidstyle: error:")]
    if result.returncode != 2:
        return f"exit {result.returncode} (wanted 2): {err.strip()[-150:]}"
    if len(lines) != 1 or len(lines[0]) > 400:
        return f"{len(lines)} error lines / {len(lines[0]) if lines else 0} chars"
    return None


def main() -> int:
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="vidstyle-sweep-") as tmp:
        d = Path(tmp)
        f = fixtures(d)
        r = recipes(d, f)
        plain = [(*case, None) for case in cases(d, f, r) + output_cases(d, f)]
        results: dict[str, list[bool]] = collections.defaultdict(list)
        for klass, what, argv, expected, limit in plain + disk_full_cases(d, f):
            result = cli(*argv, cwd=d, fsize=limit)
            problem = judge(result, expected)
            leftovers = [str(p.relative_to(d)) for p in d.rglob("*.partial")]
            if leftovers:
                problem = (problem or "") + f" left {leftovers[:2]}"
            results[klass].append(problem is None)
            first = (result.stderr.strip().splitlines() or [""])[-1][:110]
            print(f"{'ok  ' if problem is None else 'FAIL'} [{klass}] {what}: {problem or first}", flush=True)
        for klass, what, ok in concurrency_and_signals(d, f):
            results[klass].append(ok)
            print(f"{'ok  ' if ok else 'FAIL'} [{klass}] {what}", flush=True)
        survived = [(d / "mine" / "notes.txt").read_text() == "keep", (d / "exists.mp4").read_bytes() == b"keep me",
                    not (d / "PWNED").exists(), not (d.parent / "escaped").exists(), not Path("/tmp/escaped").exists()]
        results["survivors (user files, no code run, no escape)"] = survived
    print()
    total = sum(len(v) for v in results.values())
    passed = sum(sum(v) for v in results.values())
    for klass, outcomes in results.items():
        print(f"{klass:48s} {sum(outcomes):3d} / {len(outcomes):3d} as expected")
    print(f"{'all':48s} {passed:3d} / {total:3d} as expected in {time.perf_counter() - started:.0f} s")
    return 0 if passed == total else 1


if __name__ == "__main__":
    sys.exit(main())
