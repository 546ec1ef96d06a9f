"""The one generic registry: lazy targets, base-class checks, did-you-mean, clashes, listings."""

from __future__ import annotations

import sys

import pytest

from ovmer.errors import OvmerError
from ovmer.registry import Registry, RegistryError, UnknownNameError, close_names, did_you_mean, import_target


class Base:
    pass


class Child(Base):
    pass


def test_lazy_target_is_imported_only_on_get_and_once() -> None:
    sys.modules.pop("json.tool", None)
    registry: Registry[object] = Registry("tool")
    registry.register("json-tool", "json.tool", "pretty-print JSON")
    assert "json.tool" not in sys.modules
    first = registry.get("json-tool")
    assert "json.tool" in sys.modules
    assert registry.get("json-tool") is first


def test_module_attribute_targets_and_dotted_attributes() -> None:
    assert import_target("os.path:join") is __import__("os").path.join
    assert import_target("collections:OrderedDict.fromkeys") == __import__("collections").OrderedDict.fromkeys


def test_base_class_check_for_classes_and_instances() -> None:
    registry: Registry[type[Base]] = Registry("widget", Base)
    registry.register("child", Child)
    registry.register("instance", Child())
    registry.register("wrong", int)
    registry.register("lazy-wrong", "collections:OrderedDict")
    assert registry.get("child") is Child
    assert isinstance(registry.get("instance"), Child)
    with pytest.raises(RegistryError, match=r"widget 'wrong' is not a Base"):
        registry.get("wrong")
    with pytest.raises(RegistryError, match=r"'lazy-wrong' \(registered as 'collections:OrderedDict'\) is not a Base"):
        registry.get("lazy-wrong")


def test_unknown_name_suggests_the_closest_and_lists_all() -> None:
    registry: Registry[int] = Registry("backend", missing_hint="(see --help)")
    for name in ("transformers", "vllm", "openai", "replay"):
        registry.register(name, 1)
    with pytest.raises(UnknownNameError) as caught:
        registry.get("replya")
    message = str(caught.value)
    assert message == (
        "unknown backend 'replya'. Did you mean 'replay'? Known backends: openai, replay, transformers, vllm. "
        "(see --help)"
    )
    assert isinstance(caught.value, OvmerError) and isinstance(caught.value, KeyError)


def test_loose_lookup_ignores_case_and_punctuation() -> None:
    registry: Registry[str] = Registry("baseline", loose=True)
    for name in ("Video-LLaVA", "VideoChat", "VideoChat2", "Chat-UniVi"):
        registry.register(name, name, lazy=False)
    assert registry.canonical("videollava") == "Video-LLaVA"
    assert registry.get("chat_univi") == "Chat-UniVi"
    assert "VIDEO llava" in registry
    # Punctuation-free ranking puts Video-LLaVA first for a misspelling of it.
    assert close_names("videolava", registry, n=3, loose=True)[0] == "Video-LLaVA"


def test_clashes_are_refused_loosely_too() -> None:
    registry: Registry[int] = Registry("baseline", loose=True)
    registry.register("Video-LLaVA", 1)
    with pytest.raises(RegistryError, match="built-in baseline 'Video-LLaVA' has that name"):
        registry.register("video_llava", 2, builtin=False)
    registry.register("mine", 3, builtin=False)
    with pytest.raises(RegistryError, match="an already registered baseline 'mine'"):
        registry.register("MINE", 4)


def test_missing_module_and_attribute_are_clear_errors() -> None:
    registry: Registry[object] = Registry("table", on_import_error=lambda name, exc: f"{name}: install extras")
    registry.register("gone", "ovmer_no_such_module:thing")
    registry.register("no-attr", "json:no_such_function")
    with pytest.raises(RegistryError, match="gone: install extras"):
        registry.get("gone")
    with pytest.raises(RegistryError, match="'json:no_such_function', which does not exist"):
        registry.get("no-attr")


def test_listing_and_decorator() -> None:
    registry: Registry[object] = Registry("figure")

    @registry.add("zeta", "last one")
    def zeta() -> None: ...

    registry.register("alpha", "json", "first one")
    assert registry.listing() == "  alpha  first one\n  zeta   last one"
    assert registry.names() == ["zeta", "alpha"] and len(registry) == 2
    assert registry.get("zeta") is zeta


def test_did_you_mean_is_empty_when_nothing_is_close() -> None:
    assert did_you_mean("qqqq", ["transformers", "vllm"]) == ""
    assert did_you_mean("vlm", ["transformers", "vllm"]) == " Did you mean 'vllm'?"


def test_indexing_values_and_items_work_like_the_dicts_registries_replaced() -> None:
    registry: Registry[int] = Registry("preset")
    registry.register("deterministic", 1)
    registry.register("paper", 2)
    assert registry["paper"] == 2
    assert registry.values() == [1, 2] and registry.items() == [("deterministic", 1), ("paper", 2)]
    with pytest.raises(UnknownNameError, match="Did you mean 'paper'"):
        registry["papr"]
