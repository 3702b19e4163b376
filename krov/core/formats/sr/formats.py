# Serbian (Cyrillic): an ordinal day and year, each with its point ("4. децембар 2026.").
DATE_FORMAT = "j. F Y."
TIME_FORMAT = "H:i"
DATETIME_FORMAT = "j. F Y. H:i"
YEAR_MONTH_FORMAT = "F Y."
MONTH_DAY_FORMAT = "j. F"
SHORT_DATE_FORMAT = "d.m.Y."
SHORT_DATETIME_FORMAT = "d.m.Y. H:i"
FIRST_DAY_OF_WEEK = 1
