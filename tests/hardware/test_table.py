import pytest

from nas.arch import PRESETS
from nas.hardware import LatencyTable, MissingOps, TableError, Timing, arch_keys
from nas.hardware.table import fit_correction

META = {"backend": "eager", "threads": 1, "batch": 1, "device": "test cpu"}


def filled_table(spec, ms=1.0):
    table = LatencyTable(dict(META))
    for i, key in enumerate(arch_keys(spec)):
        table.add(key, Timing(ms + i, ms + i - 0.1, ms + i + 0.1, 10))
    return table


def test_save_load_round_trip(tmp_path):
    spec = PRESETS["mobilenet_v3_small"]()
    table = filled_table(spec)
    table.add_calibration(str(spec), 1000, 99.0)
    path = tmp_path / "t.csv"
    table.save(path)
    loaded = LatencyTable.load(path, expect=META)
    assert len(loaded) == len(table)
    assert loaded.summed_ms(spec) == pytest.approx(table.summed_ms(spec))
    assert loaded.metadata["calibration"] == table.metadata["calibration"]
    # no temporary file left (t.csv.lock is the lock that concurrent savers share)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["t.csv", "t.csv.lock"]


def test_missing_parts_are_named(tmp_path):
    table = filled_table(PRESETS["mobilenet_v3_small"]())
    with pytest.raises(MissingOps) as error:
        table.summed_ms(PRESETS["mobilenet_v3_large"]())
    assert error.value.keys and all(key not in table for key in error.value.keys)


@pytest.mark.parametrize("content, message", [
    ("op,resolution\nstem,224\n", "not a nas latency table"),
    ('# nas-latency-table {"backend": \n', "corrupt"),
    ('# nas-latency-table {}\nop,resolution,in_ch\nstem,224,3\n', "corrupt"),
    ('# nas-latency-table {}\nop,resolution,in_ch,out,expand,kernel,stride,se,act,features,'
     'classes,median_ms,p10_ms,p90_ms,runs,measured_at\n'
     'stem,224,3,16,0,3,2,False,hswish,0,0,-1,1,1,3,x\n', "not positive"),
])
def test_corrupt_table_is_one_clear_error(tmp_path, content, message):
    path = tmp_path / "bad.csv"
    path.write_text(content)
    with pytest.raises(TableError, match=message) as error:
        LatencyTable.load(path)
    assert "\n" not in str(error.value)


def test_foreign_table_is_refused(tmp_path):
    path = tmp_path / "t.csv"
    filled_table(PRESETS["mobilenet_v3_small"]()).save(path)
    with pytest.raises(TableError, match="backend='eager'.*needs backend='onnxruntime'"):
        LatencyTable.load(path, expect=META | {"backend": "onnxruntime"})
    with pytest.raises(TableError, match="threads"):
        LatencyTable.load(path, expect=META | {"threads": 2})


def test_correction_is_fitted_on_calibration_networks():
    specs = [PRESETS[name]() for name in ("mobilenet_v3_small", "mobilenet_v3_large",
                                          "mobilenet_v2", "mobilenet_v1")]
    table = LatencyTable(dict(META))
    for spec in specs:
        for key in arch_keys(spec):
            if key not in table:
                table.add(key, Timing(1.0 + key.in_ch / 100, 1, 1, 3))
    assert table.correction().networks == 0
    assert table.predict(specs[0]) == table.summed_ms(specs[0])
    for spec in specs:  # whole = 1.2 * sum + 0.5 exactly
        table.add_calibration(str(spec), 1000, 1.2 * table.summed_ms(spec) + 0.5)
    correction = table.correction()
    assert correction.networks == 4 and correction.kind == "linear"
    assert correction.slope == pytest.approx(1.2) and correction.intercept == pytest.approx(0.5)
    assert correction.loo_mape == pytest.approx(0, abs=1e-9)
    assert table.predict(specs[3]) == pytest.approx(1.2 * table.summed_ms(specs[3]) + 0.5)


def test_correction_form_is_chosen_by_leave_one_out_error():
    assert fit_correction([]).kind == "none"
    ratio = fit_correction([(10.0, 11.0), (20.0, 22.0), (15.0, 16.5)])
    assert ratio.kind == "ratio" and ratio.slope == pytest.approx(1.1)
    noise = fit_correction([(10.0, 10.2), (20.0, 19.8), (15.0, 15.1), (12.0, 11.9)])
    assert noise.kind == "none" and noise.slope == 1.0
