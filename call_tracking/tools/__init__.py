from . import pool_sizing
from . import phone
from . import clients
from . import outbound
from . import staffing
from . import audiences
from . import transcription
from . import zadarma
