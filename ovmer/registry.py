"""One generic name table for everything the package looks up by name.

Commands, LLM backends, describe baselines and their adapters, ASR backends,
label parsers, scoring protocols, tables, figures and reproduction steps are
each a :class:`Registry`. An entry maps a name to either an object or a lazy
``"module:attr"`` string (``"module"`` alone means the module itself), so only
the chosen entry's module is ever imported. A registry can demand a base
class; lookups of unknown names raise :class:`UnknownNameError` with one
did-you-mean hint, the same everywhere (:func:`did_you_mean`).

User code feeds the same tables (:mod:`ovmer.plugins`): files named by
``--include`` / ``OVMER_INCLUDE`` are imported before a registry is first read,
and a registry made with ``entry_points=GROUP`` adds that entry-point group of
the installed distributions then; both register with ``builtin=False``, so a
built-in name is never replaced.
"""

from __future__ import annotations

import difflib
import importlib
import re
import warnings
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from ovmer import plugins
from ovmer.errors import OvmerError

T = TypeVar("T")


class UnknownNameError(OvmerError, KeyError):
    """A name that is not in a registry (a KeyError too, for callers that catch lookups)."""

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0]) if self.args else ""


class RegistryError(OvmerError):
    """A registry entry that cannot be loaded or does not have the expected type."""


def loose_name(name: str) -> str:
    """``name`` without case, spaces or punctuation: ``videollava`` matches ``Video-LLaVA``."""
    return re.sub(r"[^0-9a-z]", "", str(name).lower())


def close_names(name: str, choices: Iterable[str], n: int = 1, loose: bool = False) -> list[str]:
    """Up to ``n`` of ``choices`` close to ``name`` (punctuation-free matches first when ``loose``)."""
    options = list(dict.fromkeys(str(c) for c in choices))
    found: list[str] = []
    if loose:
        by_loose: dict[str, str] = {}
        for option in options:
            by_loose.setdefault(loose_name(option), option)
        found += [by_loose[k] for k in difflib.get_close_matches(loose_name(name), list(by_loose), n=n, cutoff=0.5)]
    cutoff = 0.5 if loose else 0.6
    found += difflib.get_close_matches(str(name), options, n=n, cutoff=cutoff)
    return list(dict.fromkeys(found))[:n]


def did_you_mean(name: str, choices: Iterable[str], n: int = 1, loose: bool = False) -> str:
    """``" Did you mean 'x'?"`` (or ``'x' or 'y'``) when a choice is close to ``name``, else ``""``."""
    close = close_names(name, choices, n=n, loose=loose)
    return f" Did you mean {' or '.join(repr(c) for c in close)}?" if close else ""


def unknown_name(kind: str, name: str, choices: Iterable[str], *, hint: str = "", loose: bool = False,
                 n: int = 1) -> UnknownNameError:
    """The one error for an unknown ``name`` among ``choices``: names the kind, a close match, the choices."""
    options = list(choices)
    listing = ", ".join(sorted(options, key=str.lower)) if options else "none"
    tail = f" {hint}" if hint else ""
    return UnknownNameError(
        f"unknown {kind} {name!r}.{did_you_mean(name, options, n=n, loose=loose)} Known {kind}s: {listing}.{tail}"
    )


def import_target(target: str) -> Any:
    """Import ``"module:attr"`` (dotted attributes allowed) or ``"module"``."""
    module_name, _, attribute = target.partition(":")
    module = importlib.import_module(module_name)
    obj: Any = module
    for part in filter(None, attribute.split(".")):
        obj = getattr(obj, part)
    return obj


@dataclass(frozen=True)
class Entry:
    """One registered name: its target (an object or a lazy ``module:attr`` string) and a help line."""

    name: str
    target: Any
    help: str = ""
    builtin: bool = True
    lazy: bool = False  # target is a "module:attr" string imported on first use


class Registry(Generic[T]):
    """Names mapped to objects or lazy ``"module:attr"`` targets, with a base-class check.

    ``kind`` names what the registry holds in messages ("LLM backend"); ``base``
    is the class every loaded target must be (a subclass of, for classes, or an
    instance of, for other objects); ``loose`` makes lookups ignore case and
    punctuation; ``missing_hint`` is appended to errors for names not found
    (for example the command that lists them); ``on_import_error`` turns an
    ImportError while loading an entry into a message (extras to install);
    ``entry_points`` names the entry-point group whose entries join on the first
    lookup, each value (``"module:attr"``) passed through ``entry_point_target``
    first (the baselines read ``"module:Adapter.spec"`` from the adapters' group).
    """

    def __init__(
        self,
        kind: str,
        base: type | tuple[type, ...] | None = None,
        *,
        loose: bool = False,
        missing_hint: str = "",
        on_import_error: Callable[[str, ImportError], str] | None = None,
        entry_points: str | None = None,
        entry_point_target: Callable[[str], str] | None = None,
    ) -> None:
        self.kind = kind
        self.base = base
        self.loose = loose
        self.missing_hint = missing_hint
        self.on_import_error = on_import_error
        self.entry_point_group = entry_points
        self.entry_point_target = entry_point_target
        self._entries: dict[str, Entry] = {}
        self._loaded: dict[str, Any] = {}
        self._plugins_read = False

    # -- filling -----------------------------------------------------------------------------------

    def register(self, name: str, target: Any, help: str = "", *, builtin: bool = True,
                 lazy: bool | None = None) -> Any:
        """Add ``name -> target``; a second entry of the same name (loosely, if ``loose``) is refused.

        A string target is a lazy ``"module:attr"`` unless ``lazy=False`` (a registry of plain strings).
        """
        clash = self._find(name)
        if clash is not None:
            owner = "a built-in" if self._entries[clash].builtin else "an already registered"
            raise RegistryError(f"cannot register {self.kind} {name!r}: {owner} {self.kind} {clash!r} has that name")
        self._entries[name] = Entry(name, target, help, builtin, isinstance(target, str) if lazy is None else lazy)
        return target

    def _read_plugins(self) -> None:
        """User code, once, before the first lookup: included files, then this registry's entry points."""
        if self._plugins_read:
            return
        self._plugins_read = True
        plugins.include_from_environment()
        if self.entry_point_group is None:
            return
        for point in plugins.entry_points(self.entry_point_group):
            target = self.entry_point_target(point.value) if self.entry_point_target else point.value
            source = point.dist.name if point.dist is not None else "an installed distribution"
            try:
                self.register(point.name, target, f"from {source}", builtin=False, lazy=True)
            except RegistryError as exc:  # the built-in keeps working; the user learns why theirs is absent
                warnings.warn(f"entry point {point.name!r} ({self.entry_point_group}, {source}) ignored: {exc}",
                              stacklevel=3)

    def add(self, name: str, help: str = "") -> Callable[[T], T]:
        """Decorator form of :meth:`register` for objects defined in code."""

        def decorate(obj: T) -> T:
            self.register(name, obj, help)
            return obj

        return decorate

    # -- looking up --------------------------------------------------------------------------------

    def _find(self, name: str) -> str | None:
        if name in self._entries:
            return name
        if self.loose:
            wanted = loose_name(name)
            for key in self._entries:
                if loose_name(key) == wanted:
                    return key
        return None

    def canonical(self, name: str) -> str:
        """The registered spelling of ``name``; unknown names raise :class:`UnknownNameError`."""
        self._read_plugins()
        found = self._find(str(name))
        if found is None:
            raise unknown_name(self.kind, str(name), self._entries, hint=self.missing_hint, loose=self.loose,
                               n=3 if self.loose else 1)
        return found

    def entry(self, name: str) -> Entry:
        return self._entries[self.canonical(name)]

    def get(self, name: str) -> T:
        """The object registered as ``name``, importing a lazy target once and checking its type."""
        key = self.canonical(name)
        if key in self._loaded:
            return self._loaded[key]
        entry = self._entries[key]
        obj = self._load(entry) if entry.lazy else entry.target
        self._check(entry, obj)
        self._loaded[key] = obj
        return obj

    def _load(self, entry: Entry) -> Any:
        try:
            return import_target(entry.target)
        except ImportError as exc:
            if self.on_import_error is not None:
                raise RegistryError(self.on_import_error(entry.name, exc)) from exc
            raise RegistryError(f"{self.kind} {entry.name!r} cannot be imported ({exc})") from exc
        except AttributeError as exc:
            raise RegistryError(f"{self.kind} {entry.name!r} points at {entry.target!r}, which does not exist") from exc

    def _check(self, entry: Entry, obj: Any) -> None:
        if self.base is None:
            return
        ok = issubclass(obj, self.base) if isinstance(obj, type) else isinstance(obj, self.base)
        if not ok:
            bases = self.base if isinstance(self.base, tuple) else (self.base,)
            expected = " or ".join(b.__name__ for b in bases)
            where = f" (registered as {entry.target!r})" if entry.lazy else ""
            raise RegistryError(f"{self.kind} {entry.name!r}{where} is not a {expected}")

    # -- listing -----------------------------------------------------------------------------------

    def __getitem__(self, name: str) -> T:
        """``registry[name]`` is :meth:`get` (registries replaced plain dicts; their indexing still works)."""
        return self.get(name)

    def values(self) -> list[T]:
        """Every registered object in registration order (lazy targets are imported)."""
        return [self.get(name) for name in self.names()]

    def items(self) -> list[tuple[str, T]]:
        return [(name, self.get(name)) for name in self.names()]

    def names(self) -> list[str]:
        self._read_plugins()
        return list(self._entries)

    def entries(self) -> list[Entry]:
        self._read_plugins()
        return list(self._entries.values())

    def __contains__(self, name: object) -> bool:
        self._read_plugins()
        return isinstance(name, str) and self._find(name) is not None

    def __iter__(self) -> Iterator[str]:
        return iter(self.names())

    def __len__(self) -> int:
        self._read_plugins()
        return len(self._entries)

    def __repr__(self) -> str:
        return f"Registry({self.kind!r}, {len(self)} entries)"

    def listing(self, indent: str = "  ", sort: bool = True) -> str:
        """``name  help`` lines, for ``--help`` texts and listings."""
        entries = sorted(self.entries(), key=lambda e: e.name) if sort else self.entries()
        if not entries:
            return ""
        width = max(len(e.name) for e in entries)
        return "\n".join(f"{indent}{e.name:<{width}}  {e.help}".rstrip() for e in entries)
