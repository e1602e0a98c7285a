"""Provider API clients: plain Python services, no Odoo imports."""

from . import base, dto, x_client  # x_client registers itself
from . import mastodon_client  # registers itself
from . import bluesky_client  # registers itself
from . import webhook  # registers itself
