"""What the Pixel model charges beyond MACs, and the experiments behind its h-swish choice.

Prints, from the shipped data only (nothing is timed):

1. per choice of the space, the phone's price by the model against what MACs say: 5x5 and 7x7
   against 3x3 kernels, SE on and off, h-swish against ReLU, on single blocks and on
   MobileNetV3-Large with the choice changed everywhere;
2. a pair of random ProxylessNAS networks that MACs order one way and the model (its parts left
   out by shape) the other, with the measured sums of their parts;
3. the held-out errors if h-swish is charged as 1 or 2 passes of memory traffic (TFLite runs
   HARD_SWISH as an op of its own) instead of a term fitted on Table 3.

    PYTHONPATH=. python benchmarks/pixel_terms.py
"""

import dataclasses

import numpy as np

import nas.hardware.pixel_parts as pixel_parts
from nas.arch import PRESETS, encode
from nas.arch.spec import ArchSpec, BlockSpec, HeadSpec, StemSpec
from nas.hardware import OpKey
from nas.hardware.pixel import PixelModel
from nas.hardware.pixel_parts import macs, measured_parts, proxyless_networks
from nas.hardware.table import cached_keys


def block(**change) -> OpKey:
    fields = dict(op="ir", resolution=56, in_ch=24, out=24, expand=144, kernel=3, stride=1,
                  se=False, act="relu")
    return OpKey(**(fields | change))


def network_macs(spec) -> float:
    return sum(macs(k) for k in cached_keys(spec, 1000))


def choices(models: dict) -> None:
    print("choice | MACs ratio | " + " | ".join(f"{p} ratio" for p in models))
    pairs = [("5x5 vs 3x3, 56x56x24 e6", block(kernel=5), block()),
             ("7x7 vs 3x3, 56x56x24 e6", block(kernel=7), block()),
             ("7x7 vs 3x3, 14x14x80 e6", block(resolution=14, in_ch=80, out=80, expand=480,
                                                kernel=7),
              block(resolution=14, in_ch=80, out=80, expand=480)),
             ("SE vs none, 28x28x40 e6 k5", block(resolution=28, in_ch=40, out=40, expand=240,
                                                  kernel=5, se=True),
              block(resolution=28, in_ch=40, out=40, expand=240, kernel=5)),
             ("h-swish vs ReLU, 28x28x40 e6", block(resolution=28, in_ch=40, out=40,
                                                    expand=240, act="hswish"),
              block(resolution=28, in_ch=40, out=40, expand=240))]
    for name, a, b in pairs:
        print(f"{name} | {macs(a) / macs(b):.3f} | " + " | ".join(
            f"{m.part_ms(a) / m.part_ms(b):.3f} ({m.part_ms(a):.2f} vs {m.part_ms(b):.2f} ms)"
            for m in models.values()))
    v3 = PRESETS["mobilenet_v3_large"]()
    variants = {
        "all kernels 3x3": [dataclasses.replace(b, kernel=3) for b in v3.blocks],
        "no SE": [dataclasses.replace(b, se=False) for b in v3.blocks],
        "ReLU for h-swish": [dataclasses.replace(b, act="relu") for b in v3.blocks],
    }
    for name, blocks in variants.items():
        spec = dataclasses.replace(v3, blocks=tuple(blocks))
        if name == "ReLU for h-swish":
            spec = dataclasses.replace(spec, stem=dataclasses.replace(spec.stem, act="relu"),
                                       head=dataclasses.replace(spec.head, act="relu"))
        print(f"MobileNetV3-Large vs {name} | {network_macs(v3) / network_macs(spec):.3f} | "
              + " | ".join(f"{m.predict_ms(v3) / m.predict_ms(spec):.3f} "
                           f"({m.predict_ms(v3):.2f} vs {m.predict_ms(spec):.2f} ms)"
                           for m in models.values()))


def as_spec(net: list[int]) -> ArchSpec:
    """A random ProxylessNAS network (indices into measured_parts) as an ArchSpec."""
    parts = measured_parts()
    blocks = [BlockSpec(kind="ir", kernel=parts[i].key.kernel, expand=parts[i].key.expand,
                        out=parts[i].key.out, se=False, act="relu6",
                        stride=parts[i].key.stride) for i in net[1:-1]]
    return ArchSpec(stem=StemSpec(out=32, act="relu6"), blocks=tuple(blocks),
                    head=HeadSpec(conv=1280, features=0, act="relu6"), resolution=224)


def disagreeing_pair(model: PixelModel) -> None:
    """The pair with the largest measured gap among those MACs order wrongly and the model
    (parts left out by shape) rightly."""
    parts = measured_parts()
    networks = proxyless_networks(300, 0)
    predicted = model.leave_one_shape_out()
    measured = np.array([sum(parts[i].ms for i in n) for n in networks])
    pred = np.array([sum(predicted[i] for i in n) for n in networks])
    mac = np.array([sum(macs(parts[i].key) for i in n) for n in networks])
    best = None
    for a in range(len(networks)):
        for b in range(len(networks)):
            if mac[a] < mac[b] and measured[a] > measured[b] and pred[a] > pred[b]:
                gap = measured[a] / measured[b] - 1
                if mac[a] > 0.9 * mac[b] and (best is None or gap > best[0]):
                    best = (gap, a, b)
    _, a, b = best
    for name, i in (("A", a), ("B", b)):
        spec = as_spec(networks[i])
        print(f"{name}: {encode(spec)}")
        print(f"   MACs {mac[i]:.1f}M, measured sum {measured[i]:.2f} ms (ProxylessNAS app), "
              f"left-out model {pred[i]:.2f} ms; shipped model on the phone "
              f"{model.predict_ms(spec):.2f} ms")


def hswish_passes() -> None:
    for passes in (0, 1, 2):
        pixel_parts.HSWISH_PASSES = passes
        pixel_parts.part_vector.cache_clear()
        for phone in ("pixel1", "pixel3"):
            held = PixelModel(phone).held_out
            print(f"h-swish passes={passes} {phone}: table3_loo_mape_pct={held['loo_mape_pct']}"
                  f" max={held['loo_max_error_pct']} parts_loso_mape_pct="
                  f"{held['parts_loso_mape_pct']} kendall_tau={held['proxyless_kendall_tau']}")
    pixel_parts.HSWISH_PASSES = 0
    pixel_parts.part_vector.cache_clear()


def main() -> None:
    models = {phone: PixelModel(phone) for phone in ("pixel1", "pixel3")}
    choices(models)
    disagreeing_pair(models["pixel1"])
    hswish_passes()


if __name__ == "__main__":
    main()
