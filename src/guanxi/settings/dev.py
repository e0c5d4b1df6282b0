"""Development and the embedded demo: plain HTTP on the loopback address."""

from guanxi.settings.base import *  # noqa: F403
from guanxi.settings.env import env_bool

DEBUG = env_bool("GUANXI_DEBUG", True)
