"""Payout files: PayPal Payouts (no header, e-mail, amount, currency, reference, note, PAYPAL),
Wise's send-by-email batch, and a generic CSV; a creator without a payout e-mail is never in one."""

from __future__ import annotations

import csv
import io
from decimal import Decimal as D

from roi.payout_files import Payee, generic_csv, paypal_csv, wise_csv

PAYEES = [
    Payee(7, "Anna Lee", "anna@example.com", D("53.5"), 3),
    Payee(8, "Ben Okafor", None, D("40.00"), 2),
    Payee(9, "=Chloe", " chloe@example.com ", D("1250.00"), 9),
]


def rows(text):
    return list(csv.reader(io.StringIO(text)))


def test_paypal_rows_follow_the_payouts_web_columns():
    file = paypal_csv(PAYEES, currency="usd", reference="payout-12", note="Creator ROI payout to 2026-11-30")
    assert rows(file.text) == [
        ["anna@example.com", "53.50", "USD", "payout-12-7", "Creator ROI payout to 2026-11-30", "PAYPAL"],
        ["chloe@example.com", "1250.00", "USD", "payout-12-9", "Creator ROI payout to 2026-11-30", "PAYPAL"],
    ]
    assert file.text.endswith("\r\n") and file.rows == 2
    assert [p.influencer_id for p in file.left_out] == [8]


def test_wise_rows_follow_the_send_by_email_template():
    file = wise_csv(PAYEES, currency="EUR", reference="Creator ROI payout 12")
    header, *body = rows(file.text)
    assert header == [
        "name",
        "recipientEmail",
        "paymentReference",
        "receiverType",
        "amountCurrency",
        "amount",
        "sourceCurrency",
        "targetCurrency",
        "type",
    ]
    assert body[0] == [
        "Anna Lee",
        "anna@example.com",
        "Creator ROI payout 12",
        "PRIVATE",
        "target",
        "53.50",
        "EUR",
        "EUR",
        "EMAIL",
    ]
    assert body[1][0] == "'=Chloe"  # never a formula in the merchant's spreadsheet
    assert "Ben Okafor" not in file.text and [p.name for p in file.left_out] == ["Ben Okafor"]


def test_the_generic_file_names_who_was_left_out():
    file = generic_csv(PAYEES, payout_id=12, period_end="2026-11-30", currency="USD")
    header, anna, chloe, note = rows(file.text)
    assert header[:7] == ["payout_id", "period_end", "influencer_id", "name", "payout_email", "currency", "amount"]
    assert anna == ["12", "2026-11-30", "7", "Anna Lee", "anna@example.com", "USD", "53.50", "3"]
    assert note == ["# not in this file, no payout e-mail: Ben Okafor (id 8, 40.00)"]
    assert "ben" not in "".join(anna + chloe).lower()


def test_nothing_left_out_means_no_note():
    file = generic_csv(PAYEES[:1], payout_id=1, period_end="2026-11-30", currency="USD")
    assert len(rows(file.text)) == 2 and file.left_out == []
