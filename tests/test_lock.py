"""poetry.lock installs from wheels on every Python the project supports, on every platform the README
promises: no student has to compile numpy or scipy from source because one package lacks a wheel.

The supported Pythons come from pyproject's ``requires-python`` (one place). For each of them and each
platform below, the test evaluates every lock entry's environment markers the way the installer does
(nvidia-* and triton are locked for Linux x86_64 only, colorama for Windows only, ...) and asks, for each
package that ships compiled wheels, whether one of its wheels fits. "Fits" uses ``packaging.tags``, the
rules pip itself follows: a cp314 wheel, an abi3 wheel built for an older CPython, or a py3-none wheel
counts; manylinux wheels count up to the glibc below, macOS wheels (arm64 or universal2) up to the macOS
version below; musllinux wheels do not count (the Linux target is a glibc distribution). Packages that
publish only an sdist or only ``py3-none-any`` wheels are pure Python and need nothing.
"""

import copy
import tomllib
from collections import defaultdict
from pathlib import Path
from typing import NamedTuple

import pytest
from packaging.markers import Marker
from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.tags import Tag, compatible_tags, cpython_tags, mac_platforms
from packaging.utils import parse_wheel_filename

ROOT = Path(__file__).resolve().parents[1]

GLIBC = (2, 28)  # oldest glibc covered (Debian 10, RHEL/AlmaLinux 8, Ubuntu 20.04+): torch's wheels need it
MACOS = (14, 0)  # oldest macOS covered, 14 Sonoma: torch 2.10's Python 3.14 wheel needs it
Pythons = list[tuple[int, int]]  # [(3, 11), (3, 12), ...]


class Platform(NamedTuple):
    name: str
    markers: dict[str, str]  # PEP 508 marker values of a CPython on this platform, less the Python version
    platform_tags: list[str]  # wheel platform tags an installer accepts there, most specific first


def _manylinux(arch: str) -> list[str]:
    """manylinux_2_28_x86_64 ... manylinux_2_0_x86_64, plus the legacy names that alias some of them."""
    tags = [f"manylinux_{GLIBC[0]}_{minor}_{arch}" for minor in range(GLIBC[1], -1, -1)]
    legacy = {"manylinux2014": 17, "manylinux2010": 12, "manylinux1": 5}
    for name, minor in legacy.items():
        if GLIBC[1] >= minor and (name == "manylinux2014" or arch in ("x86_64", "i686")):
            tags.append(f"{name}_{arch}")
    return tags


def _markers(system: str, sys_platform: str, machine: str, os_name: str = "posix") -> dict[str, str]:
    return {
        "os_name": os_name, "sys_platform": sys_platform, "platform_system": system,
        "platform_machine": machine, "implementation_name": "cpython",
        "platform_python_implementation": "CPython", "platform_release": "", "platform_version": "",
    }


PLATFORMS = [
    Platform("Linux x86_64", _markers("Linux", "linux", "x86_64"), _manylinux("x86_64")),
    Platform("Linux aarch64", _markers("Linux", "linux", "aarch64"), _manylinux("aarch64")),
    Platform("macOS arm64", _markers("Darwin", "darwin", "arm64"), list(mac_platforms(MACOS, "arm64"))),
    Platform("Windows amd64", _markers("Windows", "win32", "AMD64", os_name="nt"), ["win_amd64"]),
]


# ----- what the project supports --------------------------------------------------------------------------
def supported_pythons(requires_python: str) -> Pythons:
    """The CPython 3.x minor versions a ``requires-python`` range admits: ">=3.11,<3.15" -> 3.11 ... 3.14."""
    spec = SpecifierSet(requires_python)
    if spec.contains("3.99"):
        raise ValueError(f"requires-python {requires_python!r} needs an upper bound to say what is supported")
    return [(3, minor) for minor in range(100) if spec.contains(f"3.{minor}")]


def project_pythons() -> Pythons:
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())
    return supported_pythons(pyproject["project"]["requires-python"])


# ----- what the lock installs where -----------------------------------------------------------------------
def marker_environment(python: tuple[int, int], platform: Platform) -> dict[str, str]:
    version = f"{python[0]}.{python[1]}"
    return {**platform.markers, "python_version": version, "python_full_version": f"{version}.0",
            "implementation_version": f"{version}.0", "extra": ""}


def is_installed(package: dict, environment: dict[str, str]) -> bool:
    """Whether `poetry install` (all groups) installs this lock entry in this environment."""
    markers = package.get("markers")
    if isinstance(markers, dict):  # one marker per dependency group (a group left out: no condition)
        groups = package.get("groups", list(markers))
        return any(g not in markers or Marker(markers[g]).evaluate(environment) for g in groups)
    return markers is None or Marker(markers).evaluate(environment)


def _wheel_tags(package: dict) -> list[frozenset[Tag]]:
    return [parse_wheel_filename(f["file"])[3] for f in package.get("files", []) if f["file"].endswith(".whl")]


def is_compiled(package: dict) -> bool:
    """Whether the package ships platform-specific wheels (pure-Python ones publish py3-none-any or sdists)."""
    return any(tag.platform != "any" for tags in _wheel_tags(package) for tag in tags)


def accepted_tags(python: tuple[int, int], platform: Platform) -> set[Tag]:
    cp = f"cp{python[0]}{python[1]}"
    return set(cpython_tags(python, abis=[cp], platforms=platform.platform_tags)) | set(
        compatible_tags(python, cp, platform.platform_tags))


def missing_wheels(lock: dict, pythons: Pythons, platforms: list[Platform] = PLATFORMS) -> list[str]:
    """One line per locked package that some supported Python on some platform would build from source
    (or could not install at all, when the package's own requires-python excludes that Python)."""
    gaps: dict[str, list[str]] = defaultdict(list)
    for python in pythons:
        version = f"{python[0]}.{python[1]}"
        for platform in platforms:
            environment, accepted = marker_environment(python, platform), accepted_tags(python, platform)
            for package in lock["package"]:
                if not is_installed(package, environment):
                    continue
                key = f"{package['name']} {package['version']}"
                if not _supports_python(package, version):
                    gaps[key].append(f"{version} (requires-python {package['python-versions']})")
                elif is_compiled(package) and not any(tags & accepted for tags in _wheel_tags(package)):
                    gaps[key].append(f"{version} {platform.name}")
    return [f"{key}: no wheel for Python {', '.join(where)}" for key, where in gaps.items()]


def _supports_python(package: dict, version: str) -> bool:
    try:
        return SpecifierSet(package.get("python-versions", "").replace("*", "")).contains(f"{version}.0")
    except InvalidSpecifier:  # a Poetry-style constraint packaging cannot read: the markers decide
        return True


def overlapping_versions(lock: dict, pythons: Pythons, platforms: list[Platform] = PLATFORMS) -> list[str]:
    """Packages locked in two versions that would both be installed in one environment (the second
    overwrites the first's files: how Poetry's cuda-toolkit handling broke `import torch`)."""
    found = set()
    for python in pythons:
        for platform in platforms:
            environment = marker_environment(python, platform)
            versions = defaultdict(list)
            for package in lock["package"]:
                if is_installed(package, environment):
                    versions[package["name"]].append(package["version"])
            found |= {f"{name} {' and '.join(v)} on Python {python[0]}.{python[1]} {platform.name}"
                      for name, v in versions.items() if len(v) > 1}
    return sorted(found)


# ----- the project's own lock -----------------------------------------------------------------------------
@pytest.fixture(scope="module")
def lock() -> dict:
    return tomllib.loads((ROOT / "poetry.lock").read_text())


def test_lock_was_resolved_for_the_supported_pythons(lock):
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())
    assert lock["metadata"]["python-versions"] == pyproject["project"]["requires-python"], "re-run `poetry lock`"


def test_every_compiled_package_has_a_wheel_for_every_supported_python_and_platform(lock):
    assert project_pythons(), "requires-python admits no Python 3 version"
    assert missing_wheels(lock, project_pythons()) == []


def test_no_package_is_locked_twice_for_one_environment(lock):
    assert overlapping_versions(lock, project_pythons()) == []


# ----- the checker itself, on doctored lock entries -------------------------------------------------------
def entry(name: str, *wheels: str, markers=None, python_versions: str = ">=3.9", version: str = "1.0") -> dict:
    stem = f"{name.replace('-', '_')}-{version}"
    files = [{"file": f"{stem}-{w}.whl", "hash": ""} for w in wheels] + [{"file": f"{stem}.tar.gz", "hash": ""}]
    package = {"name": name, "version": version, "python-versions": python_versions, "files": files}
    if markers is not None:
        package["markers"] = markers
    return package


PY311_TO_313 = [f"cp3{m}-cp3{m}-{p}" for m in (11, 12, 13) for p in (
    "manylinux_2_17_x86_64.manylinux2014_x86_64", "manylinux_2_17_aarch64.manylinux2014_aarch64",
    "macosx_11_0_arm64", "win_amd64")]


def test_the_real_lock_with_one_wheel_removed_fails(lock):
    doctored = copy.deepcopy(lock)
    newest = max(project_pythons())
    numpy = next(p for p in doctored["package"] if p["name"] == "numpy")
    cp = f"cp{newest[0]}{newest[1]}"
    numpy["files"] = [f for f in numpy["files"] if not f["file"].endswith(f"-{cp}-{cp}-win_amd64.whl")]
    assert missing_wheels(doctored, project_pythons()) == [
        f"numpy {numpy['version']}: no wheel for Python {newest[0]}.{newest[1]} Windows amd64"]


def test_supported_pythons_follow_requires_python():
    assert supported_pythons(">=3.11,<3.15") == [(3, 11), (3, 12), (3, 13), (3, 14)]
    assert supported_pythons(">=3.10,<3.14") == [(3, 10), (3, 11), (3, 12), (3, 13)]
    with pytest.raises(ValueError, match="upper bound"):
        supported_pythons(">=3.11")


def test_a_package_without_wheels_for_the_newest_python_is_reported():
    lock = {"package": [entry("numpy", *PY311_TO_313, version="2.2.6")]}
    assert missing_wheels(lock, [(3, 13)]) == []
    assert missing_wheels(lock, [(3, 13), (3, 14)]) == [
        "numpy 2.2.6: no wheel for Python 3.14 Linux x86_64, 3.14 Linux aarch64, 3.14 macOS arm64, "
        "3.14 Windows amd64"]


def test_a_missing_platform_is_reported_and_only_that_one():
    wheels = [w for w in PY311_TO_313 if "aarch64" not in w]
    assert missing_wheels({"package": [entry("scipy", *wheels)]}, [(3, 12)]) == [
        "scipy 1.0: no wheel for Python 3.12 Linux aarch64"]


def test_a_package_excluded_by_its_requires_python_is_reported():
    lock = {"package": [entry("old", "py3-none-any", python_versions=">=3.9,<3.14")]}
    assert missing_wheels(lock, [(3, 14)], PLATFORMS[:1]) == [
        "old 1.0: no wheel for Python 3.14 (requires-python >=3.9,<3.14)"]


@pytest.mark.parametrize("wheels", [
    [],  # sdist only
    ["py3-none-any"],
    ["cp311-abi3-manylinux_2_17_x86_64.manylinux2014_x86_64", "cp311-abi3-manylinux_2_28_aarch64",
     "cp311-abi3-macosx_10_12_universal2", "cp311-abi3-win_amd64"],
    ["py3-none-manylinux1_x86_64", "py3-none-manylinux2014_aarch64", "py3-none-macosx_14_0_arm64",
     "py3-none-win_amd64"],
], ids=["sdist-only", "pure-python", "abi3-universal2", "py3-none-platform"])
def test_wheels_that_fit_every_target(wheels):
    assert missing_wheels({"package": [entry("fine", *wheels)]}, [(3, 11), (3, 14)]) == []


@pytest.mark.parametrize(("wheel", "platform"), [
    ("cp314-cp314-musllinux_1_2_x86_64", "Linux x86_64"),  # musl wheels do not install on glibc
    ("cp314-cp314-manylinux_2_34_x86_64", "Linux x86_64"),  # needs a newer glibc than covered
    ("cp314-cp314-macosx_15_0_arm64", "macOS arm64"),  # needs a newer macOS than covered
    ("cp314-cp314-macosx_10_13_x86_64", "macOS arm64"),  # Intel-only
    ("cp314-cp314t-win_amd64", "Windows amd64"),  # free-threaded build only
    ("cp314-cp314-win_arm64", "Windows amd64"),
])
def test_wheels_that_do_not_fit(wheel, platform):
    target = [p for p in PLATFORMS if p.name == platform]
    assert missing_wheels({"package": [entry("bad", wheel)]}, [(3, 14)], target) == [
        f"bad 1.0: no wheel for Python 3.14 {platform}"]


def test_markers_limit_where_a_package_is_needed():
    linux_x86 = 'platform_system == "Linux" and platform_machine == "x86_64"'
    cuda = entry("nvidia-cublas-cu12", "py3-none-manylinux_2_27_x86_64", markers=linux_x86)
    windows = entry("colorama", "cp311-abi3-win_amd64", markers={"main": 'platform_system == "Windows"'})
    windows["groups"] = ["main"]
    new_only = entry("audioop-lts", "cp313-abi3-manylinux_2_17_x86_64", "cp313-abi3-manylinux_2_17_aarch64",
                     "cp313-abi3-macosx_11_0_arm64", "cp313-abi3-win_amd64", markers='python_version >= "3.13"')
    assert missing_wheels({"package": [cuda, windows, new_only]}, [(3, 11), (3, 14)]) == []
    cuda.pop("markers")  # the same wheel, needed everywhere: reported on the three other platforms
    assert missing_wheels({"package": [cuda]}, [(3, 14)]) == [
        "nvidia-cublas-cu12 1.0: no wheel for Python 3.14 Linux aarch64, 3.14 macOS arm64, 3.14 Windows amd64"]
    windows["groups"] = ["main", "dev"]  # no marker for dev: the dev group installs it everywhere
    assert missing_wheels({"package": [windows]}, [(3, 11)]) == [
        "colorama 1.0: no wheel for Python 3.11 Linux x86_64, 3.11 Linux aarch64, 3.11 macOS arm64"]


def test_two_versions_installed_together_are_reported():
    linux_x86 = 'platform_system == "Linux" and platform_machine == "x86_64"'
    first = entry("nvidia-cublas", "py3-none-manylinux_2_27_x86_64", version="13.0.0", markers=linux_x86)
    second = entry("nvidia-cublas", "py3-none-manylinux_2_27_x86_64", version="13.1.0",
                   markers=f'{linux_x86} and python_version >= "3.12"')
    assert overlapping_versions({"package": [first, second]}, [(3, 11), (3, 12)]) == [
        "nvidia-cublas 13.0.0 and 13.1.0 on Python 3.12 Linux x86_64"]
    first["markers"] = f'{linux_x86} and python_version < "3.12"'  # disjoint: one version per Python
    assert overlapping_versions({"package": [first, second]}, [(3, 11), (3, 12)]) == []
