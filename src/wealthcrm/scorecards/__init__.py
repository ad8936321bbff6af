"""RM capability and the monthly RM scorecard: figures per RM, team and branch against the churn model's
expectation (``service``, ``rules``, ``metrics``), and qualifications, training and competency
assessments with their gaps and expiry tasks (``capability``)."""
