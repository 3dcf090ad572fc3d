"""nas: hardware-aware neural architecture search for MobileNet-style networks."""

__version__ = "0.1.0"
