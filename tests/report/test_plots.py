"""Plot labels land clear of points; the hypervolume title says its reference point in words."""

import matplotlib.pyplot as plt

from nas.report.plots import LABEL_OFFSETS, clear_offset
from nas.report.write import hypervolume_title


def test_a_label_moves_off_a_point_that_sits_where_it_would_go():
    fig, ax = plt.subplots(figsize=(6, 4), dpi=100)
    ax.set_xlim(0, 10)
    ax.set_ylim(0, 10)
    fig.tight_layout()
    alone = clear_offset(ax, (5, 5), "mobilenet_v3_small", 9,
                         ax.transData.transform([(5, 5)]), [])
    assert alone == LABEL_OFFSETS[0]  # nothing in the way: to the right
    # a candidate just right of the reference, where the first choice would put the label
    crowded = ax.transData.transform([(5, 5), (5.8, 5.1)])
    moved = clear_offset(ax, (5, 5), "mobilenet_v3_small", 9, crowded, [])
    assert moved != LABEL_OFFSETS[0]
    # two labels of one point never share a place
    placed = []
    first = clear_offset(ax, (5, 5), "#1", 7, crowded[:1], placed)
    second = clear_offset(ax, (5, 5), "#2", 7, crowded[:1], placed)
    assert first != second
    plt.close(fig)


def test_hypervolume_title_in_words():
    title = hypervolume_title({"accuracy": 0.0, "macs": 160.8e6, "latency_ms": 38.3})
    assert title == ("Hypervolume; reference point accuracy 0%, 160.8M MACs, 38.3 ms "
                     "(the space's largest)")
    assert "{" not in title
