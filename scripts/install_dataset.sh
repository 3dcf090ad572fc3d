#!/usr/bin/env bash
# Install Fashion-MNIST from Debian's dataset-fashion-mnist package, if it is not there yet.
# Run by `make search` and `make test`; safe to run again.
set -euo pipefail
target=/usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz
[ -f "$target" ] && exit 0
if ! command -v apt-get >/dev/null; then
    echo "Fashion-MNIST not found at $(dirname "$target") and apt-get is missing:" >&2
    echo "install Debian's dataset-fashion-mnist, or pass data.root=DIR with the IDX files." >&2
    exit 0
fi
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
echo "installing Debian's dataset-fashion-mnist (Fashion-MNIST, ~30 MB)"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get install -y -q dataset-fashion-mnist >/dev/null 2>&1 ||
    { $sudo apt-get update -q >/dev/null && $sudo apt-get install -y -q dataset-fashion-mnist >/dev/null; }
[ -f "$target" ] && echo "Fashion-MNIST installed under $(dirname "$target")"
