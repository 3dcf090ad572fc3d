"""Real measurements in child processes, kept tiny."""

import pytest

from nas.errors import NasError
from nas.hardware import (
    LatencyTable,
    MeasuredHardware,
    OpKey,
    arch_keys,
    load_hardware,
    measure_into,
    measure_networks,
)
from nas.hardware import profiles as profiles_module
from nas.hardware.child import child_env, run_jobs
from nas.hardware.timing import TimingSettings


def test_child_environment_is_controlled():
    env = child_env(3)
    assert env["MALLOC_MMAP_THRESHOLD_"] == "67108864"
    assert env["MALLOC_TRIM_THRESHOLD_"] == "134217728"
    assert env["OMP_NUM_THREADS"] == env["MKL_NUM_THREADS"] == "3"


@pytest.mark.parametrize("backend", ["eager", "onnxruntime"])
def test_parts_and_networks_are_measured(tmp_path, small_spec, backend, tiny):
    settings = TimingSettings(backend=backend, **tiny)
    table = LatencyTable({"backend": backend})
    keys = list(arch_keys(small_spec, 10))
    assert measure_into(table, tmp_path / "t.csv", keys, settings, progress=False) == len(keys)
    assert all(table.ms(key) > 0 for key in keys)
    [whole] = measure_networks([small_spec], settings, classes=10, progress=False)
    assert whole.median_ms > 0 and whole.p10_ms <= whole.median_ms <= whole.p90_ms
    assert LatencyTable.load(tmp_path / "t.csv").summed_ms(small_spec, 10) > 0


def test_resume_extends_instead_of_redoing(tmp_path, small_spec, settings):
    keys = list(arch_keys(small_spec, 10))
    path = tmp_path / "t.csv"
    table = LatencyTable({"backend": "eager"})
    measure_into(table, path, keys[:2], settings, progress=False)
    before = LatencyTable.load(path).frame
    resumed = LatencyTable.load(path)
    assert measure_into(resumed, path, keys, settings, progress=False) == len(keys) - 2
    after = LatencyTable.load(path).frame
    assert len(after) == len(keys)
    assert after.head(2).equals(before)  # the first two were kept, not measured again


def test_failed_job_is_reported_and_others_kept(tmp_path, settings):
    good = OpKey(op="stem", resolution=16, in_ch=3, out=8, kernel=3, stride=2, act="relu")
    results = []
    jobs = [{"id": 0, "key": good.to_row()}, {"id": 1, "arch": "not-an-arch", "classes": 10}]
    run_jobs(jobs, settings, results.append)
    by_id = {result["id"]: result for result in results}  # in the order they settled
    assert "ms" in by_id[0] and "error" in by_id[1]


def test_on_demand_measurement_then_no_remeasure(tmp_path, small_spec, monkeypatch, hardware_cfg):
    path = tmp_path / "t.csv"
    no_calibration = {"calibration": {"auto": False}}  # test_protocol.py covers calibration
    hardware = load_hardware(hardware_cfg(path, **no_calibration))
    assert isinstance(hardware, MeasuredHardware) and hardware.name == "cpu"
    first = hardware.predict_ms(small_spec)
    assert first > 0 and path.exists()
    assert len(LatencyTable.load(path)) == len(arch_keys(small_spec, 10))

    def refuse(*args, **kwargs):
        raise AssertionError("a known part was measured again")

    monkeypatch.setattr(profiles_module, "run_jobs", refuse)
    again = load_hardware(hardware_cfg(path, **no_calibration))
    assert again.predict_ms(small_spec) == first
    assert again.metadata["kind"] == "measured" and again.metadata["backend"] == "eager"


def test_profile_for_another_backend_refuses_the_table(tmp_path, small_spec, hardware_cfg):
    path = tmp_path / "t.csv"
    load_hardware(hardware_cfg(path)).predict_ms(small_spec)
    with pytest.raises(NasError, match="backend"):
        load_hardware(hardware_cfg(path, backend="onnxruntime"))


def test_bad_profiles(tmp_path, hardware_cfg):
    with pytest.raises(NasError, match="kind"):
        load_hardware({"name": "x", "kind": "guessed"})
    with pytest.raises(NasError, match="lacks kind"):
        load_hardware({"name": "x"})
    with pytest.raises(NasError, match="backend"):
        load_hardware(hardware_cfg(tmp_path / "t.csv", backend="tpu"))
