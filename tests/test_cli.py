"""nas.cli and nas.schema: every shipped option composes into its typed schema, bad values fail
in one line naming the key, user config folders join through Hydra's search path."""

from dataclasses import is_dataclass

import pytest
from omegaconf import OmegaConf

from nas import schema
from nas.cli import CONF_DIR, ConfigError, compose_config, group_options, run

GROUPS = ["hardware", "space", "search", "data", "evaluator"]


@pytest.mark.parametrize("group, option", [
    (group, path.stem) for group in GROUPS for path in sorted((CONF_DIR / group).glob("*.yaml"))])
def test_every_shipped_option_composes_into_a_schema(group, option):
    cfg = compose_config("config", [f"{group}={option}"])
    typed = OmegaConf.get_type(cfg[group])
    assert typed in schema.SCHEMAS.values(), f"{group}/{option}.yaml names no nas.schema class"


@pytest.mark.parametrize("verb", ["config", "describe", "train", "validate", "report", "netadapt",
                                  "supernet", "supernet_pack", "predictor", "export"])
def test_each_verbs_top_level_is_typed(verb):
    assert OmegaConf.get_type(compose_config(verb, [])) in schema.SCHEMAS.values()


def test_library_functions_get_typed_objects():
    search = OmegaConf.to_object(compose_config("config", ["search.n_trials=7"]).search)
    assert isinstance(search, schema.Search) and search.n_trials == 7
    assert is_dataclass(search.constraints)


@pytest.mark.parametrize("override, message", [
    ("search.n_trials=abc", "search.n_trials must be a whole number, got 'abc'"),
    ("search.n_trails=5", "unknown setting 'search.n_trails'; did you mean search.n_trials?"),
    ("hardware.timing.rounds=2", "unknown setting 'hardware.timing'"),  # pixel is not measured
    ("evaluator.finetune_lr=fast", "evaluator.finetune_lr must be a number, got 'fast'"),
    ("space.resolution=big", "space.resolution must be a whole number, got 'big'"),
])
def test_a_value_the_schema_refuses_is_one_line(override, message):
    with pytest.raises(ConfigError) as error:
        compose_config("config", [override])
    assert str(error.value).startswith(message) and "\n" not in str(error.value)


def test_shared_pieces_are_not_options(capsys):
    assert group_options("config")["search"] == ["mnasnet", "nsga2", "random", "tpe"]
    run(lambda cfg: None, "config", argv=["--help"])
    shown = capsys.readouterr().out
    assert "search=  mnasnet, nsga2, random, tpe" in shown
    assert "_common" not in shown and "shared" not in shown
    with pytest.raises(ConfigError, match="Available options in 'search': mnasnet, nsga2, "
                                          "random, tpe$"):
        compose_config("config", ["search=_common"])


def test_a_user_config_folder_joins_the_search_path(tmp_path):
    (tmp_path / "hardware").mkdir()
    (tmp_path / "hardware" / "my_pixel.yaml").write_text(
        "defaults: [pixel1, _self_]\nname: my_pixel\n")
    cfg = compose_config("describe", [f"hydra.searchpath=[file://{tmp_path}]",
                                      "hardware=my_pixel"])
    assert cfg.hardware.name == "my_pixel" and cfg.hardware.kind == "calibrated"
    assert OmegaConf.get_type(cfg.hardware) is schema.CalibratedHardware


def test_a_missing_user_config_folder_is_one_line_exit_2(tmp_path, capsys):
    with pytest.raises(SystemExit) as stop:
        run(lambda cfg: None, "describe", argv=[f"hydra.searchpath=[file://{tmp_path}/nope]"])
    assert stop.value.code == 2
    assert capsys.readouterr().err == f"error: hydra.searchpath: no config folder " \
                                      f"'{tmp_path}/nope'\n"
