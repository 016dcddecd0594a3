"""Dates and times as the back office shows them everywhere: 2026-12-06 and 2026-12-06 17:08.

Django's English formats ("Dec. 6, 2026, 5:08 p.m.") sat beside the back office's own
"2026-12-06 17:08" on the same pages; one ISO-like form reads the same in every country HR works
in and sorts as it reads. Date inputs keep the browser's own picker.
"""

DATE_FORMAT = "Y-m-d"
DATETIME_FORMAT = "Y-m-d H:i"
SHORT_DATE_FORMAT = "Y-m-d"
SHORT_DATETIME_FORMAT = "Y-m-d H:i"
TIME_FORMAT = "H:i"
MONTH_DAY_FORMAT = "F j"
YEAR_MONTH_FORMAT = "F Y"
DATE_INPUT_FORMATS = ["%Y-%m-%d"]
DATETIME_INPUT_FORMATS = ["%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M"]
NUMBER_GROUPING = 3
THOUSAND_SEPARATOR = ","
DECIMAL_SEPARATOR = "."
