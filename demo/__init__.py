"""The demo store: the reference case study as Shopify would deliver it.

`demo.plan` draws one copy of the case study (creators, clicks, costs, posts and the webhook
bodies of its orders) from a seeded random generator: pure, no database, no clock. `demo.seed`
stores a plan through the same path as Shopify's deliveries (the webhook inbox and its
drain). Imports go one way: `plugin` (the CLI) → `demo` → `worker` → `models`, `roi`.
"""
