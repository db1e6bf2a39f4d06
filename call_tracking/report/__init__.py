from . import call_tracking_call_report
from . import call_tracking_cost_report
from . import call_tracking_pool_report
from . import call_tracking_call_report_score
from . import call_tracking_tag_report
from . import call_tracking_staffing
from . import call_tracking_call_report_rollup
