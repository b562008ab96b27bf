"""The fixed, made-up credentials the simulated systems accept (not secrets of anything real)."""

from __future__ import annotations

from typing import Final

from handoffs.simulator.systems.expenses import EXPENSES_API_KEY
from handoffs.simulator.systems.harvest import HARVEST_ACCOUNT_ID, HARVEST_TOKEN
from handoffs.simulator.systems.netsuite_auth import NETSUITE_CERTIFICATE_ID, NETSUITE_CLIENT_ID, sim_key_pair
from handoffs.simulator.systems.odoo import ODOO_DB, ODOO_LOGIN, ODOO_PASSWORD
from handoffs.simulator.systems.salesforce import SF_CLIENT_ID, SF_CLIENT_SECRET
from handoffs.simulator.systems.workday import WORKDAY_PASSWORD, WORKDAY_REPORT, WORKDAY_TENANT, WORKDAY_USER

__all__ = ["ALL", "credentials_for"]

ALL: Final[dict[str, dict[str, str]]] = {
    "salesforce": {"client_id": SF_CLIENT_ID, "client_secret": SF_CLIENT_SECRET},
    "harvest": {"token": HARVEST_TOKEN, "account_id": HARVEST_ACCOUNT_ID},
    "workday": {
        "tenant": WORKDAY_TENANT,
        "user": WORKDAY_USER,
        "password": WORKDAY_PASSWORD,
        "report": WORKDAY_REPORT,
    },
    "expenses": {"api_key": EXPENSES_API_KEY},
    "netsuite": {"client_id": NETSUITE_CLIENT_ID, "certificate_id": NETSUITE_CERTIFICATE_ID},
    "odoo": {"db": ODOO_DB, "login": ODOO_LOGIN, "password": ODOO_PASSWORD},
}


def credentials_for(name: str) -> dict[str, str]:
    """A system's credentials; NetSuite's certificate key is made on first use, not at import."""
    found = dict(ALL[name])
    if name == "netsuite":
        found["private_key"] = sim_key_pair()[0]
    return found
