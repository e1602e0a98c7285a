from . import webcare_report_response
