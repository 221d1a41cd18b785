"""Read a ``local.py`` settings file without executing it.

The files hold assignments of paths. Besides the generator's ``name = 'path'`` lines, the forms that
reference-style (pytracking) files use are understood, so an existing file keeps working:

* ``self.name = ...`` (a class) and ``settings.name = ...`` (a function) as well as ``name = ...``;
* a value that is a string, ``None``, ``a + b`` of strings, an f-string, an earlier setting
  (``self.workspace_dir + '/tensorboard'``), ``os.path.join(...)`` or ``os.path.expanduser(...)``.

Anything else given to a known setting is a :class:`SettingsError` of one line naming the file, the
line, the text and the forms allowed. Parsing instead of importing means a file never runs code and
never has to import this package.
"""
from __future__ import annotations

import ast
import os
from pathlib import Path
from typing import Any, Callable, Collection, Dict, Mapping, Optional, Tuple, Union

ALLOWED_FORMS = ("'path'", "'a' + 'b'", "f'{earlier_setting}/b'", "an earlier setting", "os.path.join(...)",
                 "os.path.expanduser(...)")
_PATH_FUNCTIONS: Dict[str, Callable[..., str]] = {"join": os.path.join, "expanduser": os.path.expanduser}


class SettingsError(FileNotFoundError):
    """A settings file that cannot be parsed, or a root that is unset or missing (names the setting)."""


class _Unsupported(Exception):
    """A value that is not one of :data:`ALLOWED_FORMS`."""


def _path_function(func: ast.AST) -> Optional[Callable[..., str]]:
    """``os.path.join`` / ``os.path.expanduser`` (also ``path.join`` or a bare ``join`` after an import)."""
    if isinstance(func, ast.Attribute):
        owner = func.value
        dotted_ok = ((isinstance(owner, ast.Attribute) and owner.attr == "path" and isinstance(owner.value, ast.Name)
                      and owner.value.id == "os") or (isinstance(owner, ast.Name) and owner.id in ("path", "osp")))
        return _PATH_FUNCTIONS.get(func.attr) if dotted_ok else None
    if isinstance(func, ast.Name):
        return _PATH_FUNCTIONS.get(func.id)
    return None


def _evaluate(node: ast.AST, known: Mapping[str, Any]) -> Any:
    """The value of one of :data:`ALLOWED_FORMS`; :class:`_Unsupported` for anything else."""
    if isinstance(node, ast.Constant):
        return node.value
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        left, right = _evaluate(node.left, known), _evaluate(node.right, known)
        if isinstance(left, str) and isinstance(right, str):
            return left + right
        raise _Unsupported("only strings can be added")
    if isinstance(node, ast.JoinedStr):
        parts = []
        for value in node.values:
            if isinstance(value, ast.FormattedValue):
                if value.format_spec is not None or value.conversion != -1:
                    raise _Unsupported("f-string formatting options")
                parts.append(str(_evaluate(value.value, known)))
            else:
                parts.append(str(_evaluate(value, known)))
        return "".join(parts)
    if isinstance(node, ast.Name) and node.id in known:
        return known[node.id]
    if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.attr in known:
        return known[node.attr]  # `self.workspace_dir` / `settings.workspace_dir` set earlier in the file
    if isinstance(node, ast.Call) and not node.keywords:
        function = _path_function(node.func)
        if function is not None:
            args = [_evaluate(arg, known) for arg in node.args]
            if args and all(isinstance(a, str) for a in args):
                return function(*args)
    raise _Unsupported("not an allowed form")


def _target_name(target: ast.AST) -> Optional[str]:
    if isinstance(target, ast.Name):
        return target.id
    if isinstance(target, ast.Attribute):
        return target.attr
    return None


def read_local_file(path: Union[str, Path], aliases: Optional[Mapping[str, str]] = None,
                    settings: Optional[Collection[str]] = None) -> Dict[str, Tuple[Any, int]]:
    """Parse a ``local.py`` without executing it: ``{name: (value, line)}`` for every assignment it understands.

    Args:
        path: the file.
        aliases: names to rename on read (a reference-style test file's ``lasher_dir`` is the test root).
        settings: names whose value must be understood (an error otherwise); assignments to other names
            that are not understood (``settings = EnvSettings()``) are skipped. Default: every setting of
            :class:`lib.config.environment.EnvSettings` and every retired one.
    Raises:
        SettingsError: a syntax error or a value of a setting outside :data:`ALLOWED_FORMS` (one line naming
            the file, the line and the text). The file is never modified.
    """
    if settings is None:
        from lib.config.environment import RETIRED_SETTINGS, EnvSettings

        settings = set(EnvSettings.path_fields()) | set(RETIRED_SETTINGS)
    path = Path(path)
    text = path.read_text(encoding="utf-8")
    try:
        tree = ast.parse(text, filename=str(path))
    except SyntaxError as e:
        raise SettingsError(
            f"{path}:{e.lineno}: cannot parse the settings file ({e.msg}). Windows paths must be written with "
            f"forward slashes or as raw strings (r'C:\\data'); regenerate the file with "
            f"`python tracking/create_default_local_file.py ... --force` if unsure") from None
    aliases = dict(aliases or {})
    values: Dict[str, Tuple[Any, int]] = {}
    known: Dict[str, Any] = {}
    assigns = [n for n in ast.walk(tree) if isinstance(n, (ast.Assign, ast.AnnAssign)) and n.value is not None]
    for node in sorted(assigns, key=lambda n: (n.lineno, n.col_offset)):
        targets = node.targets if isinstance(node, ast.Assign) else [node.target]
        for name in filter(None, map(_target_name, targets)):
            try:
                value = _evaluate(node.value, known)
            except _Unsupported:
                if aliases.get(name, name) in settings:
                    source = ast.get_source_segment(text, node.value) or "?"
                    raise SettingsError(
                        f"{path}:{node.lineno}: {name} = {source.splitlines()[0]}: not understood; the file is read, "
                        f"not run, so a setting must be one of: {', '.join(ALLOWED_FORMS)}") from None
                continue
            known[name] = value
            values[aliases.get(name, name)] = (value, node.lineno)
    return values


__all__ = ["ALLOWED_FORMS", "SettingsError", "read_local_file"]
