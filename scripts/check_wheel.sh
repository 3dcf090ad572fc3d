#!/usr/bin/env bash
# The package outside its checkout, as a user installs it: build the wheel, install it with its
# pinned CPU torch into a fresh virtual environment in a temporary folder, and from another
# folder run describe (with a user config folder), a two-trial search on the surrogate and its
# report, and a two-trial search with the default evaluator (the shipped supernet). Nothing here
# reads the checkout once the wheel is built.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PY:-.venv/bin/python}
work=$(mktemp -d /tmp/nas-wheel.XXXXXX)
trap 'rm -rf "$work"' EXIT

"$PY" -m pip wheel --quiet --no-deps -w "$work/dist" .
"$PY" -m venv "$work/venv"
"$work/venv/bin/pip" install --quiet torch==2.13.0 "$work"/dist/nas-*.whl
cd "$work" && mkdir run && cd run
bin="$work/venv/bin"

where=$("$bin/python" -c "import nas, pathlib; print(pathlib.Path(nas.__file__).parent)")
case "$where" in "$work/venv/"*) ;; *) echo "nas imported from $where, not the wheel"; exit 1;; esac
test -f "$where/conf/config.yaml" && test ! -L "$where/conf"  # real files, not the link
test -s "$where/supernet/data/mobilenet_v3_small-fashion_mnist.pt"  # the default evaluator's

# A user's own hardware profile, beside the package's, through Hydra's search path.
mkdir -p myconf/hardware
printf 'defaults:\n  - pixel1\n  - _self_\nname: my_pixel\n' > myconf/hardware/my_pixel.yaml
"$bin/nas-describe" arch=mobilenet_v3_small hardware=my_pixel \
    "hydra.searchpath=[file://$PWD/myconf]" | tee describe.txt
grep -q "predicted on my_pixel" describe.txt

if "$bin/nas-describe" arch=mobilenet_v3_small "hydra.searchpath=[file://$PWD/nope]" \
    2> missing.txt; then echo "a missing config folder was accepted"; exit 1; fi
test "$(wc -l < missing.txt)" -eq 1 && grep -q "no config folder" missing.txt

"$bin/nas-search" hardware=pixel evaluator=surrogate search.n_trials=2 run_dir=run
"$bin/python" -m nas.report run_dir=run
for file in trials.csv pareto_latency.png hypervolume.png summary.md best.json; do
    test -s "run/$file" || { echo "the report lacks $file"; exit 1; }
done
# The default evaluator, the shipped supernet, on real images (a small validation subset).
"$bin/nas-search" hardware=pixel search.n_trials=2 evaluator.val_size=500 evaluator.bn_images=200 \
    run_dir=run-default
test -s run-default/trials.csv || { echo "the default search wrote no trials.csv"; exit 1; }

echo "wheel check: installed in $work/venv, ran describe, search and report from $PWD"
