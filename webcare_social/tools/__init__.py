from . import handles
from . import phones
from . import evidence
from . import lookup_query
from . import render
from . import tone
from . import counting
from . import words
