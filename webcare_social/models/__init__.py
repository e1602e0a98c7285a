from . import webcare_identity
from . import res_partner
