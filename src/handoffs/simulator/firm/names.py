"""Word lists for generated names: people, companies, skills, tasks. Pure data."""

from __future__ import annotations

from typing import Final

FIRST_NAMES: Final = (
    "Ada Alan Amara Anders Anya Arjun Aziz Bea Bruno Carla Chen Chloe Dario Dev Elena Emeka Erik Fatima "
    "Felix Freya Gita Hana Hugo Ines Ivan Jamal Jana Jonas Julia Kai Kenji Lara Leon Lina Luca Maya Malik "
    "Marta Mateo Mia Nadia Nils Noah Olga Omar Paula Priya Rafael Rosa Sami Sara Sofia Tariq Tessa Theo "
    "Uma Vera Viktor Wen Yara Yusuf Zoe"
).split()

LAST_NAMES: Final = (
    "Abbott Achterberg Adeyemi Alvarez Andersen Bauer Becker Bianchi Brennan Carter Castillo Chandra "
    "Dubois Eriksen Fischer Fontaine Garcia Hartmann Hoffmann Ito Jansen Kaur Keller Kowalski Lambert "
    "Lindqvist Marsh Meyer Moreau Nakamura Novak Okafor Olsen Patel Petrov Quinn Rossi Sato Schmidt "
    "Schneider Silva Singh Sullivan Tanaka Vogel Wagner Walsh Weber Wright Young Zimmermann"
).split()

COMPANY_STEMS: Final = (
    "Acme Aurora Beacon Blue Harbor Cedar Cobalt Crescent Delta Ember Evergreen Falcon Granite Helix "
    "Horizon Ironwood Juniper Keystone Lumen Meridian Northwind Oakridge Orion Pinnacle Quarry Redwood "
    "Riverside Sable Summit Tidewater Vantage Willow Zenith"
).split()

COMPANY_SUFFIXES: Final = (
    "Logistics",
    "Health",
    "Energy",
    "Retail",
    "Bank",
    "Insurance",
    "Manufacturing",
    "Foods",
    "Telecom",
    "Pharma",
    "Media",
    "Mobility",
)

SKILLS: Final = (
    "python",
    "sql",
    "data-engineering",
    "cloud-aws",
    "cloud-azure",
    "sap-fi",
    "netsuite",
    "salesforce",
    "change-management",
    "pricing",
    "supply-chain",
    "ml",
    "ux-research",
    "project-management",
    "finance-transformation",
)

ORG_UNITS: Final = ("Strategy", "Technology", "Data", "Operations")

DELIVERY_TASKS: Final = ("Delivery", "Workshop", "Analysis", "Design", "Testing", "Project management")
INTERNAL_TASKS: Final = ("Training", "Bench", "Pre-sales", "Internal meeting")

PROJECT_THEMES: Final = (
    "ERP rollout",
    "Data platform",
    "Pricing review",
    "Cloud migration",
    "Finance transformation",
    "CRM implementation",
    "Supply chain redesign",
    "Operating model",
    "Analytics uplift",
)
