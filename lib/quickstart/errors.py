"""The quickstart's one error type."""


class QuickstartError(RuntimeError):
    """A step that failed or a work directory that cannot be used; the message says what to do."""


__all__ = ["QuickstartError"]
