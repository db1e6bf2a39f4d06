from . import test_reports
from . import test_pool_sizing
from . import test_webhook_attribution
from . import test_webhook_generic
from . import test_webhook_providers
from . import test_number_assignment
from . import test_number_config
from . import test_website_tour
