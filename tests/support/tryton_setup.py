"""What a real Tryton needs before the hub can post to it, done with proteus on a new database.

Run as a script (it imports trytond, so it runs in its own process, never in the test run):
``python tests/support/tryton_setup.py CONFIG_FILE DATABASE``. docs/connectors.md lists the
same steps for a firm's own Tryton; ``handoffs systems check`` proves each of them:

* a company in USD, and GBP and EUR currencies with a rate each (documents in another
  currency keep their rate; Tryton converts them to the company currency when posting);
* the minimal chart of accounts (receivable, revenue, tax accounts) with the default
  receivable account set, so a new party can be invoiced;
* fiscal years 2024-2027 with monthly periods, each with its invoice and credit-note
  sequences;
* taxes "VAT 20%" and "VAT 0%" (the hub's tax codes map to them by name);
* tax rounding per line (``account.configuration``), as the hub rounds each line's tax,
  and currency exchange accounts (Tryton refuses to post an invoice in another currency
  whose conversion leaves a rounding difference without them);
* the revenue journal ("REV", from the account module) that customer invoices use;
* a user for the hub (``handoffs``), in the company and the *Accounting* group only.
"""

from __future__ import annotations

import datetime as dt
import sys
from decimal import Decimal

FISCAL_YEARS = (2024, 2025, 2026, 2027)
RATES = {"USD": Decimal("1"), "GBP": Decimal("0.80"), "EUR": Decimal("0.92")}
TAXES = {"VAT 20%": Decimal("0.20"), "VAT 0%": Decimal("0")}
HUB_LOGIN, HUB_PASSWORD = "handoffs", "handoffs-hub-password"


def setup(config_file: str, database: str) -> None:
    from proteus import Model
    from proteus import config as proteus_config
    from trytond.modules.account.tests.tools import create_chart, get_accounts
    from trytond.modules.account_invoice.tests.tools import set_fiscalyear_invoice_sequences
    from trytond.modules.company.tests.tools import create_company, get_company

    proteus_config.set_trytond(database=database, config_file=config_file)
    currencies = {code: _currency(Model, code, rate) for code, rate in RATES.items()}
    create_company(currency=currencies["USD"])
    company = get_company()
    create_chart(company)
    accounts = get_accounts(company)
    for year in FISCAL_YEARS:
        fiscalyear = _fiscal_year(Model, company, year)
        set_fiscalyear_invoice_sequences(fiscalyear)
        fiscalyear.save()
        fiscalyear.click("create_period")
    Tax = Model.get("account.tax")
    for name, rate in TAXES.items():
        Tax(
            name=name,
            description=name,
            type="percentage",
            rate=rate,
            invoice_account=accounts["tax"],
            credit_note_account=accounts["tax"],
        ).save()
    configuration = Model.get("account.configuration")(1)
    configuration.tax_rounding = "line"
    (exchange,) = Model.get("account.account").find([("code", "=", "6.2.1")])  # FX gain (loss)
    configuration.currency_exchange_debit_account = exchange
    configuration.currency_exchange_credit_account = exchange
    configuration.save()
    accounting = Model.get("res.group").find([("name", "=", "Accounting")])[0]
    user = Model.get("res.user")(name="Handoffs", login=HUB_LOGIN, password=HUB_PASSWORD)
    user.companies.append(Model.get("company.company")(company.id))
    user.company = company
    user.groups.append(accounting)
    user.save()


def _currency(Model, code: str, rate: Decimal):
    Currency = Model.get("currency.currency")
    found = Currency.find([("code", "=", code)])
    currency = found[0] if found else Currency(name=code, symbol=code, code=code, rounding=Decimal("0.01"))
    currency.save()
    Model.get("currency.currency.rate")(date=dt.date(2000, 1, 1), rate=rate, currency=currency).save()
    return currency


def _fiscal_year(Model, company, year: int):
    sequence_type = Model.get("ir.sequence.type").find([("name", "=", "Account Move")], limit=1)[0]
    moves = Model.get("ir.sequence.strict")(name=str(year), sequence_type=sequence_type, company=company)
    moves.save()
    return Model.get("account.fiscalyear")(
        name=str(year),
        start_date=dt.date(year, 1, 1),
        end_date=dt.date(year, 12, 31),
        company=company,
        move_sequence=moves,
    )


if __name__ == "__main__":
    setup(sys.argv[1], sys.argv[2])
