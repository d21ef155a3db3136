"""Layer families, one file each. Every file defines ``__all__``."""
