"""Survey statistics: reliability, validity, group differences, NPS, IPA, key drivers, SEM."""
