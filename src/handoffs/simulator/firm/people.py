"""Resources (consultants) with role, skills, cost rate, capacity, org unit and legal entity."""

from __future__ import annotations

import random
from decimal import Decimal
from typing import Final

from handoffs.domain.money import Money
from handoffs.domain.parties import Resource
from handoffs.simulator.firm.model import Firm
from handoffs.simulator.firm.names import FIRST_NAMES, LAST_NAMES, ORG_UNITS, SKILLS

__all__ = ["BILL_USD", "CURRENCY_FACTOR", "ROLES", "build_people", "local_amount"]

ROLES: Final = ("analyst", "consultant", "senior_consultant", "manager", "director")
_ROLE_WEIGHTS: Final = (25, 30, 22, 15, 8)
COST_USD: Final = {"analyst": 55, "consultant": 70, "senior_consultant": 90, "manager": 115, "director": 150}
BILL_USD: Final = {
    "analyst": 130,
    "consultant": 170,
    "senior_consultant": 215,
    "manager": 265,
    "director": 340,
}
# Price levels: a day of work costs about this many local units per USD.
CURRENCY_FACTOR: Final = {"USD": Decimal(1), "GBP": Decimal("0.80"), "EUR": Decimal("0.92")}
_LE_WEIGHTS: Final = {"le-us": 50, "le-uk": 30, "le-de": 20}
_CAPACITY: Final = {"le-us": Decimal(40), "le-uk": Decimal("37.5"), "le-de": Decimal(40)}


def local_amount(usd: int | Decimal, currency: str, rng: random.Random, spread: int = 10) -> Decimal:
    """A USD price level in ``currency`` with +/- ``spread`` percent noise, to the cent."""
    noise = Decimal(100 + rng.randint(-spread, spread)) / Decimal(100)
    return (Decimal(usd) * CURRENCY_FACTOR[currency] * noise).quantize(Decimal("0.01"))


def build_people(firm: Firm, rng: random.Random) -> None:
    """Generate the consultants and pick an approving manager for each."""
    entities = firm.legal_entities
    weights = [_LE_WEIGHTS[le.id] for le in entities]
    for i in range(firm.size.consultants):
        le = rng.choices(entities, weights)[0]
        role = "director" if i == 0 else "manager" if i == 1 else rng.choices(ROLES, _ROLE_WEIGHTS)[0]
        unit = rng.choice(ORG_UNITS)
        capacity = _CAPACITY[le.id] if rng.random() > 0.1 else Decimal(32)
        firm.resources.append(
            Resource(
                id=f"res-{i + 1:04d}",
                name=f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)}",
                legal_entity_id=le.id,
                role=role,
                cost_rate=Money(local_amount(COST_USD[role], le.currency, rng), le.currency),
                weekly_capacity_hours=capacity,
                org_unit=unit,
                cost_centre_id=f"cc-{le.id[3:]}-{unit.lower()}",
                skills=tuple(sorted(rng.sample(SKILLS, rng.randint(2, 4)))),
            )
        )
    leads = [r for r in firm.resources if r.role in ("manager", "director")]
    for person in firm.resources:
        same = [m for m in leads if m.id != person.id and m.legal_entity_id == person.legal_entity_id]
        pool = same or [m for m in leads if m.id != person.id]
        firm.managers[person.id] = rng.choice(pool).id
