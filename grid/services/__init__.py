"""Writes of the grid app, one module per area; each service is one transaction.

- ``structure``: grids, officers, villages, the blacklist, filing requirements;
- ``households``: household files and their members, file completeness, card issuance;
- ``campaigns``: whole-village credit campaigns, screening, back-to-back evaluation,
  reconciliation, the batch-credit group's decisions, the day-by-day plan;
- ``signing``: signing pre-credits into credit lines, refusals, households away from home.
"""
