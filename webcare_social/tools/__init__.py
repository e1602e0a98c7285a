from . import handles
