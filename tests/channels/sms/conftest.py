from tests.prism import prism

__all__ = ["prism"]
