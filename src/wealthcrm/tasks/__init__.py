"""Tasks on the RM's list: retention, maturities, cadence, birthdays, follow-ups, handovers."""
