from . import handles
from . import render
from . import tone
