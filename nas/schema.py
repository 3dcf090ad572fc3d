"""Typed schemas of the Hydra configs (structured configs, registered in Hydra's ConfigStore).

Each option file of a group names its schema first in its defaults list, e.g.
``conf/evaluator/proxy.yaml``::

    defaults:
      - /schema/evaluator/proxy@_here_
      - _self_

so the file's values merge into a typed node: a wrong type (``search.n_trials=abc``) or an
unknown key (``search.n_trails=5``) fails while Hydra composes, and ``OmegaConf.to_object``
hands the library dataclasses instead of dicts. Schemas live in the group ``schema/<group>``,
never in ``<group>`` itself, so they are not offered as options of the group. Options of one
group that hold different keys (a proxy evaluator and the surrogate; a measured CPU and a
calibrated phone) each have their own schema, picked by the option file.

Adding an option with new keys: one dataclass here and one line in ``SCHEMAS``, then name it in
the option file's defaults list. A verb's top level is a schema too (``schema/<verb>``, named
by ``conf/<verb>.yaml``); its groups are ``Any`` there, typed by their own option's schema.

Values stay as the yaml files write them: the schemas set types, not values, and fields whose
value every option file gives are ``MISSING`` (``???``) here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from omegaconf import MISSING, OmegaConf

# OmegaConf evaluates these annotations itself (strings under ``from __future__``); it reads
# ``int | None`` and ``list[int]`` on Python >= 3.10.


# --- hardware ---------------------------------------------------------------------------------
@dataclass
class Timing:
    """``nas.hardware.timing.TimingSettings`` (it checks the values)."""

    warmup_s: float = 0.03
    min_runs: int = 10
    max_runs: int = 200
    target_s: float = 0.06
    rounds: int = 3
    protocol: str = "adaptive"
    clock: str = "auto"
    statistic: str = "min_round_p10"
    tolerance: float = 0.01
    min_rounds: int = 8
    max_rounds: int = 16
    min_gap_s: float = 1.0


@dataclass
class Calibration:
    archs: int = 10
    seed: int = 1000
    auto: bool = True


@dataclass
class MeasuredHardware:
    """``conf/hardware/{cpu,cuda}.yaml``: ops timed on this machine (``nas.hardware.profiles``)."""

    name: str = MISSING
    kind: str = "measured"
    device: str = MISSING
    backend: str = MISSING
    threads: int = 1
    batch: int = 1
    resolution: int = 224
    num_classes: int = 1000
    table: str | None = None
    on_demand: bool = True
    timing: Timing = field(default_factory=Timing)
    calibration: Calibration = field(default_factory=Calibration)


@dataclass
class CalibratedHardware:
    """``conf/hardware/pixel*.yaml``: a phone's latency model (``nas.hardware.pixel``)."""

    name: str = MISSING
    kind: str = "calibrated"
    phone: str = MISSING
    device: str = MISSING
    backend: str = "tflite"
    precision: str = "fp32"
    threads: int = 1
    batch: int = 1
    resolution: int = 224
    num_classes: int = 1000
    terms: list[str] | None = None
    imported: str | None = None


# --- space ------------------------------------------------------------------------------------
@dataclass
class Stem:
    width: list[int] = MISSING
    act: list[str] = MISSING


@dataclass
class Stage:
    stride: int = MISSING
    depth: list[int] = MISSING
    width: list[int] = MISSING
    kernel: list[int] = MISSING
    expand: list[Any] = MISSING  # ratios as written (3, 4.5): ints stay ints in the arch strings
    se: list[bool] = MISSING
    act: list[str] = MISSING


@dataclass
class Head:
    conv: list[int] = MISSING
    features: list[int] = MISSING
    act: list[str] = MISSING


@dataclass
class BlockwiseSpace:
    """``conf/space/mobilenet_v3_*.yaml``: ``nas.arch.SearchSpace.from_config``."""

    name: str = MISSING
    resolution: int = 224
    references: list[str] = field(default_factory=list)
    stem: Stem = field(default_factory=Stem)
    stages: list[Stage] = MISSING
    head: Head = field(default_factory=Head)


@dataclass
class OpsStem(Stem):
    stride: int = 2


@dataclass
class OpsStage:
    """A stage of whole-block ops (``id``, ``k3_e3``, ...) instead of kernel x expansion."""

    stride: int = MISSING
    depth: list[int] = MISSING
    width: list[int] = MISSING
    ops: list[str] = MISSING
    se: list[bool] = MISSING
    act: list[str] = MISSING


@dataclass
class OpsSpace:
    """``conf/space/nas_bench_macro.yaml``: a benchmark's space, its class count fixed."""

    name: str = MISSING
    resolution: int = MISSING
    classes: int | None = None
    references: list[str] = field(default_factory=list)
    stem: OpsStem = field(default_factory=OpsStem)
    stages: list[OpsStage] = MISSING
    head: Head = field(default_factory=Head)


# --- search -----------------------------------------------------------------------------------
@dataclass
class Constraints:
    max_latency_ms: float | None = None
    max_macs: float | None = None
    max_params: float | None = None


@dataclass
class Search:
    """``conf/search/*.yaml`` (shared values in ``conf/shared/search.yaml``): the strategy's
    ``nas.search.SearchSettings`` and the workers' ``nas.search.workers.WorkerSettings``."""

    strategy: str = MISSING
    n_trials: int = MISSING
    objectives: str = MISSING
    constraints: Constraints = field(default_factory=Constraints)
    max_failure_rate: float = MISSING
    min_trials_for_failure_rate: int = MISSING
    population_size: int = MISSING
    n_startup_trials: int = MISSING
    target_ms: float = MISSING
    w: float = MISSING
    w_above_target: float | None = None
    pruner: str = MISSING
    inactive_genes: bool = MISSING
    n_workers: Any = "auto"  # a count, or "auto" (nas.search.parallel.auto_workers)
    n_trials_per_worker: int | None = None
    threads: int | None = None
    heartbeat_seconds: int = MISSING
    grace_seconds: int = MISSING
    poll_seconds: float = MISSING


# --- data -------------------------------------------------------------------------------------
@dataclass
class ArrayData:
    """``conf/data/{fashion_mnist,cifar10,cifar100}.yaml``: ``nas.evaluate.load_dataset``."""

    name: str = MISSING
    root: str | None = None
    val_size: Any = 10000  # a count of images, or a fraction of the training images
    split_seed: int = 0


@dataclass
class ImageFolderData(ArrayData):
    """``conf/data/imagefolder.yaml``."""

    image_size: int = 32
    channels: int = 3
    test_fraction: float = 0.2


# --- evaluator --------------------------------------------------------------------------------
@dataclass
class ProxyEvaluator:
    """``conf/evaluator/proxy.yaml``: ``nas.evaluate.make_evaluator`` (its Recipe and budget)."""

    epochs: int = MISSING
    seed_std: float | None = None  # accuracy points, measured; error bars in the reports
    train_fraction: float = 1.0
    val_size: Any = None  # a count of images, a fraction, or null: the whole split
    resolution: int | None = None
    batch_size: int = MISSING
    lr: float = MISSING
    momentum: float = MISSING
    nesterov: bool = MISSING
    weight_decay: float = MISSING
    warmup_fraction: float = MISSING
    label_smoothing: float = MISSING
    augment: bool = MISSING
    channels_last: bool = MISSING
    eval_batch_size: int = MISSING
    dropout: float = 0.0
    device: str = "auto"
    threads: int | None = None
    teacher: str | None = None
    teacher_epochs: int = 1
    kd_alpha: float = MISSING
    kd_temperature: float = MISSING
    check_every: int = MISSING
    bn_recalibration: int = MISSING


@dataclass
class SurrogateEvaluator:
    """``conf/evaluator/surrogate.yaml``: ``nas.search.SurrogateEvaluator``."""

    kind: str = "surrogate"
    seed_std: float | None = None
    seed: int = 0
    base: float = MISSING
    capacity: float = MISSING
    weight_std: float = MISSING
    seconds: float = 0.0
    fail_share: float = 0.0


@dataclass
class ZeroCostEvaluator:
    """``conf/evaluator/zero_cost.yaml``: ``nas.evaluate.zero_cost`` (it checks the score)."""

    kind: str = "zero_cost"
    seed_std: float | None = None
    score: str = MISSING
    batch_size: int = 64
    seed: int | None = None
    resolution: int | None = None
    channels: int | None = None
    threads: int | None = None


@dataclass
class TabularEvaluator:
    """``conf/evaluator/tabular.yaml``: ``nas.tabular.TabularEvaluator`` (it checks ``noise``)."""

    kind: str = "tabular"
    noise: str = "mean"
    seed_std: float | None = None


@dataclass
class SupernetEvaluator:
    """``conf/evaluator/supernet.yaml``: ``nas.supernet.evaluator.make_supernet_evaluator``."""

    kind: str = "supernet"
    path: str = MISSING
    bn_images: int = 1000
    val_size: int | None = None
    finetune_steps: int = 0
    finetune_lr: float = 0.01
    seed: int | None = None
    device: str = "auto"
    threads: int | None = None
    eval_batch_size: int = 500
    precision: str = "auto"
    settled: str = "auto"


@dataclass
class PredictorEvaluator:
    """``conf/evaluator/predictor.yaml``: ``nas.predictor.make_predictor_evaluator``."""

    kind: str = "predictor"
    path: str = MISSING
    threads: int | None = None
    seed_std: float | None = None


# --- experiment -------------------------------------------------------------------------------
@dataclass
class Experiment:
    """``conf/experiment/*.yaml``'s own node (the files also set other groups, globally)."""

    name: str = MISSING
    reference: str = MISSING


@dataclass
class NetAdaptStage:
    """An experiment's ``netadapt:`` (``nas.netadapt.NetAdaptSettings`` and its tuner)."""

    target_ms: float = MISSING
    delta_fraction: float = MISSING
    steps_per_proposal: int = MISSING
    seed_steps: int = MISSING
    finetune_lr: float = MISSING
    finetune_batch_size: int | None = None
    train_images: int | None = None
    val_images: int | None = MISSING  # null: the whole validation split
    max_steps: int | None = None


@dataclass
class Compare:
    """An experiment's ``compare:``: the final stand-alone trainings (``nas.experiment.final``)
    of the found networks and of the references trained beside them, at the ground truth's
    budget."""

    networks: list[str] = MISSING
    seeds: list[int] = MISSING
    exclude_from_seed: list[str] = field(default_factory=list)
    epochs: int = MISSING
    train_fraction: float = 1.0
    workers: int = 2
    threads: int | None = 1
    # also train the best network within the first N candidates of the search, per N
    best_within: list[int] = field(default_factory=list)
    recipe: Any = None  # conf/evaluator/proxy.yaml, typed by its own schema there


# --- each verb's top level --------------------------------------------------------------------
@dataclass
class SearchVerb:
    """``conf/config.yaml``: ``nas.search`` and ``nas.experiment``."""

    hardware: Any = None
    space: Any = None
    search: Any = None
    data: Any = None
    evaluator: Any = None
    experiment: Experiment | None = None
    run_dir: str | None = None
    storage: str | None = None
    study_name: str | None = None
    seed: int = 0
    report: bool = True
    threads: int | None = None  # an experiment's torch threads
    device: str | None = None   # an experiment's NetAdapt device
    netadapt: NetAdaptStage | None = None
    compare: Compare | None = None


@dataclass
class DescribeVerb:
    space: Any = None
    hardware: Any = None
    arch: str | None = None
    width: float | None = None
    resolution: int | None = None
    num_classes: int = 1000
    format: str = "table"


@dataclass
class TrainVerb:
    data: Any = None
    evaluator: Any = None
    arch: str | None = None
    init: str | None = None
    width: float | None = None
    epochs: int = 5
    train_fraction: float = 1.0
    seed: int = 0
    save: str | None = None
    threads: int | None = None


@dataclass
class ValidateVerb:
    hardware: Any = None
    space: Any = None
    n_archs: int = 50
    seed: int = 0
    presets: list[str] = field(default_factory=list)
    resolution: int | None = None
    table: str | None = None
    out: str | None = None


@dataclass
class ReportVerb:
    run_dir: str | None = None
    storage: str | None = None
    study_name: str | None = None
    serve: bool = False          # open the study in optuna-dashboard (pip install 'nas[dashboard]')
    host: str = "127.0.0.1"
    port: int = 8080


@dataclass
class NetAdaptVerb(NetAdaptStage):
    hardware: Any = None
    data: Any = None
    evaluator: Any = None
    arch: str = MISSING
    final_train: bool | None = None  # null: only with the proxy evaluator
    seed: int = 0
    device: str = "cpu"
    threads: int | None = None
    run_dir: str | None = None


@dataclass
class RankVerb:
    space: Any = None
    data: Any = None
    evaluator: Any = None
    ground_truth: str | None = None
    top_k: int = 5
    limit: int | None = None
    seed: int = 0
    bootstrap: int = 1000
    label: str | None = None
    out: str | None = None


@dataclass
class GroundTruthVerb:
    space: Any = None
    data: Any = None
    evaluator: Any = None
    networks: int = 24
    pool: int = 600
    select_seed: int = 0
    epochs: int = 3
    train_fraction: float = 1.0
    seeds: list[int] = field(default_factory=lambda: [0, 1])
    workers: int = 2
    threads: int | None = 1
    out: str | None = None


@dataclass
class TabularGroundTruthVerb:
    out: str = MISSING
    sample: int = 500
    seed: int = 0


@dataclass
class SupernetRecipe:
    """``conf/supernet.yaml``'s ``recipe:``: a ``nas.evaluate.Recipe`` (it checks the values)."""

    batch_size: int = MISSING
    lr: float = MISSING
    momentum: float = MISSING
    nesterov: bool = MISSING
    weight_decay: float = MISSING
    warmup_fraction: float = MISSING
    label_smoothing: float = MISSING
    augment: bool = MISSING
    channels_last: bool = MISSING
    resolution: int | None = None
    eval_batch_size: int = MISSING
    kd_alpha: float = MISSING
    kd_temperature: float = MISSING
    check_every: int = MISSING
    bn_recalibration: int = 0


@dataclass
class SupernetVerb:
    """``conf/supernet.yaml``: ``python -m nas.supernet``."""

    space: Any = None
    data: Any = None
    steps: int = MISSING
    random_subnets: int = 2
    checkpoint_every: int = 100
    keep_every: int | None = None
    max_seconds: float | None = None
    train_images: int | None = None
    score_bn_images: int = 2000
    score_val_images: int | None = 2000
    seed: int = 0
    out: str | None = None
    device: str = "auto"
    threads: int | None = None
    recipe: SupernetRecipe = field(default_factory=SupernetRecipe)


@dataclass
class SupernetPackVerb:
    """``conf/supernet_pack.yaml``: ``python -m nas.supernet.pack``."""

    src: str = MISSING
    out: str = MISSING
    dtype: str = "float16"


@dataclass
class PredictorFit:
    """``conf/predictor.yaml``'s ``fit:``: ``nas.predictor.FitSettings`` (it checks values)."""

    hidden: int = 400
    layers: int = 3
    epochs: int = 300
    batch_size: int = 64
    lr: float = 0.001
    weight_decay: float = 0.0001
    ensemble: int = 1


@dataclass
class PredictorVerb:
    """``conf/predictor.yaml``: ``python -m nas.predictor``."""

    space: Any = None
    data: Any = None
    evaluator: Any = None
    samples: int = 2000
    holdout: float = 0.2
    seed: int = 0
    out: str | None = None
    threads: int | None = None
    fit: PredictorFit = field(default_factory=PredictorFit)


@dataclass
class SettleVerb:
    """``conf/settle.yaml``: ``python -m nas.supernet.settle``."""

    space: Any = None
    data: Any = None
    evaluator: Any = None
    references: int = 150
    held_out: int = 50
    seed: int = 1
    out: str | None = None
    threads: int | None = None


@dataclass
class ExportVerb:
    """``conf/export.yaml``: ``python -m nas.export``."""

    data: Any = None
    arch: str = MISSING
    supernet: str = MISSING
    out: str = MISSING
    bn_images: int = 1000
    val_size: int | None = 2000
    seed: int = 0
    opset: int = 17
    threads: int | None = None


# ``profile.yaml`` has a key named ``import``, which no dataclass field can be; its groups are
# typed, its top level checked by Hydra's struct mode (unknown keys) only.

# (group, name) -> schema; ``conf/...`` files name them as ``/schema/<group>/<name>@_here_``.
SCHEMAS: dict[tuple[str, str], type] = {
    ("schema/hardware", "measured"): MeasuredHardware,
    ("schema/hardware", "calibrated"): CalibratedHardware,
    ("schema/space", "blockwise"): BlockwiseSpace,
    ("schema/space", "ops"): OpsSpace,
    ("schema/search", "search"): Search,
    ("schema/data", "array"): ArrayData,
    ("schema/data", "imagefolder"): ImageFolderData,
    ("schema/evaluator", "proxy"): ProxyEvaluator,
    ("schema/evaluator", "surrogate"): SurrogateEvaluator,
    ("schema/evaluator", "zero_cost"): ZeroCostEvaluator,
    ("schema/evaluator", "tabular"): TabularEvaluator,
    ("schema/evaluator", "supernet"): SupernetEvaluator,
    ("schema/evaluator", "predictor"): PredictorEvaluator,
    ("schema/experiment", "experiment"): Experiment,
    ("schema", "config"): SearchVerb,
    ("schema", "describe"): DescribeVerb,
    ("schema", "train"): TrainVerb,
    ("schema", "validate"): ValidateVerb,
    ("schema", "report"): ReportVerb,
    ("schema", "netadapt"): NetAdaptVerb,
    ("schema", "rank"): RankVerb,
    ("schema", "ground_truth"): GroundTruthVerb,
    ("schema", "tabular_ground_truth"): TabularGroundTruthVerb,
    ("schema", "supernet"): SupernetVerb,
    ("schema", "supernet_pack"): SupernetPackVerb,
    ("schema", "predictor"): PredictorVerb,
    ("schema", "export"): ExportVerb,
    ("schema", "settle"): SettleVerb,
}


def package_file(relative: str) -> str:
    """``${nas_data:supernet/data/X.pt}`` in a config: a file shipped inside the package, as an
    absolute path, so that a checkout, an editable install and a wheel all find it."""
    import nas

    path = Path(nas.__file__).parent / relative
    if not path.is_file():
        raise ValueError(f"the package ships no {relative} ({path})")
    return str(path)


def register_resolvers() -> None:
    if not OmegaConf.has_resolver("nas_data"):
        OmegaConf.register_new_resolver("nas_data", package_file)


def register() -> None:
    """Put every schema in Hydra's ConfigStore (idempotent: a store overwrites)."""
    from hydra.core.config_store import ConfigStore

    register_resolvers()
    store = ConfigStore.instance()
    for (group, name), node in SCHEMAS.items():
        store.store(group=group, name=name, node=node)
