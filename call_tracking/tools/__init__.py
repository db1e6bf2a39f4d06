from . import pool_sizing
from . import phone
