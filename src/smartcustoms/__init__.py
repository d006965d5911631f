"""smartcustoms: a Smart Customs layer run beside a customs management system."""

__version__ = "0.1.0"

__all__ = ["__version__"]
