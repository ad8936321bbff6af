"""Reports for the branch: the monthly management report (经营月报) as data (:mod:`.monthly`), rendered
to a self-contained HTML page (:mod:`.html`), a PDF (:mod:`.pdf`) and an XLSX workbook (:mod:`.xlsx`),
in Simplified Chinese and English (:mod:`.i18n`); :mod:`.files` writes all three. See docs/reports.md
for every figure's definition."""
