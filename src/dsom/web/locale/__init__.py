"""More of the pages' Ukrainian (and English for codes), one module per area of the offices.

Each module here defines `UK: dict[str, str]` (English text → Ukrainian) and may define
`EN: dict[str, str]` (codes → English); `dsom.web.i18n` merges them all.
"""
