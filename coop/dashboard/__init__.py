"""Management dashboards: the loan book, approval, grid, post-loan, service, surveys and people."""
