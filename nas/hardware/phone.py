"""Measuring a real phone: export every part as a model file, time it there, import the times.

``export_parts(keys, folder)`` writes each part (the very layers ``build_model`` makes for it) as
an ONNX model, ``ops.csv`` (one row per part: id, file, the OpKey's fields) and
``run_on_phone.sh``, which pushes the files with adb, times each with a benchmark tool on the
phone (TFLite's ``benchmark_model`` for ``.tflite`` files, ONNX Runtime's
``onnxruntime_perf_test`` for ``.onnx`` files), one thread, and writes ``results.csv`` = ops.csv
plus ``median_ms``. ``import_results(csv, path)`` turns that file into a LatencyTable of kind
``imported``, which the phone's profile then uses instead of the calibrated model.

Only ONNX is exported: TFLite needs a PyTorch-to-TFLite converter (ai-edge-torch / LiteRT),
which is not installable on this project's machines; convert the ONNX files yourself (e.g.
onnx2tf) and the script times ``.tflite`` files found beside them instead.
"""

from __future__ import annotations

import csv
import stat
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

import pandas as pd
from tqdm import tqdm

from nas.errors import NasError
from nas.hardware.keys import KEY_FIELDS, OpKey
from nas.hardware.table import LatencyTable, now
from nas.hardware.timing import Timing

OPS_CSV = "ops.csv"
SCRIPT = "run_on_phone.sh"
RESULTS_CSV = "results.csv"
INDEX_FIELDS = ("id", "file")


class ResultsError(NasError):
    """A results CSV that cannot be imported."""


def export_parts(keys: Sequence[OpKey], folder: Path, batch: int = 1,
                 progress: bool = True) -> Path:
    """Write every part of ``keys`` as ``models/part_NNNN.onnx`` plus ops.csv and the script.

    Part ``i`` is initialised with ``torch.manual_seed(i)``, so an export is reproducible.
    Resumable: a model file already present is kept. Returns the folder.
    """
    import torch

    from nas.hardware.ops import build_op, input_shape
    from nas.hardware.timing import export_onnx

    folder = Path(folder).expanduser()
    (folder / "models").mkdir(parents=True, exist_ok=True)
    rows = []
    for index, key in enumerate(tqdm(keys, desc="exporting parts", unit="part",
                                     disable=not progress or None)):
        name = f"models/part_{index:04d}.onnx"
        target = folder / name
        if not target.exists():
            temp = target.with_suffix(".tmp")
            torch.manual_seed(index)
            temp.write_bytes(export_onnx(build_op(key), input_shape(key, batch)))
            temp.replace(target)
        rows.append({"id": index, "file": name} | key.to_row())
    with open(folder / OPS_CSV, "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=[*INDEX_FIELDS, *KEY_FIELDS],
                                lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    script = folder / SCRIPT
    script.write_text(RUN_SCRIPT)
    script.chmod(script.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
    return folder


def import_results(results_csv: Path, phone: str, device: str) -> LatencyTable:
    """A LatencyTable (kind imported) from the CSV ``run_on_phone.sh`` wrote."""
    path = Path(results_csv).expanduser()
    try:
        frame = pd.read_csv(path)
        missing = [f for f in (*KEY_FIELDS, "median_ms") if f not in frame.columns]
        if missing:
            raise ResultsError(f"{path} lacks the columns {', '.join(missing)}; give the "
                               f"{RESULTS_CSV} that {SCRIPT} wrote")
        table = LatencyTable({"format": "nas-latency-table", "version": 1, "kind": "imported",
                              "phone": phone, "device": device, "backend": "phone",
                              "threads": 1, "batch": 1, "source": str(path.resolve()),
                              "created": now()})
        for row in frame.to_dict("records"):
            ms = float(row["median_ms"])
            if not ms > 0:  # NaN (an empty cell) fails this too
                what = "no time" if ms != ms else f"a non-positive time ({ms})"
                raise ResultsError(f"{path}: part {row.get('id', '?')} has {what}; "
                                   f"rerun {SCRIPT} for it")
            table.add(OpKey.from_row(row), Timing(ms, ms, ms, 0))
    except NasError:
        raise
    except (OSError, ValueError, KeyError, TypeError, pd.errors.ParserError) as error:
        raise ResultsError(f"cannot import {path}: {type(error).__name__}: {error}") from None
    if not len(table):
        raise ResultsError(f"{path} holds no measurements")
    return table


RUN_SCRIPT = r"""#!/usr/bin/env bash
# Time every exported part on an Android phone over adb; writes results.csv beside this file
# (ops.csv plus a median_ms column), for: python -m nas.profile hardware=pixel import=results.csv
#
# Needs adb, a phone with USB debugging on, and a benchmark binary built for the phone's ABI:
#   *.tflite files: TFLite's benchmark_model (tensorflow/lite/tools/benchmark, prebuilt
#                   "android_aarch64_benchmark_model" nightlies), reported as "Inference (avg)";
#   *.onnx files:   ONNX Runtime's onnxruntime_perf_test (build.sh --android ...),
#                   reported as "Average inference time cost".
# Both tools report a mean over RUNS runs; it is written to the median_ms column.
# A .tflite file beside a part's .onnx file (same name) is timed instead of the .onnx one.
#
#   BENCH=./benchmark_model CPU_MASK=08 ./run_on_phone.sh
#
# CPU_MASK pins the run to one large core (taskset mask, hex; Pixel 1: cores 2-3 are the large
# ones, so 04 or 08); leave it empty to let the phone choose. Keep the phone cool and charged.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
BENCH=${BENCH:?set BENCH to the phone benchmark binary (benchmark_model or onnxruntime_perf_test)}
ADB=${ADB:-adb}
REMOTE=${REMOTE:-/data/local/tmp/nas-parts}
CPU_MASK=${CPU_MASK:-}
RUNS=${RUNS:-50}
OUT=${OUT:-$HERE/results.csv}

pin=""
if [ -n "$CPU_MASK" ]; then pin="taskset $CPU_MASK"; fi
"$ADB" shell mkdir -p "$REMOTE" </dev/null
"$ADB" push "$BENCH" "$REMOTE/bench" >/dev/null </dev/null
"$ADB" shell chmod 755 "$REMOTE/bench" </dev/null

head -n 1 "$HERE/ops.csv" | tr -d '\r' | sed 's/$/,median_ms/' > "$OUT.partial"
tail -n +2 "$HERE/ops.csv" | tr -d '\r' | while IFS= read -r line; do
  file=$(printf '%s' "$line" | cut -d, -f2)
  tflite="${file%.onnx}.tflite"
  if [ -f "$HERE/$tflite" ]; then file=$tflite; fi
  "$ADB" push "$HERE/$file" "$REMOTE/model" >/dev/null </dev/null
  case "$file" in
    *.tflite)
      log=$("$ADB" shell $pin "$REMOTE/bench" --graph="$REMOTE/model" --num_threads=1 \
              --num_runs="$RUNS" --warmup_runs=5 </dev/null 2>&1)
      us=$(printf '%s\n' "$log" | sed -n 's/.*Inference (avg): *\([0-9.e+]*\).*/\1/p' | tail -n 1)
      ms=$(awk -v us="$us" 'BEGIN { if (us != "") printf "%.6f", us / 1000 }') ;;
    *.onnx)
      log=$("$ADB" shell $pin "$REMOTE/bench" -e cpu -x 1 -y 1 -m times -r "$RUNS" \
              "$REMOTE/model" </dev/null 2>&1)
      ms=$(printf '%s\n' "$log" \
             | sed -n 's/.*Average inference time cost: *\([0-9.e+]*\) *ms.*/\1/p' | tail -n 1) ;;
    *) echo "unknown model file $file" >&2; exit 2 ;;
  esac
  if [ -z "$ms" ]; then
    printf 'no timing for %s; the benchmark printed:\n%s\n' "$file" "$log" >&2
    exit 1
  fi
  printf '%s,%s\n' "$line" "$ms" >> "$OUT.partial"
done
mv "$OUT.partial" "$OUT"
echo "wrote $OUT"
"""


# --- python -m nas.profile hardware=pixel[1-3] [export=DIR | import=CSV] ---------------------
def phone_parts(space, classes: int, presets: bool = True) -> list[OpKey]:
    """Every part of ``space``, and with ``presets`` those of the presets and of the published
    networks, at the space's resolution."""
    from nas.arch import PRESETS
    from nas.hardware.keys import arch_keys, space_keys
    from nas.hardware.pixel import published_networks

    keys = space_keys(space, classes)
    specs = [make(resolution=space.resolution) for make in PRESETS.values()] if presets else []
    if presets:
        specs += [replace(n.spec, resolution=space.resolution) for n in published_networks()]
    for spec in specs:
        keys.extend(arch_keys(spec, classes))
    return list(dict.fromkeys(keys))


def held_out_lines(meta: dict) -> list[str]:
    """The calibrated model's held-out errors, per source, as ``nas.profile`` prints them."""
    coefficients = " ".join(f"{t}={c:.4g}" for t, c in meta["coefficients"].items())
    return [
        "Table 3, leave-one-out (each network predicted by the fit without it):",
        pd.DataFrame(meta["loo"]).to_string(index=False),
        f"measured Pixel 1 parts, leave-one-shape-out (each part predicted by the fit without "
        f"its shape's parts): MAPE {meta['parts_loso_mape_pct']}% "
        f"(worst {meta['parts_loso_max_error_pct']}%)",
        f"{meta['proxyless_networks']} random ProxylessNAS networks, their parts left out by "
        f"shape: Kendall tau {meta['proxyless_kendall_tau']} against the measured sums "
        f"(MACs: {meta['proxyless_kendall_tau_macs']}), MAPE "
        f"{meta['proxyless_loso_mape_pct']}%",
        f"phone={meta['phone']} part_weight={meta['part_weight']} "
        f"app_scale={meta['app_scale']} {coefficients}",
        f"loo_mape_pct={meta['loo_mape_pct']} loo_max_error_pct={meta['loo_max_error_pct']} "
        f"parts_loso_mape_pct={meta['parts_loso_mape_pct']} "
        f"kendall_tau={meta['proxyless_kendall_tau']} "
        f"kendall_tau_macs={meta['proxyless_kendall_tau_macs']}",
    ]


def profile_phone(hardware_cfg: dict, space, export: str | None = None,
                  results: str | None = None, presets: bool = True) -> list[str]:
    """What ``nas.profile`` does for a calibrated profile; returns the lines it prints."""
    from nas.hardware.pixel import (
        PixelModel,
        compare_models,
        imported_table_path,
        load_calibrated,
    )

    pd.set_option("display.width", 200)

    if export and results:
        raise NasError("give export=DIR or import=CSV, not both")
    phone = str(hardware_cfg.get("phone", hardware_cfg["name"]))
    classes = int(hardware_cfg.get("num_classes", 1000))
    if export:
        keys = phone_parts(space, classes, presets)
        folder = export_parts(keys, Path(export))
        return [f"exported {len(keys)} parts of space {space.name} and the presets to {folder} "
                f"(ONNX); on the phone: BENCH=<benchmark binary> {folder / SCRIPT}, then "
                f"python -m nas.profile hardware={hardware_cfg['name']} "
                f"import={folder / RESULTS_CSV}"]
    if results:
        device = str(hardware_cfg.get("device", phone))
        table = import_results(Path(results), phone, device)
        path = imported_table_path(hardware_cfg | {"phone": phone})
        table.save(path)
        hardware = load_calibrated(hardware_cfg)
        lines = [f"imported {len(table)} parts measured on {device} into {path}; "
                 f"hardware={hardware_cfg['name']} now predicts from them "
                 f"(kind={hardware.metadata['kind']})"]
        model = PixelModel(phone, classes=classes)
        for network in model.networks:
            lines.append(f"{network.label:28s} published {network.latency_ms[phone]:6.1f} ms  "
                         f"imported table {hardware.predict_ms(network.spec):7.2f} ms")
        return lines
    hardware = load_calibrated(hardware_cfg)
    meta = hardware.metadata
    lines = [f"hardware={hardware.name} kind={meta['kind']} device={meta['device']}"]
    if meta["kind"] == "imported":
        return lines + [f"predicting from the imported table {meta['table']}"]
    lines += held_out_lines(meta)
    lines.append(f"candidate models on {phone}, held out (TERMS: {' + '.join(meta['terms'])}):")
    lines.append(pd.DataFrame(compare_models(phone)).to_string(index=False))
    return lines
