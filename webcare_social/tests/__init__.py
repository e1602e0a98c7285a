from . import test_handles
from . import test_identity
from . import test_partner_search
from . import test_security
from . import test_install
from . import test_identity_tour
from . import test_x_client
from . import test_ingest
