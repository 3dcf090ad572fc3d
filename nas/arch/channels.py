"""Channel rounding shared by every MobileNet reference implementation."""


def make_divisible(value: float, divisor: int = 8) -> int:
    """Round ``value`` to the nearest multiple of ``divisor``, never dropping more than 10%.

    This is the rule of the TensorFlow and torchvision MobileNet code (``_make_divisible``);
    using it is what makes width-multiplied presets match their parameter counts exactly.
    """
    rounded = max(divisor, int(value + divisor / 2) // divisor * divisor)
    if rounded < 0.9 * value:
        rounded += divisor
    return rounded
