"""nas.torch_files: atomic writes, and one-line refusals of missing, damaged or foreign files."""

import pytest
import torch
from torch import nn

from nas.errors import NasError
from nas.torch_files import cpu_state, read_marked, save_atomically


class WidgetFileError(NasError):
    pass


def read_widget(path):
    return read_marked(path, "widget/1", "widget", WidgetFileError, "make one with make-widget")


def test_round_trip_keeps_tensors_and_leaves_no_temporary(tmp_path):
    layer = nn.Linear(3, 2)
    path = save_atomically(tmp_path / "sub" / "w.pt",
                           {"format": "widget/1", "state_dict": cpu_state(layer)})
    payload = read_widget(path)
    assert torch.equal(payload["state_dict"]["weight"], layer.weight.detach())
    assert [p.name for p in path.parent.iterdir()] == ["w.pt"]


def test_missing_file_names_how_to_make_one(tmp_path):
    with pytest.raises(WidgetFileError, match="widget file not found.*make-widget"):
        read_widget(tmp_path / "absent.pt")


def test_damaged_and_unmarked_files_are_refused(tmp_path):
    damaged = tmp_path / "damaged.pt"
    damaged.write_bytes(b"not a torch file")
    with pytest.raises(WidgetFileError, match="not a readable widget file"):
        read_widget(damaged)
    foreign = save_atomically(tmp_path / "foreign.pt", {"format": "gadget/1"})
    with pytest.raises(WidgetFileError, match="not a widget file .*'widget/1'"):
        read_widget(foreign)
