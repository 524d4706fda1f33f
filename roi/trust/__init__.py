"""Trust signals: self-referral, coupon leaks, suspicious link traffic and the authenticity of a
creator's audience.

Every signal is a pure function over plain values that returns its figures and the orders,
clicks or posts it rests on, so a flag can always show why it was raised. None of them denies
anything: the merchant's settings (`settings.TrustSettings`) say what flags and what holds a
commission for review. A malformed e-mail or IP in an order skips the piece of evidence it
feeds, with the reason, and never fails the order.
"""

# The kinds of flag, as the API names them.
KINDS = (
    "self_referral",
    "coupon_leak",
    "paid_traffic",
    "click_injection",
    "click_flooding",
    "junk_traffic",
    "engagement",
    "follower_jump",
    "audience_geo",
)
