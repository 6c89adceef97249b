"""The periodic-task monitor: last run, duration, counts and failures of each scheduled task."""
