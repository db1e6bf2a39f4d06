from . import pool_sizing
