"""What every ``python -m nas.<verb>`` shares: Hydra config composition and clean errors.

Entry points compose ``conf/<verb>.yaml`` with Hydra's compose API rather than ``@hydra.main``:
the same defaults lists, groups and override grammar, but a bad override, a bad architecture or
a missing file ends in one line on stderr and exit code 2 instead of a traceback, and no
``outputs/`` folder is left behind. Every option file names its typed schema
(``nas/schema.py``), so a wrong type or unknown key fails while Hydra composes; the messages
are cut to one line here. ``DictConfig`` stops here: library functions take plain typed
arguments.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Callable
from pathlib import Path

from omegaconf import DictConfig, OmegaConf
from omegaconf.errors import OmegaConfBaseException

from nas.errors import NasError

# The package's configs: nas/conf links to the repository's conf/ in a checkout (and an
# editable install); a wheel carries the files themselves there (pyproject.toml).
CONF_DIR = Path(__file__).resolve().parent / "conf"
EXIT_USAGE = 2
SEARCH_PATH = "hydra.searchpath="


class ConfigError(NasError):
    """An override or config that Hydra or OmegaConf rejected."""


def _one_line(message: str) -> str:
    """Hydra's and OmegaConf's multi-line messages, cut to what the user needs."""
    lines = [line.strip() for line in str(message).splitlines() if line.strip()]
    unknown = re.match(r"Could not override '([^']+)'", lines[0]) if lines else None
    if unknown and any(line.startswith("To append") for line in lines):
        return f"unknown setting {unknown.group(1)!r} (--cfg prints the known settings)"
    missing = re.match(r"Missing mandatory value: (\S+)", lines[0]) if lines else None
    if missing:
        return f"missing required setting: give {missing.group(1)}=..."
    if "Config search path:" in lines:  # Hydra's search path follows; users need none of it
        lines = lines[: lines.index("Config search path:")]
    noise = ("full_key", "object_type", "Set the environment", "To append")
    keep = [line for line in lines if not line.startswith(noise)]
    if not keep:
        return "invalid configuration"
    options = next((i for i, line in enumerate(keep) if line.startswith("Available options")), None)
    if options is not None:  # every option, however many the group has
        keep = keep[:options] + [keep[options] + " " + ", ".join(keep[options + 1:])]
    return " ".join(keep)


TYPE_WORDS = {"Integer": "a whole number", "Float": "a number", "String": "a string"}


def schema_message(error: Exception) -> str | None:
    """One line for a value a schema (nas/schema.py) refused: the key, what it must be, and
    its known siblings for a misspelt key; None when the schema is not the cause."""
    import difflib
    from dataclasses import fields, is_dataclass

    from omegaconf.errors import ConfigAttributeError, ConfigKeyError, ValidationError

    kinds = (ValidationError, ConfigKeyError, ConfigAttributeError)
    cause = error if isinstance(error, kinds) else error.__cause__
    key = getattr(cause, "full_key", None)
    if not key or not isinstance(cause, kinds):
        return None
    first = str(cause).splitlines()[0]
    if not isinstance(cause, ValidationError):
        schema = getattr(cause, "object_type", None)
        known = [f.name for f in fields(schema)] if is_dataclass(schema) else []
        near = difflib.get_close_matches(str(cause.key), known, n=1)
        hint = f"; did you mean {key.rpartition('.')[0] + '.' if '.' in key else ''}{near[0]}?" \
            if near else (f"; known: {', '.join(known)}" if 0 < len(known) <= 8
                          else " (--cfg prints the known settings)")
        return f"unknown setting {key!r}{hint}"
    converted = re.match(r"Value '(.*)' of type '\w+' could not be converted to (\w+)", first)
    if converted:
        return f"{key} must be {TYPE_WORDS.get(converted[2], converted[2])}, " \
               f"got {converted[1]!r}"
    boolean = re.match(r"Value '(.*)' is not a valid bool", first)
    if boolean:
        return f"{key} must be true or false, got {boolean[1]!r}"
    return f"{key}: {first}"


def check_search_path(overrides: list[str]) -> None:
    """Each folder of ``hydra.searchpath=[file:///DIR, ...]`` must exist: Hydra itself only
    warns and then reports the user's options as missing from the package's groups."""
    from hydra.core.override_parser.overrides_parser import OverridesParser

    for arg in (a for a in overrides if a.lstrip("+").startswith(SEARCH_PATH)):
        try:
            value = OverridesParser.create().parse_override(arg).value()
        except Exception as error:  # Hydra's grammar errors are many-lined
            raise ConfigError(f"hydra.searchpath: {_one_line(str(error))}") from None
        for entry in value if isinstance(value, list) else [value]:
            scheme, _, place = str(entry).partition("://")
            if scheme == "file" and not Path(place).is_dir():
                raise ConfigError(f"hydra.searchpath: no config folder {place!r}")


def compose_config(config_name: str, overrides: list[str]) -> DictConfig:
    """``conf/<config_name>.yaml`` with command-line ``overrides`` applied; user config folders
    join through ``hydra.searchpath=[file:///DIR]`` (README: Install)."""
    from hydra import compose, initialize_config_dir
    from hydra.errors import HydraException
    from omegaconf.errors import OmegaConfBaseException

    from nas.schema import register

    register()
    check_search_path(overrides)
    try:
        with initialize_config_dir(str(CONF_DIR), version_base=None, job_name=config_name):
            cfg = compose(config_name, overrides=overrides)
        OmegaConf.resolve(cfg)
    except (HydraException, OmegaConfBaseException) as error:
        raise ConfigError(schema_message(error) or _one_line(str(error))) from None
    except ValueError as error:  # Hydra's override parser, e.g. ``group=null``
        raise ConfigError(f"{_one_line(str(error))} (remove a group with ~group)") from None
    return cfg


def run(main: Callable[[DictConfig], object], config_name: str, argv: list[str] | None = None,
        usage: str = "") -> None:
    """Compose the config, call ``main(cfg)``, and turn user errors into one line."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if any(arg in ("-h", "--help") for arg in argv):
        print(usage or f"usage: python -m nas.{config_name} [key=value ...]")
        print(f"config: {CONF_DIR / (config_name + '.yaml')}; --cfg prints the composed config")
        for group, options in group_options(config_name).items():
            print(f"  {group}=  {', '.join(options)}")
        return
    show_config = "--cfg" in argv
    argv = [arg for arg in argv if arg != "--cfg"]
    try:
        cfg = compose_config(config_name, argv)
        if show_config:
            print(OmegaConf.to_yaml(cfg))
            return
        main(cfg)
    except OmegaConfBaseException as error:
        print(f"error: {_one_line(str(error))}", file=sys.stderr)
        sys.exit(EXIT_USAGE)
    except NasError as error:
        print(f"error: {error}", file=sys.stderr)
        sys.exit(EXIT_USAGE)
    except KeyboardInterrupt:
        print("interrupted: finished work is saved; run the same command to resume",
              file=sys.stderr)
        sys.exit(130)


def group_options(config_name: str) -> dict[str, list[str]]:
    """The groups ``conf/<config_name>.yaml`` picks from, with the package's options of each
    (``conf/shared/`` holds pieces of groups, not options, and is never listed)."""
    defaults = OmegaConf.load(CONF_DIR / f"{config_name}.yaml").get("defaults") or []
    groups = [next(iter(entry)) for entry in defaults if isinstance(entry, dict | DictConfig)]
    return {group: sorted(p.stem for p in (CONF_DIR / group).glob("*.yaml"))
            for group in groups if (CONF_DIR / group).is_dir()}


def as_number(value, kind: type, name: str):
    """``value`` from the config as ``kind`` (int or float); None stays None."""
    if value is None:
        return None
    try:
        number = kind(value)
    except (TypeError, ValueError):
        raise ConfigError(f"{name} must be a number, got {value!r}") from None
    if kind is int and number != float(value):
        raise ConfigError(f"{name} must be a whole number, got {value!r}")
    return number


def load_space(name: str):
    """The search space of ``conf/space/<name>.yaml``, outside a verb's command line."""
    from nas.arch import SearchSpace

    space = compose_config("describe", [f"space={name}"]).space
    return SearchSpace.from_config(OmegaConf.to_container(space))
