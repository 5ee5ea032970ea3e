"""`mash-gateway demo`: the real daemon, a local mail world, simulated people and time."""

from gateway_dev.demo.run import run_demo
from gateway_dev.demo.world import dsn as _dsn

__all__ = ["_dsn", "run_demo"]
