"""User code in the one registry: entry-point groups, included files, refused clashes."""

from __future__ import annotations

import importlib.metadata
import os
import sys

import pytest

from ovmer import plugins
from ovmer.errors import OvmerError
from ovmer.llm.client import LLMBackend
from ovmer.llm.registry import BACKENDS
from ovmer.registry import Registry, RegistryError

BACKEND_SOURCE = '''
from ovmer.llm import LLMBackend
from ovmer.llm.registry import BACKENDS


class Parrot(LLMBackend):
    name = "parrot"

    def __init__(self, model="p"):
        self.model = model

    @property
    def model_id(self):
        return self.model

    def generate(self, batch, settings):
        return [conversation[-1].content for conversation in batch]


BACKENDS.register("parrot", Parrot, "repeats the prompt", builtin=False)
'''


@pytest.fixture()
def fresh(monkeypatch: pytest.MonkeyPatch):
    """No included files yet, no OVMER_INCLUDE, and BACKENDS as it was afterwards."""
    monkeypatch.setattr(plugins, "_imported", {})
    monkeypatch.setattr(plugins, "_environment_read", False)
    monkeypatch.delenv(plugins.INCLUDE_ENV, raising=False)
    monkeypatch.setattr(sys, "path", list(sys.path))
    entries, loaded, read = dict(BACKENDS._entries), dict(BACKENDS._loaded), BACKENDS._plugins_read
    modules = set(sys.modules)
    yield
    BACKENDS._entries, BACKENDS._loaded, BACKENDS._plugins_read = entries, loaded, read
    for name in set(sys.modules) - modules:
        if name.startswith(("parrot", "helper", plugins.MODULE_PREFIX)):
            del sys.modules[name]


def points(monkeypatch: pytest.MonkeyPatch, group: str, **targets: str) -> None:
    found = [importlib.metadata.EntryPoint(name, value, group) for name, value in targets.items()]
    monkeypatch.setattr(plugins, "entry_points", lambda wanted: found if wanted == group else [])


def test_an_entry_point_group_joins_lazily_on_the_first_lookup(fresh, monkeypatch):
    points(monkeypatch, "test.backends", replayed="ovmer.llm.replay:ReplayBackend", missing="no_such_module:X")
    registry: Registry[type[LLMBackend]] = Registry("LLM backend", LLMBackend, entry_points="test.backends")
    registry.register("builtin", "ovmer.llm.openai_backend:OpenAIBackend")
    assert sorted(registry.names()) == ["builtin", "missing", "replayed"]
    entry = registry.entry("replayed")
    assert not entry.builtin and entry.lazy and entry.help == "from an installed distribution"
    assert registry.get("replayed").__name__ == "ReplayBackend"
    with pytest.raises(RegistryError, match="LLM backend 'missing' cannot be imported"):
        registry.get("missing")  # a broken plugin fails when used, not when others are


def test_an_entry_point_cannot_replace_a_builtin(fresh, monkeypatch):
    points(monkeypatch, "test.group", Thing="json:dumps")
    registry: Registry[object] = Registry("thing", loose=True, entry_points="test.group")
    registry.register("thing", "json:loads")
    with pytest.warns(UserWarning, match=r"entry point 'Thing' \(test.group, an installed distribution\) ignored: "
                                         r"cannot register thing 'Thing': a built-in thing 'thing' has that name"):
        assert registry.names() == ["thing"]
    assert registry.get("THING").__name__ == "loads"


def test_the_baselines_read_the_adapters_spec_from_the_same_group(fresh, monkeypatch):
    from ovmer.describe.registry import ADAPTER_ENTRY_POINTS, BASELINES

    assert BASELINES.entry_point_group == ADAPTER_ENTRY_POINTS
    assert BASELINES.entry_point_target("pkg.mod:Adapter") == "pkg.mod:Adapter.spec"


def test_an_included_file_registers_a_backend(fresh, tmp_path):
    path = tmp_path / "parrot_backend.py"
    path.write_text(BACKEND_SOURCE)
    (module,) = plugins.include(path)
    assert module.__name__ == "parrot_backend" and BACKENDS.get("parrot") is module.Parrot
    assert not BACKENDS.entry("parrot").builtin
    assert os.environ[plugins.INCLUDE_ENV] == str(path)
    assert plugins.include(path) == [module] and plugins.included_files() == [path]  # once per process


def test_the_environment_brings_the_same_files_into_a_new_process(fresh, tmp_path, monkeypatch):
    path = tmp_path / "parrot_backend.py"
    path.write_text(BACKEND_SOURCE)
    monkeypatch.setenv(plugins.INCLUDE_ENV, str(path))
    BACKENDS._plugins_read = False  # as in a fresh process
    assert "parrot" in BACKENDS  # the first lookup reads OVMER_INCLUDE
    assert plugins.included_files() == [path]


def test_a_user_file_cannot_take_a_builtin_name(fresh, tmp_path):
    path = tmp_path / "impostor.py"
    path.write_text(BACKEND_SOURCE.replace('BACKENDS.register("parrot"', 'BACKENDS.register("openai"'))
    with pytest.raises(OvmerError, match=r"impostor.py: cannot register LLM backend 'openai': a built-in LLM "
                                         r"backend 'openai' has that name"):
        plugins.include(path)
    assert BACKENDS.get("openai").__name__ == "OpenAIBackend"
    assert "impostor" not in sys.modules  # nothing half-imported is left behind


def test_a_folder_is_imported_in_name_order_and_siblings_share_modules(fresh, tmp_path):
    (tmp_path / "b_parrot.py").write_text(BACKEND_SOURCE)
    (tmp_path / "a_helper.py").write_text("ORDER = []\nORDER.append('a')\n")
    (tmp_path / "c_user.py").write_text("import a_helper\nimport b_parrot\na_helper.ORDER.append('c')\n")
    modules = plugins.include(tmp_path)
    assert [m.__name__ for m in modules] == ["a_helper", "b_parrot", "c_user"]
    assert modules[0].ORDER == ["a", "c"]


def test_a_file_named_like_an_installed_module_does_not_shadow_it(fresh, tmp_path):
    path = tmp_path / "numpy.py"
    path.write_text("SHADOW = True\n")
    (module,) = plugins.include(path)
    assert module.__name__.startswith(plugins.MODULE_PREFIX) and not hasattr(sys.modules["numpy"], "SHADOW")


@pytest.mark.parametrize(
    ("name", "text", "message"),
    [
        ("notes.txt", "", "notes.txt: not a Python file (.py)"),
        ("broken.py", "import json\njson.loads('{')\n", "broken.py: importing it failed at broken.py:2: JSONDecodeError"),
        ("syntax.py", "def f(:\n", "syntax.py: importing it failed at"),
    ],
)
def test_bad_paths_and_failing_code_are_one_line_errors(fresh, tmp_path, name, text, message):
    path = tmp_path / name
    path.write_text(text)
    with pytest.raises(plugins.IncludeError) as caught:
        plugins.include(path)
    assert str(caught.value).startswith(f"--include {tmp_path}/{message}") and "\n" not in str(caught.value)


def test_missing_and_empty_folders(fresh, tmp_path):
    with pytest.raises(plugins.IncludeError, match="no such file or folder"):
        plugins.include(tmp_path / "absent")
    with pytest.raises(plugins.IncludeError, match="the folder holds no .py files"):
        plugins.include(tmp_path)


def test_register_adapter_makes_a_baseline(fresh, monkeypatch):
    from ovmer.describe import BaselineSpec, DescribeAdapter, register_adapter
    from ovmer.describe.registry import ADAPTERS, BASELINES, create_adapter

    for registry in (BASELINES, ADAPTERS):
        monkeypatch.setattr(registry, "_entries", dict(registry._entries))

    class Mine(DescribeAdapter):
        spec = BaselineSpec(name="mine", modalities=frozenset({"audio", "text"}), run="native", checkpoint="me")

        def load(self) -> None:
            pass

        def describe(self, message) -> str:
            return "x"

    assert register_adapter(Mine) is Mine
    assert isinstance(create_adapter("MINE"), Mine) and not BASELINES.entry("mine").builtin
    with pytest.raises(RegistryError, match="an already registered baseline 'mine'"):
        register_adapter(Mine)
    with pytest.raises(OvmerError, match="Mine.spec.run is 'external'"):
        Mine.spec = BaselineSpec(name="other", modalities=frozenset({"audio"}), run="external", checkpoint="me")
        register_adapter(Mine)


def test_the_cli_takes_include_anywhere():
    from ovmer.cli import _take_includes

    assert _take_includes(["--include", "a.py", "describe", "--include=b", "--x", "1", "--", "--include", "c"]) == (
        ["a.py", "b"], ["describe", "--x", "1", "--", "--include", "c"])
    with pytest.raises(OvmerError, match="--include needs a PATH"):
        _take_includes(["describe", "--include"])
