"""The package as a user gets it: the wheel and sdist built, checked, installed into a fresh virtual
environment, and run from there (the command, the shipped examples, the types a user's mypy sees)."""

from __future__ import annotations

import email.parser
import os
import subprocess
import sys
import sysconfig
import tarfile
import venv
import zipfile
from pathlib import Path

import pytest

import derive
from derive.cli import DISTRIBUTION
from derive.exercise import examples

ROOT = Path(__file__).resolve().parent.parent
SPECS = sorted((ROOT / "examples").glob("*.toml"))
BUILT_IN = ROOT / "derive" / "examples" / "backprop.toml"
TEMPLATES = sorted(p.relative_to(ROOT).as_posix() for p in (ROOT / "templates").rglob("*") if p.is_file())


def _env() -> dict[str, str]:
    """The environment of a user's shell: no PYTHONPATH leading to this checkout."""
    return {name: value for name, value in os.environ.items() if name != "PYTHONPATH"}


@pytest.fixture(scope="module")
def dist(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """The wheel and the sdist, built as a release would be (the wheel from the sdist)."""
    pytest.importorskip("build", reason="the dev extras (build, hatchling) are not installed")
    pytest.importorskip("hatchling", reason="the dev extras (build, hatchling) are not installed")
    out = tmp_path_factory.mktemp("dist")
    command = [sys.executable, "-m", "build", "--no-isolation", "--outdir", str(out), str(ROOT)]
    result = subprocess.run(command, capture_output=True, text=True, env=_env(), cwd=out, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    (wheel,) = out.glob("*.whl")
    (sdist,) = out.glob("*.tar.gz")
    return wheel, sdist


@pytest.fixture(scope="module")
def installed(dist: tuple[Path, Path], tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh virtual environment with the wheel installed (``--no-deps``): its bin folder. SymPy and
    the other dependencies, and mypy, come from the environment running the tests, whose site-packages
    a .pth file appends (after the environment's own, so derive is the installed wheel's)."""
    home = tmp_path_factory.mktemp("venv")
    venv.EnvBuilder(with_pip=False).create(home)
    python = home / ("Scripts" if os.name == "nt" else "bin") / "python"
    own = subprocess.run(
        [python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    outer = {sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]}
    Path(own, "outer.pth").write_text("\n".join(sorted(outer)) + "\n", encoding="utf-8")
    install = [python, "-m", "pip", "install", "-q", "--no-deps", "--no-index", "--disable-pip-version-check"]
    result = subprocess.run([*install, dist[0]], capture_output=True, text=True, env=_env(), cwd=home, timeout=300)
    assert result.returncode == 0, result.stderr
    return python.parent


def _run(bin: Path, *args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([bin / args[0], *args[1:]], capture_output=True, text=True, env=_env(), cwd=cwd, timeout=300)


def test_the_wheel_holds_the_package_its_types_templates_examples_and_licence(dist: tuple[Path, Path]) -> None:
    names = set(zipfile.ZipFile(dist[0]).namelist())
    info = f"derive_nn-{derive.__version__}.dist-info"
    assert {"derive/__init__.py", "derive/cli.py", "derive/py.typed", f"{info}/licenses/LICENSE"} <= names
    assert {f"derive/{name}" for name in TEMPLATES} <= names
    assert {f"derive/examples/{spec.name}" for spec in [*SPECS, BUILT_IN]} <= names
    assert len(SPECS) > 30
    assert not any(name.startswith(("tests/", "examples/", "templates/")) for name in names)


def test_the_metadata_names_derive_nn_its_version_licence_and_classifiers(dist: tuple[Path, Path]) -> None:
    archive = zipfile.ZipFile(dist[0])
    meta = email.parser.Parser().parsestr(
        archive.read(f"derive_nn-{derive.__version__}.dist-info/METADATA").decode("utf-8")
    )
    assert meta["Name"] == DISTRIBUTION == "derive-nn"
    assert meta["Version"] == derive.__version__
    assert meta["License-Expression"] == "MIT"
    classifiers = meta.get_all("Classifier")
    assert {"Typing :: Typed", "Intended Audience :: Education", "Programming Language :: Python :: 3.11"} <= set(
        classifiers
    )
    trove = pytest.importorskip("trove_classifiers")
    assert set(classifiers) <= trove.classifiers  # every one is a real classifier
    assert any(need.startswith("platformdirs") for need in meta.get_all("Requires-Dist"))
    entry_points = archive.read(f"derive_nn-{derive.__version__}.dist-info/entry_points.txt").decode()
    assert "derive = derive.cli:run" in entry_points


def test_the_sdist_holds_what_builds_and_tests_the_package(dist: tuple[Path, Path]) -> None:
    top = f"derive_nn-{derive.__version__}"
    with tarfile.open(dist[1]) as archive:
        names = set(archive.getnames())
    needed = ["LICENSE", "README.md", "pyproject.toml", "derive/py.typed", "tests/test_package.py", *TEMPLATES]
    assert {f"{top}/{name}" for name in needed} <= names
    assert {f"{top}/examples/{spec.name}" for spec in SPECS} <= names
    assert not any("/output/" in name or "__pycache__" in name for name in names)


def test_twine_finds_the_wheel_and_sdist_fit_for_pypi(dist: tuple[Path, Path]) -> None:
    pytest.importorskip("twine", reason="twine (a dev extra) is not installed")
    command = [sys.executable, "-m", "twine", "check", "--strict", *map(str, dist)]
    result = subprocess.run(command, capture_output=True, text=True, env=_env(), timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.count("PASSED") == 2


def test_the_installed_command_says_its_version_and_distribution(installed: Path, tmp_path: Path) -> None:
    result = _run(installed, "python", "-c", "import derive; print(derive.__file__)", cwd=tmp_path)
    assert Path(result.stdout.strip()).is_relative_to(installed.parent)  # the wheel's, not this checkout's
    result = _run(installed, "derive", "--version", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout == f"derive {derive.__version__} (derive-nn)\n"


def test_the_installed_command_lists_every_example(installed: Path, tmp_path: Path) -> None:
    result = _run(installed, "derive", "example", "--list", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert [line.split()[0] for line in lines] == ["backprop", *(spec.stem for spec in SPECS)]
    for line, spec in zip(lines, [BUILT_IN, *SPECS], strict=True):
        assert line.split(maxsplit=1)[1] == examples.summary(spec)
        assert spec.read_text(encoding="utf-8").startswith(f"# {examples.summary(spec)}")  # the first comment's


def test_the_installed_command_prints_the_shipped_schemas(installed: Path, tmp_path: Path) -> None:
    from derive.schema.generate import generated

    for which, text in generated().items():
        result = _run(installed, "derive", "schema", which, cwd=tmp_path)
        assert result.returncode == 0, result.stderr
        assert result.stdout == text


def test_the_installed_command_prints_and_builds_a_named_example(installed: Path, tmp_path: Path) -> None:
    spec = ROOT / "examples" / "optimizer_adam.toml"
    result = _run(installed, "derive", "example", "optimizer_adam", "--toml", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout == spec.read_text(encoding="utf-8")
    result = _run(installed, "derive", "example", "--toml", cwd=tmp_path)
    assert result.stdout == BUILT_IN.read_text(encoding="utf-8")
    # Built from the install alone (its templates, its spec), in a folder far from this checkout.
    result = _run(installed, "derive", "example", "loss_cross_entropy", "-o", "out", "--no-pdf", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    # The same sheets as this checkout builds from examples/ (its templates, its catalogue words).
    spec = ROOT / "examples" / "loss_cross_entropy.toml"
    command = [sys.executable, "-m", "derive", "sheet", str(spec), "-o", "here", "--no-pdf"]
    here = subprocess.run(command, capture_output=True, text=True, cwd=tmp_path, timeout=300)
    assert here.returncode == 0, here.stderr
    for name in ("exercise.tex", "solution.tex", "answers.json"):
        file = f"loss_cross_entropy-{name}"
        assert (tmp_path / "out" / file).read_bytes() == (tmp_path / "here" / file).read_bytes()


def test_an_unknown_example_is_one_line_with_the_closest_name(installed: Path, tmp_path: Path) -> None:
    result = _run(installed, "derive", "example", "optimiser_adam", cwd=tmp_path)
    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr == (
        "derive: error: no example is named 'optimiser_adam'; did you mean optimizer_adam?"
        " (derive example --list names them all)\n"
    )
    result = _run(installed, "derive", "example", "nothing_like_it", cwd=tmp_path)
    assert (result.returncode, result.stderr.count("\n"), "did you mean" in result.stderr) == (2, 1, False)


def test_mypy_sees_the_installed_packages_types(installed: Path, tmp_path: Path) -> None:
    pytest.importorskip("mypy", reason="mypy (a dev extra) is not installed")
    script = tmp_path / "user.py"
    script.write_text(
        "import derive\n\n"
        "version: int = derive.__version__\n"
        "solution = derive.solve(derive.load_example())\n"
        "reveal_type(solution)\n",
        encoding="utf-8",
    )
    cache = tmp_path / "mypy-cache"
    result = _run(installed, "python", "-m", "mypy", "--cache-dir", str(cache), "user.py", cwd=tmp_path)
    assert "py.typed" not in result.stdout and "missing library stubs" not in result.stdout, result.stdout
    assert 'user.py:3: error: Incompatible types in assignment (expression has type "str"' in result.stdout
    assert 'user.py:5: note: Revealed type is "derive.maths.steps.Solution"' in result.stdout
    assert result.stdout.endswith("Found 1 error in 1 file (checked 1 source file)\n")


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the XDG rules are Linux's")
def test_the_caches_and_their_key_follow_the_xdg_rules(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from derive.pdf.formats import default_cache
    from derive.render.sealed import key_file

    monkeypatch.setenv("HOME", str(tmp_path))
    for unset in ("", "relative/cache"):  # a relative path is no XDG folder: the default stands
        monkeypatch.setenv("XDG_CACHE_HOME", unset)
        monkeypatch.setenv("XDG_STATE_HOME", unset.replace("cache", "state"))
        assert default_cache() == tmp_path / ".cache" / "derive" / "formats"
        assert key_file() == tmp_path / ".local" / "state" / "derive" / "cache-key"
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "c"))
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "s"))
    assert default_cache() == tmp_path / "c" / "derive" / "formats"
    assert key_file() == tmp_path / "s" / "derive" / "cache-key"


def test_an_example_is_found_by_its_name_or_file_name_in_a_checkout() -> None:
    adam = ROOT / "examples" / "optimizer_adam.toml"
    assert examples.find("optimizer_adam") == examples.find("optimizer_adam.toml") == adam
    assert examples.find(examples.DEFAULT) == BUILT_IN
    assert list(examples.examples()) == ["backprop", *(spec.stem for spec in SPECS)]
    with pytest.raises(LookupError, match=r"^no example is named '\.\./examples/no_bias'"):
        examples.find("../examples/no_bias")
