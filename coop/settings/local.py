"""A developer's machine: `make run`."""

from coop.settings.base import *  # noqa: F403
from coop.settings.env import envbool, envsecret

DEBUG = envbool("DEBUG", True)
# Only for a developer's checkout: production refuses to start without SECRET_KEY.
SECRET_KEY = envsecret("SECRET_KEY", "local-only-insecure-key-do-not-use-in-production")
COOP_DEMO_PASSWORDS = True
