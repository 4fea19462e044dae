"""Staff admin of the business rules, the rule data and the provider registry (settings.md §1.4,
access-tokens.md §5), one module per concern.

Rule constants and rule data can be changed only by staff with the `events.change_rules`
permission; everyone else with a view permission sees them read-only. Every change goes through
the same validation as `set_rules`, `load_rule_data` and the start-up checks, is kept in the
simple-history change history (who, when, old → new), and bumps the configuration version once so
that every worker picks it up within `RULE_CACHE_SECONDS`. The print tokens and the records are
`signing.admin`.
"""

from events.admin import providers, ruledata, rules

__all__ = ["providers", "ruledata", "rules"]
