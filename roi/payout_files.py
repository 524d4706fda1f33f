"""Payout files the merchant uploads to pay creators: PayPal Payouts, Wise batch, and a generic CSV.

A creator without a payout e-mail is never written to a file (PayPal and Wise would pay whoever
owns whatever is in the cell); the file's `left_out` names them, and the caller says so (the API
in a response header, the generic file in a closing note row, the Payouts page in a warning).

PayPal Payouts Web (developer.paypal.com, "Payouts Web" / "Send payouts from Payouts Web"): a CSV
with no header row, one payment a row, up to 5,000 rows and one currency a file; the columns, left to
right, are the recipient identifier (the PayPal e-mail), the amount ("5.45" with a point for USD),
the three-letter currency code, an optional customer ID (our reference, unique per row), an optional
note to the recipient, and the recipient wallet (`PAYPAL`).

Wise batch payments, "Send by email" template (wise.com help articles 2663296 "What's a batch
payment template?" and 2663302 "How do I fill in my batch template?"; the older TransferWise article
2721161 adds the `type` column set to EMAIL): a header row, then `name`, `recipientEmail`,
`paymentReference`, `receiverType`, `amountCurrency` (`target`: the creator receives the exact
amount and the merchant bears the fee), `amount` (digits and a point only), `sourceCurrency`,
`targetCurrency`, `type`. Wise e-mails each recipient a link to give their bank details; at most
1,000 transfers a file.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

PAYPAL_MAX_ROWS = 5000
WISE_MAX_ROWS = 1000
PAYPAL_NOTE_MAX = 1000  # PayPal's limit for the batch and item notes together
GENERIC_COLUMNS = ("payout_id", "period_end", "influencer_id", "name", "payout_email", "currency", "amount", "lines")


@dataclass(frozen=True)
class Payee:
    influencer_id: int
    name: str
    payout_email: str | None
    amount: Decimal
    lines: int = 0


@dataclass(frozen=True)
class PayoutFile:
    text: str
    rows: int
    left_out: list[Payee]


def amount_text(amount: Decimal) -> str:
    """Two decimals with a point, no symbol or grouping: what both PayPal and Wise read."""
    return format(amount.quantize(Decimal("0.01")), "f")


def _cell(value: object) -> str:
    """A text cell a spreadsheet will not run as a formula (a name starting with '=' or '+')."""
    text = str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def _split(payees: Iterable[Payee]) -> tuple[list[Payee], list[Payee]]:
    payable: list[Payee] = []
    left_out: list[Payee] = []
    for payee in payees:
        if payee.amount <= 0:
            continue  # nothing to send (a payout never holds such a row; a file never pays it)
        (payable if (payee.payout_email or "").strip() else left_out).append(payee)
    return payable, left_out


def _writer(out: io.StringIO) -> Any:
    return csv.writer(out, lineterminator="\r\n")


def paypal_csv(payees: Iterable[Payee], *, currency: str, reference: str, note: str) -> PayoutFile:
    payable, left_out = _split(payees)
    if len(payable) > PAYPAL_MAX_ROWS:
        raise ValueError(f"PayPal takes at most {PAYPAL_MAX_ROWS} payments a file")
    out = io.StringIO()
    writer = _writer(out)
    for payee in payable:
        writer.writerow(
            [
                payee.payout_email.strip(),  # type: ignore[union-attr]
                amount_text(payee.amount),
                currency.upper(),
                f"{reference}-{payee.influencer_id}",
                note[:PAYPAL_NOTE_MAX],
                "PAYPAL",
            ]
        )
    return PayoutFile(out.getvalue(), len(payable), left_out)


WISE_COLUMNS = (
    "name",
    "recipientEmail",
    "paymentReference",
    "receiverType",
    "amountCurrency",
    "amount",
    "sourceCurrency",
    "targetCurrency",
    "type",
)


def wise_csv(payees: Iterable[Payee], *, currency: str, reference: str) -> PayoutFile:
    payable, left_out = _split(payees)
    if len(payable) > WISE_MAX_ROWS:
        raise ValueError(f"Wise takes at most {WISE_MAX_ROWS} transfers a file")
    out = io.StringIO()
    writer = _writer(out)
    writer.writerow(WISE_COLUMNS)
    for payee in payable:
        writer.writerow(
            [
                _cell(payee.name),
                payee.payout_email.strip(),  # type: ignore[union-attr]
                # Wise shows the reference on the recipient's statement; it allows a short plain text.
                reference[:35],
                "PRIVATE",
                "target",
                amount_text(payee.amount),
                currency.upper(),
                currency.upper(),
                "EMAIL",
            ]
        )
    return PayoutFile(out.getvalue(), len(payable), left_out)


def generic_csv(payees: Iterable[Payee], *, payout_id: int, period_end: str, currency: str) -> PayoutFile:
    """One row a creator paid, then a note row naming whoever was left out for want of an e-mail."""
    payable, left_out = _split(payees)
    out = io.StringIO()
    writer = _writer(out)
    writer.writerow(GENERIC_COLUMNS)
    for payee in payable:
        writer.writerow(
            [
                payout_id,
                period_end,
                payee.influencer_id,
                _cell(payee.name),
                payee.payout_email.strip(),  # type: ignore[union-attr]
                currency.upper(),
                amount_text(payee.amount),
                payee.lines,
            ]
        )
    if left_out:
        names = "; ".join(f"{_cell(p.name)} (id {p.influencer_id}, {amount_text(p.amount)})" for p in left_out)
        writer.writerow([f"# not in this file, no payout e-mail: {names}"])
    return PayoutFile(out.getvalue(), len(payable), left_out)
