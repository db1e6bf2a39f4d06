from . import test_reports
from . import test_pool_sizing
