"""`mash-gateway demo`: the real daemon, a local mail world, simulated people and time."""

from gateway.demo.run import run_demo
from gateway.demo.world import dsn as _dsn

__all__ = ["_dsn", "run_demo"]
