from . import webcare_reply_composer
from . import webcare_ticket_merge
from . import webcare_message_move
from . import webcare_incident_reply
from . import webcare_incident_reply_text
from . import webcare_file_import
from . import webcare_file_import_column
from . import webcare_identity_link
