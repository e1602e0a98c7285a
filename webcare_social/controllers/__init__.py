from . import webhook
from . import personal_data
