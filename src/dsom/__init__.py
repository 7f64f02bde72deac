"""DSOM: the State Online Gambling Monitoring System."""

__version__ = "0.1.0"
