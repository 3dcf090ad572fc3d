"""``python -m nas.describe``: a per-layer table of an architecture, or its JSON summary."""

from __future__ import annotations

import json

import pandas as pd
from omegaconf import DictConfig, OmegaConf

from nas.arch import PRESETS, SearchSpace, decode, resolve_arch
from nas.cli import run
from nas.cost import arch_cost, layer_costs
from nas.errors import NasError

FORMATS = ("table", "json")


def describe(arch: str, width: float | None = None, resolution: int | None = None,
             num_classes: int = 1000) -> dict:
    """Summary of an architecture: its string, costs and per-layer rows."""
    spec = resolve_arch(arch, width=width, resolution=resolution)
    if num_classes < 1:
        raise NasError(f"num_classes must be >= 1, got {num_classes}")
    rows = layer_costs(spec, num_classes)
    total = arch_cost(spec, num_classes)
    layers = [
        {
            "layer": row.name,
            "input": "x".join(str(d) for d in row.input_shape),
            "operator": row.operator,
            "exp": row.expand if row.expand is not None and row.operator != "identity" else "",
            "out": row.out,
            "SE": "yes" if row.se else "",
            "NL": "-" if row.operator == "identity" else row.act,
            "s": row.stride,
            "macs": row.cost.macs,
            "params": row.cost.params,
        }
        for row in rows
    ]
    return {
        "arch": str(spec),
        "resolution": spec.resolution,
        "num_classes": spec.num_classes(num_classes),
        "params": total.params,
        "macs": total.macs,
        "elementwise": total.elementwise,
        "layers": layers,
    }


def latency(hardware_cfg: dict, arch: str) -> dict:
    """``latency_ms`` of ``arch`` on a hardware profile (``nas.hardware.load_hardware``)."""
    from nas.hardware import load_hardware

    hardware = load_hardware(hardware_cfg)
    spec = decode(arch)
    latency_ms = hardware.predict_ms(spec)  # may fit a measured table's correction first
    result = {"hardware": hardware.name, "latency_ms": latency_ms,
              "latency_kind": hardware.metadata.get("kind")}
    correction = hardware.metadata.get("correction")
    if isinstance(correction, dict) and "corrected" in correction:  # a measured table
        result["latency_corrected"] = correction["corrected"]
        result["latency_correction"] = correction["kind"]
        if not correction["corrected"]:
            result["latency_uncorrected_reason"] = correction["uncorrected_reason"]
    if "loo_mape_pct" in hardware.metadata:  # calibrated: its error goes wherever it is shown
        result["latency_loo_mape_pct"] = hardware.metadata["loo_mape_pct"]
    if hasattr(hardware, "extrapolation"):  # a fitted model: say where it leaves its data
        result["latency_extrapolated"] = hardware.extrapolation(spec)
    return result


def format_table(summary: dict) -> str:
    frame = pd.DataFrame(summary["layers"])
    frame["macs"] = (frame["macs"] / 1e6).map("{:.2f}M".format)
    frame["params"] = frame["params"].map("{:,}".format)
    lines = [
        summary["arch"],
        "",
        frame.to_string(index=False),
        "",
        f"total: {summary['macs'] / 1e6:.1f}M MACs (conv + linear), "
        f"{summary['params']:,} params, {summary['elementwise'] / 1e6:.1f}M elementwise ops "
        f"at {summary['resolution']}x{summary['resolution']}, {summary['num_classes']} classes",
    ]
    if "latency_ms" in summary:
        lines.append(f"latency: {summary['latency_ms']:.2f} ms predicted on {summary['hardware']}"
                     f" ({summary['latency_kind']}"
                     + (f", leave-one-out MAPE {summary['latency_loo_mape_pct']}% on the "
                        "published networks" if "latency_loo_mape_pct" in summary else "")
                     + ")")
    if summary.get("latency_corrected") is False:
        lines.append("latency UNCORRECTED: a plain sum of parts, no additivity correction ("
                     f"{summary['latency_uncorrected_reason']})")
    if summary.get("latency_extrapolated"):
        lines.append("latency EXTRAPOLATED: parts outside what the model was fitted on: "
                     + " | ".join(summary["latency_extrapolated"]))
    return "\n".join(lines)


def describe_space(space: SearchSpace) -> dict:
    """Summary of a search space: its stages, size and which presets it holds."""
    stages = [
        {"stage": i, "stride": st.stride, "depth": list(st.depth), "width": list(st.width)}
        | ({"ops": list(st.ops)} if st.ops else {"kernel": list(st.kernel),
                                                 "expand": list(st.expand)})
        | {"se": list(st.se), "act": list(st.act)}
        for i, st in enumerate(space.stages)
    ]
    holds = [name for name, preset in PRESETS.items()
             if space.contains(preset(resolution=space.resolution))]
    return {"space": space.name, "size": space.size(), "stages": stages, "presets_inside": holds}


def format_space(summary: dict) -> str:
    frame = pd.DataFrame(summary["stages"]).to_string(index=False)
    inside = ", ".join(summary["presets_inside"]) or "none"
    return (f"space {summary['space']}\n\n{frame}\n\n"
            f"{summary['size']:.3e} distinct architectures; presets inside: {inside}")


def main(cfg: DictConfig) -> None:
    if cfg.format not in FORMATS:
        raise NasError(f"format must be one of {FORMATS}, got {cfg.format!r}")
    if cfg.arch is None:
        if cfg.get("space") is None:
            raise NasError("give arch=<preset or string> or space=<name>")
        summary = describe_space(SearchSpace.from_config(OmegaConf.to_container(cfg.space)))
        print(json.dumps(summary) if cfg.format == "json" else format_space(summary))
        return
    summary = describe(str(cfg.arch), width=cfg.width, resolution=cfg.resolution,
                       num_classes=cfg.num_classes)  # typed by nas.schema.DescribeVerb
    if cfg.get("hardware") is not None:
        summary |= latency(OmegaConf.to_container(cfg.hardware), summary["arch"])
    if cfg.format == "json":
        print(json.dumps(summary))
    else:
        print(format_table(summary))


def cli() -> None:
    """The console script (pyproject.toml) and ``python -m``: same behaviour."""
    run(main, "describe")


if __name__ == "__main__":
    cli()
