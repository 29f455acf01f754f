"""The one registry: every installed provider's descriptor, and what the core needs of the
features that are no provider's. The core (``bot/``) reaches outside itself only through this
module (``bot.plugins.installed``); a fifth provider is one more line in ``PROVIDERS``.
"""

from __future__ import annotations

from handlers import periodic_jobs, register_all
from handlers.attendee.plugin import PROVIDER as ATTENDEE
from handlers.claritalk.plugin import PROVIDER as CLARITALK
from handlers.ops import notify_dead_job
from handlers.otter.plugin import PROVIDER as OTTER
from handlers.webhooks import read_body
from handlers.whereby.plugin import PROVIDER as WHEREBY
from handlers.wiring import Wiring

#: The providers, in the order their subcommands appear in `/debrief help` and their lines in
#: `debrief doctor`.
PROVIDERS = (ATTENDEE, OTTER, WHEREBY, CLARITALK)

__all__ = ["PROVIDERS", "Wiring", "notify_dead_job", "periodic_jobs", "read_body", "register_all"]
