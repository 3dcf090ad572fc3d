"""An architecture as pure data: stem, a sequence of blocks, head, input resolution.

No torch here: specs are hashed, compared, stored in Optuna and sent between processes.
The block vocabulary covers the MobileNet family:

* ``ds``: depthwise-separable convolution of MobileNetV1 (Howard et al. 2017): depthwise kxk,
  BN, activation, pointwise 1x1, BN, activation. No residual.
* ``ir``: inverted residual with linear bottleneck of MobileNetV2 (Sandler et al. 2018):
  optional 1x1 expansion (absent when the expansion width equals the input width), depthwise kxk,
  optional squeeze-and-excite with hard-sigmoid gate (MobileNetV3, Howard et al. 2019),
  linear 1x1 projection; residual when stride is 1 and input and output widths agree.
* ``id``: identity, the skip choice of NAS-Bench-Macro (Su et al. 2021) and of FBNet/ProxylessNAS
  spaces. A no-op at stride 1 when input and output widths agree; otherwise a 1x1 convolution
  (with that stride) and BN, no activation, which is how NAS-Bench-Macro downsamples it.

The head is MobileNetV3's efficient last stage when ``features`` is set (1x1 conv + BN + act,
pool, 1x1 conv without BN to ``features`` wide + act, classifier); a V2 head (1x1 conv, pool,
classifier) when only ``conv`` is set; a V1 head (pool, classifier) when neither is.

``resolution`` and ``classes`` make the deployment setting a spec is costed at. ``classes`` is
None for a network whose classifier is not part of its definition (every MobileNet: the hardware
profile's class count decides, 1000 for a phone); a benchmark's network fixes it (NAS-Bench-Macro:
10), and then MACs, params and latency count that classifier whatever the profile says.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

from nas.errors import ArchParseError

ACTIVATIONS = ("relu", "relu6", "hswish")
BLOCK_KINDS = ("ds", "ir", "id")
KERNELS = (1, 3, 5, 7, 9)


def _check(condition: bool, message: str) -> None:
    if not condition:
        raise ArchParseError(message)


def _check_activation(act: str) -> None:
    _check(act in ACTIVATIONS, f"unknown activation {act!r}; expected one of {ACTIVATIONS}")


@dataclass(frozen=True)
class StemSpec:
    """The first convolution: kxk, stride, BN, activation."""

    out: int = 16
    act: str = "hswish"
    kernel: int = 3
    stride: int = 2

    def __post_init__(self) -> None:
        _check(self.out > 0, f"stem width must be positive, got {self.out}")
        _check(self.kernel in KERNELS, f"stem kernel must be one of {KERNELS}, got {self.kernel}")
        _check(self.stride in (1, 2), f"stem stride must be 1 or 2, got {self.stride}")
        _check_activation(self.act)


@dataclass(frozen=True)
class BlockSpec:
    """One block. ``expand`` is the expansion width in channels (not a ratio)."""

    kind: str
    kernel: int
    expand: int
    out: int
    se: bool = False
    act: str = "relu"
    stride: int = 1

    def __post_init__(self) -> None:
        _check(self.kind in BLOCK_KINDS, f"unknown block kind {self.kind!r}")
        _check(self.kernel in KERNELS, f"kernel must be one of {KERNELS}, got {self.kernel}")
        _check(self.expand > 0, f"expansion width must be positive, got {self.expand}")
        _check(self.out > 0, f"output width must be positive, got {self.out}")
        _check(self.stride in (1, 2), f"stride must be 1 or 2, got {self.stride}")
        _check_activation(self.act)
        if self.kind == "id":  # canonical fields, so one identity has one spec and one string
            _check(self.kernel == 1 and not self.se and self.act == "relu",
                   "an id block has kernel 1, no SE and no activation (act stays 'relu')")

    def has_expansion(self, in_channels: int) -> bool:
        return self.kind == "ir" and self.expand != in_channels

    def has_residual(self, in_channels: int) -> bool:
        return self.kind == "ir" and self.stride == 1 and in_channels == self.out

    def is_noop(self, in_channels: int) -> bool:
        """An identity that neither downsamples nor changes width: nothing to compute."""
        return self.kind == "id" and self.stride == 1 and in_channels == self.out


@dataclass(frozen=True)
class HeadSpec:
    """Last stage. ``conv`` = 0: no 1x1 conv; ``features`` = 0: no pre-classifier layer."""

    conv: int = 960
    features: int = 1280
    act: str = "hswish"

    def __post_init__(self) -> None:
        _check(self.conv >= 0, f"head conv width must be >= 0, got {self.conv}")
        _check(self.features >= 0, f"head feature width must be >= 0, got {self.features}")
        _check_activation(self.act)


@dataclass(frozen=True)
class ArchSpec:
    """A whole network. ``resolution`` is the input size it is meant to run at; ``classes`` its
    class count when fixed (None: the deployment setting's, see the module docstring)."""

    stem: StemSpec
    blocks: tuple[BlockSpec, ...]
    head: HeadSpec = field(default_factory=HeadSpec)
    resolution: int = 224
    classes: int | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "blocks", tuple(self.blocks))
        _check(len(self.blocks) > 0, "an architecture needs at least one block")
        _check(self.resolution >= 8, f"resolution must be >= 8, got {self.resolution}")
        _check(self.classes is None or self.classes >= 1,
               f"classes must be >= 1 (or absent), got {self.classes}")
        for in_channels, block in zip(self.in_channels(), self.blocks):
            _check(
                block.kind == "ir" or block.expand == in_channels,
                f"a {block.kind} block has no expansion: its width must equal its input "
                f"({in_channels})",
            )

    def num_classes(self, default: int = 1000) -> int:
        """The class count to cost this network at: its own if fixed, else ``default``."""
        return self.classes if self.classes is not None else default

    def in_channels(self) -> list[int]:
        """Input width of every block, in order."""
        widths = [self.stem.out]
        widths.extend(block.out for block in self.blocks[:-1])
        return widths

    @property
    def feature_channels(self) -> int:
        """Width entering the classifier."""
        if self.head.features:
            return self.head.features
        return self.head.conv or self.blocks[-1].out

    def to_dict(self) -> dict:
        data = asdict(self) | {"blocks": [asdict(b) for b in self.blocks]}
        if self.classes is None:  # the JSON of every existing network stays as it was
            data.pop("classes")
        return data

    @classmethod
    def from_dict(cls, data: dict) -> ArchSpec:
        try:
            return cls(
                stem=StemSpec(**data["stem"]),
                blocks=tuple(BlockSpec(**block) for block in data["blocks"]),
                head=HeadSpec(**data.get("head", {})),
                resolution=int(data.get("resolution", 224)),
                classes=None if data.get("classes") is None else int(data["classes"]),
            )
        except (KeyError, TypeError) as error:
            raise ArchParseError(f"malformed architecture JSON: {error}") from None

    def __str__(self) -> str:
        from nas.arch.codec import encode

        return encode(self)
