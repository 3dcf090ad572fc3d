"""The timing protocol of issue 17: rounds until stable, the too-noisy path, old tables, and
the additivity correction fitted on first prediction. Real measurements, tiny parts."""

import math

import pytest

from nas.errors import NasError
from nas.hardware import LatencyTable, OpKey, TableError, arch_keys, load_hardware, measure_into
from nas.hardware import profiles as profiles_module
from nas.hardware.child import op_job, run_jobs
from nas.hardware.timing import (
    RoundRuns,
    TimingSettings,
    measure_rounds,
    settled,
    spread,
    summarise,
    timing_from,
)

PARTS = [OpKey(op="stem", resolution=r, in_ch=3, out=8, kernel=3, stride=2, act="relu")
         for r in (16, 24, 32)] + [
    OpKey(op="ir", resolution=16, in_ch=8, out=8, expand=24, kernel=3, act="hswish"),
    OpKey(op="ir", resolution=16, in_ch=8, out=16, expand=16, kernel=5, stride=2, se=True)]


def tiny_settings(tiny, **changes) -> TimingSettings:
    return TimingSettings(backend="eager", **(tiny | changes))


def rounds_taken(settings: TimingSettings) -> list[int]:
    results = []
    run_jobs([op_job(i, key) for i, key in enumerate(PARTS)], settings, results.append)
    assert all("error" not in result for result in results)
    return [timing_from(result).rounds for result in results]


# --- the stopping rule, on synthetic rounds -------------------------------------------------
def test_spread_compares_the_even_and_odd_rounds():
    quiet, busy = [1.0] * 10, [1.5] * 10
    assert spread([quiet], "min_round_p10") == math.inf
    assert spread([quiet, busy], "min_round_p10") == pytest.approx(0.5)  # only one half quiet
    assert spread([quiet, busy, busy, [1.004] * 10], "min_round_p10") == pytest.approx(0.004)
    settings = TimingSettings(min_rounds=3, max_rounds=5, tolerance=0.01)
    assert not settled([quiet, busy], settings)  # fewer than min_rounds
    assert not settled([quiet, busy, busy], settings)  # the odd half never saw a quiet round
    assert settled([quiet, busy, busy, [1.004] * 10], settings)
    assert settled([busy, quiet, busy, busy, busy], settings)  # max_rounds: the budget ends it
    timing = summarise([busy, quiet, busy, busy, busy], settings)
    assert timing.ms == 1.0 and timing.rounds == 5 and timing.stable is False
    assert timing.spread_pct == pytest.approx(50)


def test_fixed_protocol_is_the_old_one():
    fixed = TimingSettings(protocol="fixed", rounds=3, statistic="pooled_p10", clock="cpu")
    assert fixed.estimate == "wall:min_round_median" and fixed.gap_s == 0
    assert settled([[2.0]] * 3, fixed) and not settled([[2.0]] * 2, fixed)
    assert TimingSettings().estimate == "cpu:min_round_p10"
    assert TimingSettings(threads=2).estimate == "wall:min_round_p10"  # the thread misses others
    assert TimingSettings(backend="cuda").estimate == "wall:min_round_p10"  # CUDA events


@pytest.mark.parametrize("changes, message", [
    ({"protocol": "best"}, "protocol must be one of adaptive, fixed"),
    ({"statistic": "mean"}, "statistic must be one of"),
    ({"tolerance": 0}, "tolerance must be > 0"),
    ({"min_rounds": 5, "max_rounds": 4}, "max_rounds"),
    ({"clock": "cpu", "threads": 2}, "clock=cpu .* threads=1"),
    ({"clock": "cpu", "backend": "cuda"}, "clock=cpu .* backend"),
])
def test_bad_timing_settings_are_one_line(changes, message):
    with pytest.raises(NasError, match=message) as error:
        TimingSettings(**changes)
    assert "\n" not in str(error.value)


def test_the_shared_round_loop_takes_a_round_without_cpu_times():
    """A cuda round carries CUDA-event times only; the loop, statistic and stopping rule are
    the CPU backends' (no GPU here: a round of fixed times stands in for it)."""
    # the even rounds reach the quiet level only in the fifth
    times = iter([[3.0, 3.1], [2.0, 2.1], [2.5, 2.6], [2.02, 2.2], [2.01, 2.1]])
    results = {}
    settings = TimingSettings(backend="cuda", min_rounds=2, max_rounds=6, min_gap_s=0)
    measure_rounds({"net": lambda s: RoundRuns(next(times))}, settings,
                   lambda job, progress, timing, error: results.update({job: (timing, error)}))
    timing, error = results["net"]
    assert error is None and timing.rounds == 5 and timing.ms == 2.0 and timing.stable


# --- the stopping rule, on real measurements --------------------------------------------------
def test_a_loose_tolerance_stops_earlier_than_a_tight_one(tiny):
    loose = rounds_taken(tiny_settings(tiny, min_rounds=2, max_rounds=8, tolerance=0.5))
    tight = rounds_taken(tiny_settings(tiny, min_rounds=2, max_rounds=8, tolerance=1e-6))
    assert all(2 <= taken <= 8 for taken in loose + tight)
    assert sum(loose) < sum(tight)
    assert max(tight) == 8  # a 0.0001% tolerance is out of reach: the budget ends it


def test_a_machine_too_noisy_for_the_tolerance_keeps_its_best_estimates(tmp_path, tiny, capsys):
    settings = tiny_settings(tiny, min_rounds=2, max_rounds=2, tolerance=1e-12)
    path = tmp_path / "t.csv"
    table = LatencyTable({"backend": "eager"})
    assert measure_into(table, path, PARTS, settings, progress=False) == len(PARTS)
    saved = LatencyTable.load(path)
    assert all(saved.ms(key) > 0 for key in PARTS)  # every entry kept
    assert (saved.frame["rounds"] == 2).all()
    # Two rounds whose estimates come out exactly equal (CI saw it once) have a spread of 0,
    # within any tolerance; every other entry is marked unstable.
    spread_of = dict(zip(saved.keys(), saved.frame["spread_pct"]))
    unstable = set(saved.unstable())
    assert unstable == {key for key in PARTS if spread_of[key] > 0}
    assert len(unstable) >= 3  # ties are rare: most parts take the too-noisy path
    lines = [line for line in capsys.readouterr().err.splitlines() if line.strip()]
    assert len(lines) == 1
    assert lines[0].startswith(f"warning: {len(unstable)} of {len(PARTS)} parts")
    assert "did not settle" in lines[0] and str(path) in lines[0]


# --- tables from before issue 17 ----------------------------------------------------------------
OLD_TABLE = ('# nas-latency-table {"backend": "eager", "threads": 1, "batch": 1, '
             '"device": "DEVICE"}\n'
             'op,resolution,in_ch,out,expand,kernel,stride,se,act,features,classes,median_ms,'
             'p10_ms,p90_ms,runs,measured_at\n'
             'stem,16,3,8,0,3,2,False,relu,0,0,0.25,0.2,0.3,30,2026-11-23T07:09:26+00:00\n')


def test_an_old_table_reads_and_is_extended_only_as_it_was_measured(tmp_path, hardware_cfg):
    from nas.hardware.device import device_name

    path = tmp_path / "old.csv"
    path.write_text(OLD_TABLE.replace("DEVICE", device_name("eager")))
    old = LatencyTable.load(path)
    assert old.ms(PARTS[0]) == 0.25 and old.unstable() == []
    with pytest.raises(TableError, match="estimate='wall:min_round_median'.*"
                                         "protocol=fixed") as error:
        load_hardware(hardware_cfg(path))
    assert "\n" not in str(error.value)
    fixed = hardware_cfg(path, calibration={"auto": False})
    fixed["timing"] = fixed["timing"] | {"protocol": "fixed"}
    assert load_hardware(fixed).table.ms(PARTS[0]) == 0.25


# --- the additivity correction on first prediction ------------------------------------------
def test_first_prediction_fits_the_correction_once(tmp_path, small_spec, hardware_cfg,
                                                   monkeypatch):
    path = tmp_path / "t.csv"
    cfg = hardware_cfg(path, calibration={"archs": 3, "seed": 0, "auto": True})
    hardware = load_hardware(cfg)
    first = hardware.predict_ms(small_spec)
    correction = hardware.metadata["correction"]
    assert correction["corrected"] and correction["networks"] >= 2
    saved = LatencyTable.load(path)
    assert len(saved.metadata["calibration"]) == correction["networks"]
    assert all(key in saved for key in arch_keys(small_spec, 10))

    def refuse(*args, **kwargs):
        raise AssertionError("a second load measured again")

    monkeypatch.setattr(profiles_module, "run_jobs", refuse)
    again = load_hardware(cfg)
    assert again.predict_ms(small_spec) == pytest.approx(first)
    assert again.metadata["correction"]["corrected"]


def test_an_uncorrected_prediction_says_so(tmp_path, small_spec, hardware_cfg, capsys):
    path = tmp_path / "t.csv"
    hardware = load_hardware(hardware_cfg(path, calibration={"auto": False}))
    summed = hardware.predict_ms(small_spec)
    assert summed == hardware.table.summed_ms(small_spec, 10)
    correction = hardware.metadata["correction"]
    assert correction["corrected"] is False and "calibration.auto" in correction[
        "uncorrected_reason"]
    err = capsys.readouterr().err  # (tiny rounds on a busy machine may also warn: unsettled)
    warning = [line for line in err.splitlines() if "no additivity correction" in line]
    assert len(warning) == 1 and warning[0].startswith("warning: latency table")
    # A table that cannot measure (on_demand off) cannot fit one either: it says so too.
    frozen = load_hardware(hardware_cfg(path, on_demand=False))
    assert frozen.predict_ms(small_spec) == summed
    assert "on_demand is false" in frozen.metadata["correction"]["uncorrected_reason"]
    assert "no additivity correction" in capsys.readouterr().err
