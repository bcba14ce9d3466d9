"""What the public may see: the one rule, for every public page, the API, the embed and exports.

A station is published while it is open or temporarily closed. Planned stations do not exist for
workers yet and closed ones no longer do: neither is ever shown, listed, counted or exported
publicly (staff pages still see them). The store builds its "published" SQL from
PUBLIC_STATUSES, and the locator its status filter, so the rule is written down only here.
"""

from stations.core.model import Station

PUBLIC_STATUSES = ("open", "temporarily_closed")


def is_published(station: Station) -> bool:
    return station.status in PUBLIC_STATUSES
