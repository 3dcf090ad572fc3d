"""Settled images: validation images every one of a supernet's reference subnets classifies
correctly, counted as correct without being run.

On Fashion-MNIST about three quarters of the validation images are classified correctly by every
subnet of the shipped supernet; they add the same count to every score and nothing to the
ranking, but cost three quarters of a candidate's validation time. ``python -m
nas.supernet.settle`` scores ``references`` seeded random subnets on the whole split, marks the
images all of them got right, and checks the mark on ``held_out`` other subnets: how many
settled images each of those got wrong (what the shortcut overstates its accuracy by) and how
well the shortcut's scores rank like the whole split's. The evaluator then runs only the
unsettled images (``evaluator.settled``: ``auto`` reads the file beside the supernet). The same
idea as the "anchor points" of benchmark subsampling, with the error measured, not assumed.

The file (JSON) records the supernet's SHA-256 and the validation split's own fingerprint: a
file made for other weights or other images is refused in one line.
"""

from __future__ import annotations

import hashlib
import json
import math
from pathlib import Path

import numpy as np
import torch

from nas.errors import NasError
from nas.evaluate.data import Split
from nas.io import atomic_write, file_sha256

FORMAT = "nas-settled/1"


class SettledFileError(NasError):
    """A settled-images file that is missing, corrupt, or made for other weights or images."""


def beside(supernet_path: str | Path) -> Path:
    """Where ``evaluator.settled=auto`` looks: ``<supernet>.settled.json`` beside it."""
    path = Path(supernet_path)
    return path.with_name(path.stem + ".settled.json")


def split_fingerprint(split: Split) -> str:
    """SHA-256 of the split's images and labels, in order: the mask's indices mean these."""
    digest = hashlib.sha256()
    digest.update(split.images.cpu().contiguous().numpy().tobytes())
    digest.update(split.labels.cpu().to(torch.int64).numpy().tobytes())
    return digest.hexdigest()


def pack_mask(mask: torch.Tensor) -> str:
    return np.packbits(mask.cpu().numpy().astype(np.uint8)).tobytes().hex()


def unpack_mask(text: str, size: int) -> torch.Tensor:
    bits = np.unpackbits(np.frombuffer(bytes.fromhex(text), dtype=np.uint8))[:size]
    return torch.from_numpy(bits.astype(bool))


def write_settled(path: str | Path, mask: torch.Tensor, meta: dict) -> Path:
    """The file, written whole then renamed (an interrupt leaves no half file)."""
    record = {"format": FORMAT, **meta, "images": int(mask.numel()),
              "settled_images": int(mask.sum()), "settled": pack_mask(mask)}
    atomic_write(path, json.dumps(record, indent=1) + "\n")
    return Path(path)


def read_settled(path: str | Path) -> tuple[torch.Tensor, dict]:
    """(mask, metadata); SettledFileError (one line) when missing or not such a file."""
    path = Path(path)
    if not path.is_file():
        raise SettledFileError(f"no settled-images file {path}: make one with python -m "
                               f"nas.supernet.settle evaluator.path=SUPERNET, or give "
                               f"evaluator.settled=none to score every image")
    try:
        record = json.loads(path.read_text())
        if record.get("format") != FORMAT:
            raise ValueError(f"format {record.get('format')!r}, not {FORMAT}")
        mask = unpack_mask(record["settled"], int(record["images"]))
        if len(mask) != record["images"] or int(mask.sum()) != record["settled_images"]:
            raise ValueError("its mask does not hold the counts it records")
    except (ValueError, KeyError, TypeError) as error:  # JSONDecodeError is a ValueError
        raise SettledFileError(f"{path} is not a readable settled-images file ({error}); "
                               f"remake it with python -m nas.supernet.settle") from None
    return mask, {k: v for k, v in record.items() if k != "settled"}


def matches(meta: dict, supernet_sha256: str, split: dict) -> bool:
    """Made for these weights and this split (by its settings; images are checked on load)."""
    made = meta.get("split", {})
    return meta.get("supernet_sha256") == supernet_sha256 and \
        all(made.get(key) == value for key, value in split.items())


def split_settings(data_cfg: dict, evaluator_cfg: dict) -> dict:
    """The settings that choose the validation images the evaluator scores."""
    return {"name": data_cfg.get("name"), "val_size": data_cfg.get("val_size"),
            "split_seed": data_cfg.get("split_seed"),
            "evaluator_val_size": evaluator_cfg.get("val_size")}


def resolve(evaluator_cfg: dict, data_cfg: dict | None) -> Path | None:
    """The settled-images file ``evaluator.settled`` names, or None (score every image).
    ``auto``: the file beside the supernet when it was made for these weights and this split;
    a path: that file, refused in one line unless it was. A config without the key is one from
    before the setting: every image."""
    setting = str(evaluator_cfg.get("settled", "none"))
    if setting == "none":
        return None
    supernet = Path(str(evaluator_cfg["path"]))
    if not supernet.is_file():  # the evaluator refuses it in one line, naming the command
        return None
    path = beside(supernet) if setting == "auto" else Path(setting)
    if setting == "auto" and not path.is_file():
        return None
    _, meta = read_settled(path)
    split, supernet_sha256 = split_settings(data_cfg or {}, evaluator_cfg), file_sha256(supernet)
    if matches(meta, supernet_sha256, split):
        return path
    if setting == "auto":
        return None
    raise SettledFileError(
        f"{path} was made for supernet {str(meta.get('supernet_sha256'))[:12]} and split "
        f"{meta.get('split')}, not {supernet} ({supernet_sha256[:12]}) and {split}: "
        f"make one for it with python -m nas.supernet.settle, or give evaluator.settled=none")


def identity(evaluator_cfg: dict, data_cfg: dict | None) -> str:
    """What a score depends on of the setting: ``none``, or the file's SHA-256."""
    path = resolve(evaluator_cfg, data_cfg)
    return "none" if path is None else file_sha256(path)


def load_mask(path: Path, split: Split) -> torch.Tensor:
    """The mask of ``path`` over ``split``, refused when made on other images."""
    mask, meta = read_settled(path)
    fingerprint = split_fingerprint(split)
    if len(mask) != len(split) or meta.get("split", {}).get("fingerprint") != fingerprint:
        made = str(meta.get("split", {}).get("fingerprint"))[:12]
        raise SettledFileError(f"{path} was made on other validation images ({meta.get('images')}"
                               f" images, fingerprint {made}; these: {len(split)}, "
                               f"{fingerprint[:12]}): remake it with python -m "
                               f"nas.supernet.settle, or give evaluator.settled=none")
    return mask


def settle(correct: torch.Tensor) -> torch.Tensor:
    """Images every row (a reference subnet's per-image correctness) got right."""
    if correct.dim() != 2 or len(correct) < 1:
        raise NasError("settling needs the per-image correctness of at least one subnet")
    return correct.all(0)


def held_out_report(mask: torch.Tensor, held_out: torch.Tensor) -> dict:
    """What the shortcut costs on subnets that did not choose the mask: the settled images
    each got wrong (points its score is overstated by) and the rank agreement of its scores
    with the whole split's."""
    from nas.predictor.build import agreement

    if len(held_out) == 0:
        return {"held_out": 0}
    images = mask.numel()
    misses = (~held_out[:, mask]).sum(1).float()
    whole = held_out.float().mean(1)
    shortcut = (held_out[:, ~mask].sum(1) + mask.sum()).float() / images
    points = misses * 100 / images
    report = {"held_out": len(held_out), "overstated_points_mean": float(points.mean()),
              "overstated_points_max": float(points.max()),
              "whole_split_accuracy_range": [round(float(whole.min()), 4),
                                             round(float(whole.max()), 4)]}
    if len(held_out) > 1:
        agree = agreement(shortcut.tolist(), whole.tolist())
        report["kendall_with_whole_split"] = agree["kendall"]
        report["rmse_points"] = agree["rmse_points"]
    return {k: (None if math.isnan(v) else round(v, 4)) if isinstance(v, float) else v
            for k, v in report.items()}


def by_references(references: torch.Tensor, held_out: torch.Tensor,
                  counts=(10, 25, 50, 100)) -> list[dict]:
    """How the mark depends on the number of references (the first k of them): the share of
    images settled and what that overstates a held-out subnet's score by. More references settle
    fewer images and overstate less; this is how to choose ``references`` for a new supernet."""
    rows = []
    for count in sorted({c for c in counts if c < len(references)} | {len(references)}):
        mask = settle(references[:count])
        report = held_out_report(mask, held_out)
        rows.append({"references": count, "settled_share": round(float(mask.float().mean()), 4),
                     **{k: report[k] for k in ("overstated_points_mean",
                                               "overstated_points_max") if k in report}})
    return rows
