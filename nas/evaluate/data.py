"""Datasets kept in memory as uint8 tensors: Fashion-MNIST, CIFAR-10/100, an image folder.

Nothing is downloaded. Each loader reads a standard on-disk format:

* Fashion-MNIST (Xiao et al. 2017): the IDX ``.gz`` files of Debian's ``dataset-fashion-mnist``
  under /usr/share/datasets/fashion-mnist (or any folder given as ``root``).
* CIFAR-10 / CIFAR-100 (Krizhevsky 2009): the "python version" pickle folders
  (``cifar-10-batches-py``, ``cifar-100-python``), the folder itself or its parent as ``root``.
* An image folder: one sub-folder per class, either under ``root/train`` and ``root/test`` (or
  ``root/val``) or directly under ``root`` (then a seeded, stratified test split is carved).
  Images are decoded with PIL and resized to ``image_size``; ``.npy`` arrays are read as well.

A fixed validation split is carved from the training set (seeded, stratified) for the search;
the test split is only for the final report of chosen networks.
"""

from __future__ import annotations

import gzip
import pickle
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
import torch

from nas.errors import NasError

FASHION_MNIST_ROOT = Path("/usr/share/datasets/fashion-mnist")
IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".bmp", ".gif", ".webp", ".tif", ".tiff"}


class DatasetNotFound(NasError):
    """A dataset that is not on disk where we looked."""


@dataclass(frozen=True)
class Split:
    """Images (uint8, N x C x H x W) and labels (int64, N), with how to normalise them."""

    images: torch.Tensor
    labels: torch.Tensor
    mean: tuple[float, ...]
    std: tuple[float, ...]

    def __post_init__(self) -> None:
        if self.images.dtype != torch.uint8 or self.images.dim() != 4:
            raise NasError(f"images must be uint8 N x C x H x W, got {tuple(self.images.shape)} "
                           f"{self.images.dtype}")
        if len(self.labels) != len(self.images):
            raise NasError(f"{len(self.images)} images but {len(self.labels)} labels")

    def __len__(self) -> int:
        return len(self.labels)

    @property
    def channels(self) -> int:
        return self.images.shape[1]

    @property
    def size(self) -> int:
        return self.images.shape[-1]

    def subset(self, indices: torch.Tensor) -> Split:
        return replace(self, images=self.images[indices], labels=self.labels[indices])

    def to(self, device: torch.device | str) -> Split:
        return replace(self, images=self.images.to(device), labels=self.labels.to(device))

    def normalise(self, images: torch.Tensor) -> torch.Tensor:
        """uint8 images to float, normalised per channel (done per batch, on the fly)."""
        shape = (1, -1, 1, 1)
        mean = torch.tensor(self.mean, device=images.device).view(shape)
        std = torch.tensor(self.std, device=images.device).view(shape)
        return (images.float() / 255.0 - mean) / std


@dataclass(frozen=True)
class Dataset:
    """A dataset's train / validation / test splits and what training needs to know of it."""

    name: str
    train: Split
    val: Split
    test: Split
    num_classes: int
    classes: tuple[str, ...] = ()
    pad: int = 2  # random-crop padding for augmentation
    flip: bool = True  # horizontal flips for augmentation
    source: str = field(default="", compare=False)

    @property
    def channels(self) -> int:
        return self.train.channels

    @property
    def size(self) -> int:
        return self.train.size

    def to(self, device: torch.device | str) -> Dataset:
        return replace(self, train=self.train.to(device), val=self.val.to(device),
                       test=self.test.to(device))


# --- readers: each returns (train images, train labels, test images, test labels, classes) ---

def _missing(name: str, where: Path, hint: str) -> DatasetNotFound:
    return DatasetNotFound(f"{name} not found: looked in {where}; {hint}")


def _read_idx(path: Path) -> np.ndarray:
    """An IDX file (the MNIST format): magic, dimension sizes (big endian), then uint8 data."""
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rb") as handle:
        raw = handle.read()
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0 or raw[2] != 0x08:
        raise NasError(f"{path} is not an unsigned-byte IDX file")
    ndim = raw[3]
    dims = tuple(int.from_bytes(raw[4 + 4 * i: 8 + 4 * i], "big") for i in range(ndim))
    data = np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * ndim)
    if data.size != int(np.prod(dims)):
        raise NasError(f"{path} is truncated: {data.size} bytes for shape {dims}")
    return data.reshape(dims)


def _find_idx(root: Path, stem: str) -> Path | None:
    for name in (f"{stem}.gz", stem):
        if (root / name).is_file():
            return root / name
    return None


FASHION_CLASSES = ("t-shirt", "trouser", "pullover", "dress", "coat", "sandal", "shirt",
                   "sneaker", "bag", "ankle-boot")


def read_fashion_mnist(root: Path | None, **_) -> tuple:
    root = Path(root) if root else FASHION_MNIST_ROOT
    stems = ("train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte",
             "t10k-labels-idx1-ubyte")
    paths = [_find_idx(root, stem) for stem in stems]
    if None in paths:
        raise _missing("Fashion-MNIST", root, "install it with `apt-get install "
                       "dataset-fashion-mnist` or pass data.root=DIR with the four IDX files")
    train_x, train_y, test_x, test_y = (_read_idx(path) for path in paths)
    return train_x[:, None], train_y, test_x[:, None], test_y, FASHION_CLASSES


# What CIFAR's python batches hold beside dicts, lists, bytes, str and numbers (which need no
# class): numpy arrays, as numpy 1 (numpy.core) or 2 (numpy._core) pickles them (protocol 5
# through _frombuffer), and the bytes codec protocol 2 uses. Any other class or function is
# refused: plain pickle.load would call whatever a crafted file names (os.system, say).
PICKLE_ALLOWED = {
    (module, name)
    for module in ("numpy.core.multiarray", "numpy._core.multiarray")
    for name in ("_reconstruct", "scalar")
} | {(module, "_frombuffer") for module in ("numpy.core.numeric", "numpy._core.numeric")} | {
    ("numpy", "ndarray"), ("numpy", "dtype"), ("_codecs", "encode")}


class _DataUnpickler(pickle.Unpickler):
    def find_class(self, module: str, name: str):
        if (module, name) not in PICKLE_ALLOWED:
            raise NasError(f"{self.path}: refusing to unpickle {module}.{name}: a CIFAR batch "
                           "holds only dicts, lists, bytes, str, numbers and numpy arrays")
        return super().find_class(module, name)


def _unpickle(path: Path) -> dict:
    with open(path, "rb") as handle:
        unpickler = _DataUnpickler(handle, encoding="bytes")
        unpickler.path = path
        try:
            return unpickler.load()
        except (pickle.UnpicklingError, EOFError) as error:
            raise NasError(f"{path}: not a CIFAR python batch ({error})") from None


def _cifar_folder(root: Path | None, folder: str, name: str) -> Path:
    hint = (f"unpack the python version of {name} ({folder}.tar.gz from its authors' page) "
            f"and pass data.root=DIR")
    if root is None:
        raise _missing(name, Path("(no data.root given)"), hint)
    root = Path(root)
    for candidate in (root, root / folder):
        if (candidate / ("test_batch" if name == "CIFAR-10" else "test")).is_file():
            return candidate
    raise _missing(name, root, hint)


def _cifar_images(batch: dict) -> np.ndarray:
    return np.asarray(batch[b"data"], dtype=np.uint8).reshape(-1, 3, 32, 32)


def read_cifar10(root: Path | None, **_) -> tuple:
    folder = _cifar_folder(root, "cifar-10-batches-py", "CIFAR-10")
    batches = [_unpickle(path) for path in sorted(folder.glob("data_batch_*"))]
    if not batches:
        raise _missing("CIFAR-10", folder, "the data_batch_1..5 files are missing")
    test = _unpickle(folder / "test_batch")
    meta_path = folder / "batches.meta"
    classes = tuple(n.decode() for n in _unpickle(meta_path)[b"label_names"]) \
        if meta_path.is_file() else tuple(str(i) for i in range(10))
    train_x = np.concatenate([_cifar_images(b) for b in batches])
    train_y = np.concatenate([np.asarray(b[b"labels"]) for b in batches])
    return train_x, train_y, _cifar_images(test), np.asarray(test[b"labels"]), classes


def read_cifar100(root: Path | None, **_) -> tuple:
    folder = _cifar_folder(root, "cifar-100-python", "CIFAR-100")
    train, test = _unpickle(folder / "train"), _unpickle(folder / "test")
    meta_path = folder / "meta"
    classes = tuple(n.decode() for n in _unpickle(meta_path)[b"fine_label_names"]) \
        if meta_path.is_file() else tuple(str(i) for i in range(100))
    return (_cifar_images(train), np.asarray(train[b"fine_labels"]), _cifar_images(test),
            np.asarray(test[b"fine_labels"]), classes)


def _read_image(path: Path, image_size: int, channels: int) -> np.ndarray:
    """One image as uint8 C x H x W at image_size x image_size."""
    if path.suffix == ".npy":
        array = np.load(path)
        if array.ndim == 2:
            array = array[:, :, None]
        tensor = torch.from_numpy(np.ascontiguousarray(array)).permute(2, 0, 1).float()
        if tensor.shape[0] != channels:
            tensor = tensor.mean(0, keepdim=True).expand(channels, -1, -1)
        tensor = torch.nn.functional.interpolate(tensor[None], size=(image_size, image_size),
                                                 mode="bilinear", antialias=True)[0]
        return tensor.round().clamp(0, 255).to(torch.uint8).numpy()
    try:
        from PIL import Image
    except ImportError:  # pragma: no cover - PIL ships with matplotlib
        raise NasError(f"decoding {path.suffix} images needs Pillow (pip install pillow); "
                       f".npy arrays work without it") from None
    with Image.open(path) as image:
        image = image.convert("L" if channels == 1 else "RGB")
        image = image.resize((image_size, image_size), Image.BILINEAR)
        array = np.asarray(image, dtype=np.uint8)
    return array[None] if array.ndim == 2 else array.transpose(2, 0, 1)


def _read_class_folders(root: Path, image_size: int, channels: int,
                        classes: tuple[str, ...] | None = None) -> tuple:
    classes = classes or tuple(sorted(p.name for p in root.iterdir() if p.is_dir()))
    images, labels = [], []
    for label, name in enumerate(classes):
        files = sorted(p for p in (root / name).glob("*")
                       if p.suffix.lower() in IMAGE_SUFFIXES or p.suffix == ".npy")
        images += [_read_image(path, image_size, channels) for path in files]
        labels += [label] * len(files)
    if not images:
        raise DatasetNotFound(f"no images found under {root}/<class>/ "
                              f"(suffixes: {', '.join(sorted(IMAGE_SUFFIXES))}, .npy)")
    return np.stack(images), np.asarray(labels), classes


def read_imagefolder(root: Path | None, image_size: int = 32, channels: int = 3,
                     test_fraction: float = 0.2, split_seed: int = 0, **_) -> tuple:
    hint = "give data.root=DIR holding one folder per class (or train/ and test/ of them)"
    if root is None or not Path(root).is_dir():
        raise _missing("image folder", Path(root or "(no data.root given)"), hint)
    root = Path(root)
    test_dir = next((root / n for n in ("test", "val") if (root / n).is_dir()), None)
    if (root / "train").is_dir() and test_dir is not None:
        train_x, train_y, classes = _read_class_folders(root / "train", image_size, channels)
        test_x, test_y, _ = _read_class_folders(test_dir, image_size, channels, classes)
        return train_x, train_y, test_x, test_y, classes
    images, labels, classes = _read_class_folders(root, image_size, channels)
    test_index = stratified_indices(torch.from_numpy(labels), test_fraction, split_seed)
    is_test = np.zeros(len(labels), dtype=bool)
    is_test[test_index.numpy()] = True
    return images[~is_test], labels[~is_test], images[is_test], labels[is_test], classes


# name -> (reader, augmentation padding, horizontal flip)
READERS: dict[str, tuple[Callable[..., tuple], int, bool]] = {
    "fashion_mnist": (read_fashion_mnist, 2, True),
    "cifar10": (read_cifar10, 4, True),
    "cifar100": (read_cifar100, 4, True),
    "imagefolder": (read_imagefolder, 4, True),
}


def stratified_indices(labels: torch.Tensor, fraction: float, seed: int) -> torch.Tensor:
    """A seeded sample of ``fraction`` of each class's indices (at least one per class)."""
    if not 0 < fraction < 1:
        raise NasError(f"fraction must be in (0, 1), got {fraction}")
    generator = torch.Generator().manual_seed(seed)
    chosen = []
    for label in torch.unique(labels):
        members = torch.nonzero(labels == label).flatten()
        take = max(1, round(fraction * len(members)))
        chosen.append(members[torch.randperm(len(members), generator=generator)[:take]])
    return torch.sort(torch.cat(chosen)).values


def channel_stats(images: torch.Tensor) -> tuple[tuple[float, ...], tuple[float, ...]]:
    """Per-channel mean and standard deviation of uint8 images, in [0, 1] units.

    Exact, from each channel's 256-bin histogram: no float copy of the whole dataset."""
    values = torch.arange(256, dtype=torch.float64) / 255.0
    means, stds = [], []
    for channel in range(images.shape[1]):
        counts = torch.bincount(images[:, channel].reshape(-1), minlength=256).double()
        mean = (counts * values).sum() / counts.sum()
        variance = (counts * (values - mean) ** 2).sum() / counts.sum()
        means.append(mean.item())
        stds.append(max(variance.sqrt().item(), 1e-3))
    return tuple(means), tuple(stds)


_CACHE: dict[tuple, Dataset] = {}


def load_dataset(name: str = "fashion_mnist", root: str | Path | None = None, *,
                 val_size: int | float = 10000, split_seed: int = 0, **options) -> Dataset:
    """Load ``name`` from disk into memory and carve a fixed, stratified validation split.

    ``val_size`` is a count of images or a fraction of the training set. ``options`` go to the
    reader (``image_size``, ``channels``, ``test_fraction`` for an image folder). Loaded
    datasets are kept for the process (they are immutable), so evaluators share one copy.
    """
    key = (name, str(root), val_size, split_seed, tuple(sorted(options.items())))
    if key not in _CACHE:
        _CACHE.clear()  # one dataset at a time is what a run needs; do not hoard memory
        _CACHE[key] = _load(name, root, val_size, split_seed, options)
    return _CACHE[key]


def _load(name: str, root: str | Path | None, val_size: int | float, split_seed: int,
          options: dict) -> Dataset:
    if name not in READERS:
        raise NasError(f"unknown dataset {name!r}; expected one of {tuple(READERS)}")
    reader, pad, flip = READERS[name]
    train_x, train_y, test_x, test_y, classes = reader(Path(root) if root else None, **options)
    train_images, train_labels = torch.from_numpy(np.array(train_x)), \
        torch.from_numpy(np.asarray(train_y, dtype=np.int64))
    fraction = val_size / len(train_labels) if val_size >= 1 else val_size
    val_index = stratified_indices(train_labels, fraction, split_seed)
    keep = torch.ones(len(train_labels), dtype=torch.bool)
    keep[val_index] = False
    if not keep.any():
        raise NasError(f"val_size={val_size} leaves no training images out of {len(keep)}")
    mean, std = channel_stats(train_images[keep])

    def split(images, labels) -> Split:
        return Split(images=images.contiguous(), labels=labels, mean=mean, std=std)

    return Dataset(
        name=name,
        train=split(train_images[keep], train_labels[keep]),
        val=split(train_images[val_index], train_labels[val_index]),
        test=split(torch.from_numpy(np.array(test_x)),
                   torch.from_numpy(np.asarray(test_y, dtype=np.int64))),
        num_classes=len(classes),
        classes=tuple(classes),
        pad=pad,
        flip=flip,
        source=str(root or ""),
    )


def load_data_config(config: dict) -> Dataset:
    """``load_dataset`` from a composed ``conf/data/<name>.yaml`` (a plain dict)."""
    options = {k: v for k, v in config.items() if v is not None}
    name = options.pop("name", "fashion_mnist")
    return load_dataset(name, **options)
