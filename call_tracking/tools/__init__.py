from . import pool_sizing
from . import phone
from . import clients
from . import transcription
