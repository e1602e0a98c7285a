from . import webcare_identity
from . import res_partner
from . import webcare_channel
from . import webcare_message
from . import helpdesk_ticket
from . import res_config_settings
