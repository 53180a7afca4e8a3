"""一网 yiwang — integrated government-services platform (一体化政务服务平台)."""

__version__ = "0.1.0"
