"""Everything the experiment will need, checked before the search starts.

A search of a thousand candidates takes an hour; a NetAdapt target out of reach, a final
budget with one seed, a misspelt reference or a supernet file of another space must end the
command in one line at once, not after that hour. ``preflight`` checks, in order: NetAdapt's
settings and its target (reachable from every network of the space: NetAdapt's floor of the
space's largest network), the final comparison (seeds, budget, workers, the networks and the
reference among them, the recipe), the dataset, the evaluator (its file, space and dataset;
whether NetAdapt can use it) and a final-trainings folder left by a run with other settings.
What it cannot check is what the search finds; everything else is here.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from omegaconf import DictConfig, OmegaConf

from nas.arch import PRESETS, ArchSpec, SearchSpace, resolve_arch
from nas.cli import as_number
from nas.errors import NasError
from nas.experiment.final import PLAN_KEYS, final_settings, folder_of
from nas.netadapt.adapt import NetAdaptSettings
from nas.netadapt.proposals import smallest
from nas.yardstick.build import changed_settings


@dataclass(frozen=True)
class Prepared:
    """What the checks resolved, for the stages to use."""

    netadapt: NetAdaptSettings
    references: dict[str, ArchSpec]  # compare.networks entry -> network
    final: dict                      # nas.experiment.final.final_settings


def resolve_network(entry: str) -> ArchSpec:
    """``preset``, ``preset:width`` (``mobilenet_v2:0.35``) or an architecture string."""
    name, _, width = str(entry).partition(":")
    if name in PRESETS and width:
        return resolve_arch(name, width=as_number(width, float, f"width of {entry}"))
    return resolve_arch(str(entry))


def evaluator_kind_of(cfg: DictConfig) -> str:
    from nas.search.evaluators import evaluator_kind

    return evaluator_kind(OmegaConf.to_container(cfg.evaluator))


def check_netadapt_can_use(kind: str) -> None:
    from nas.netadapt.tuning import NO_NETADAPT

    if kind in NO_NETADAPT:
        raise NasError(f"the experiment's NetAdapt cannot use evaluator={kind}: "
                       f"{NO_NETADAPT[kind]}")


def check_budget(cfg: DictConfig, kind: str) -> None:
    """NetAdapt's settings come from the evaluator's budget file; an evaluator without one
    must be given them."""
    missing = [key for key in cfg.netadapt if OmegaConf.is_missing(cfg.netadapt, key)]
    if missing:
        name = cfg.experiment.name
        raise NasError(f"experiment={name} has no budget for evaluator={kind} "
                       f"(conf/experiment_budget/{name}_{kind}.yaml): give "
                       + " ".join(f"netadapt.{key}=..." for key in missing))


def netadapt_settings(cfg: DictConfig) -> NetAdaptSettings:
    """``cfg.netadapt`` as settings (NetAdaptSettings refuses bad values in one line)."""
    stage = cfg.netadapt
    return NetAdaptSettings(target_ms=stage.target_ms, delta_fraction=stage.delta_fraction,
                            steps_per_proposal=stage.steps_per_proposal,
                            seed_steps=stage.seed_steps, max_steps=stage.max_steps, seed=cfg.seed)


def check_netadapt_target(space: SearchSpace, latency, target_ms: float) -> None:
    """The target must be reachable whatever network the search finds: at or above the floor
    NetAdapt reaches from the space's largest network (every width at 8 channels)."""
    from nas.yardstick.selection import CORNERS, corner

    floors = {name: latency(smallest(corner(space, CORNERS[name]), latency))
              for name in ("smallest", "largest")}
    if target_ms < floors["largest"]:
        raise NasError(f"netadapt.target_ms={target_ms:g} ms may be out of NetAdapt's reach: "
                       f"shrinking every width of the space's largest network to 8 channels "
                       f"still takes {floors['largest']:.2f} ms (its smallest network: "
                       f"{floors['smallest']:.2f} ms); give netadapt.target_ms >= "
                       f"{floors['largest']:.2f}")


def check_compare(cfg: DictConfig) -> dict[str, ArchSpec]:
    """The final comparison's budget and networks; the resolved networks."""
    compare = cfg.compare
    seeds = list(compare.seeds)
    if len(seeds) < 2 or len(set(seeds)) != len(seeds):
        raise NasError(f"compare.seeds must hold at least two distinct seeds (an interval over "
                       f"seeds needs two; the issue asks for 3), got {seeds}")
    if compare.epochs < 1:
        raise NasError(f"compare.epochs must be >= 1, got {compare.epochs}")
    if not 0 < compare.train_fraction <= 1:
        raise NasError(f"compare.train_fraction must be in (0, 1], got {compare.train_fraction}")
    if compare.workers < 1 or (compare.threads is not None and compare.threads < 1):
        raise NasError(f"compare.workers must be >= 1 and compare.threads >= 1 or null, got "
                       f"{compare.workers} and {compare.threads}")
    if any(n < 1 for n in compare.best_within):
        raise NasError(f"compare.best_within counts candidates (>= 1), got "
                       f"{list(compare.best_within)}")
    networks = {}
    for entry in compare.networks:
        try:
            networks[str(entry)] = resolve_network(entry)
        except NasError as error:
            raise NasError(f"compare.networks: {error}") from None
    reference = str(cfg.experiment.reference)
    if reference not in networks:
        raise NasError(f"experiment.reference={reference} is not among compare.networks "
                       f"{list(networks)}: the verdict compares against it")
    return networks


def check_recipe(settings: dict) -> None:
    """The final trainings' recipe: known keys (recipe_from_config) and sane values (Recipe)."""
    from nas.evaluate import recipe_from_config

    try:
        recipe_from_config(dict(settings["evaluator"]))
    except NasError as error:
        raise NasError(f"compare.recipe: {error}") from None


def _override_value(value) -> str:
    """A config value in Hydra's override grammar (``{conv:[576,1024],act:[relu]}``)."""
    if isinstance(value, dict):
        return "{" + ",".join(f"{k}:{_override_value(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ",".join(_override_value(v) for v in value) + "]"
    if value is None:
        return "null"
    return str(value).lower() if isinstance(value, bool) else str(value)


def supernet_command(cfg: DictConfig, out: str) -> str:
    """The ``python -m nas.supernet`` command that trains a file this experiment accepts: its
    space (the option and what the experiment changes in it) and its data split."""
    import shlex

    from nas.cli import compose_config

    space = OmegaConf.to_container(cfg.space)
    base = compose_config("supernet", [f"space={space['name']}"])
    args = [f"space={space['name']}"]
    for group, wanted in (("space", space), ("data", OmegaConf.to_container(cfg.data))):
        plain = OmegaConf.to_container(base[group])
        args += [f"{group}.{key}={_override_value(value)}" for key, value in wanted.items()
                 if plain.get(key) != value]
    return "python -m nas.supernet " + " ".join(shlex.quote(a) for a in [*args, f"out={out}"])


def check_evaluator(cfg: DictConfig, space: SearchSpace) -> None:
    """The search's evaluator is built (a supernet file read and checked against the space and
    the dataset) and NetAdapt can use it."""
    from nas.search.evaluators import check_evaluator_space, make_search_evaluator
    from nas.supernet.store import SupernetFileError

    evaluator_cfg = OmegaConf.to_container(cfg.evaluator)
    try:
        evaluator = make_search_evaluator(OmegaConf.to_container(cfg.data), evaluator_cfg,
                                          cfg.seed)
        check_evaluator_space(evaluator, space)
    except SupernetFileError as error:  # say how to make the file this experiment needs
        command = supernet_command(cfg, str(evaluator_cfg.get("path")))
        raise NasError(f"{error}; for this experiment: {command}") from None


def check_final_folder(run_dir: Path, settings: dict) -> None:
    """A final-trainings folder of an earlier run with another budget is refused now."""
    changed = [key for key in changed_settings(folder_of(run_dir), settings, PLAN_KEYS)
               if key != "networks"]  # the networks are known after the search
    if changed:
        raise NasError(f"{folder_of(run_dir)} holds final trainings made with other "
                       f"{', '.join(changed)}; give another run_dir= or restore the settings")


def preflight(cfg: DictConfig, space: SearchSpace, latency, run_dir: Path) -> Prepared:
    """Every check above, cheapest first; returns what they resolved."""
    from nas.evaluate import load_data_config

    kind = evaluator_kind_of(cfg)
    check_netadapt_can_use(kind)
    check_budget(cfg, kind)
    settings = netadapt_settings(cfg)
    check_netadapt_target(space, latency, settings.target_ms)
    references = check_compare(cfg)
    final = final_settings(cfg, space.name)
    check_recipe(final)
    load_data_config(OmegaConf.to_container(cfg.data))  # a missing dataset: one line now
    check_evaluator(cfg, space)
    check_final_folder(run_dir, final)
    return Prepared(settings, references, final)
