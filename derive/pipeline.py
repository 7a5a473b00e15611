"""The whole pipeline in one function: spec → derivation → verification → LaTeX → PDF files."""

from __future__ import annotations

import contextlib
import errno
import json
import math
import os
import re
import secrets
import shutil
import stat
import tempfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path, PurePosixPath

from derive.budget import Budget, check_seconds
from derive.errors import SpecError
from derive.exercise import reader
from derive.exercise.check import check, expect
from derive.exercise.model import LANGUAGES, Spec
from derive.kinds import KINDS
from derive.maths.derivation import Derivation
from derive.maths.solve import outline, solver
from derive.maths.steps import Solution
from derive.pdf import processes
from derive.pdf.compile import Pdf
from derive.pdf.formats import default_cache
from derive.pdf.typeset import Typesetter
from derive.render import sealed
from derive.render.answers import answers, answers_csv, answers_json
from derive.render.context import Context, sheet_context
from derive.render.fragments import fragments, value_macros
from derive.render.pieces import SolutionPieces
from derive.render.reproduce import Redone
from derive.render.templates import render_exercise, render_solution
from derive.tex.style import Style
from derive.verify.gate import Report, verify


@dataclass(frozen=True)
class Options:
    """How a sheet is built; passed explicitly, never global."""

    output_dir: Path = Path("output")
    decimals: int | None = None
    """Places of decimals on the sheets; None keeps the spec's ``sheet.decimals``."""
    pdf: bool = True
    """Compile the PDFs (the .tex and answers are written either way)."""
    timeout: float = 60.0
    """Seconds one pdflatex run may take."""
    templates: tuple[Path, ...] = ()
    """User template folders, searched before the built-in ones."""
    language: str | None = None
    """"en" or "de"; None keeps the spec's ``sheet.language``."""
    formats: Path | None = field(default_factory=default_cache)
    """Folder of cached TeX formats of the preamble (:mod:`derive.pdf.formats`); None: no cache."""
    compiled: Path | None = field(default_factory=lambda: default_cache().parent / "templates")
    """Folder of compiled templates (Jinja's bytecode cache: a cold build skips compiling them);
    None: compile in every process."""
    max_seconds: float = 120.0
    """Seconds the derivation, the verification and the rendering may take together (waiting for TeX
    is bounded by ``timeout``); past them the build stops with a :class:`BudgetError` naming the part."""
    logo_from: tuple[Path, ...] = ()
    """Folders a logo may also come from, besides the spec file's own folder (and below): a spec
    given as text (:func:`parse_spec`) has no folder, so its logo needs one of these."""

    def __post_init__(self) -> None:
        # Checked and converted here, before any work: a str path is a path (not a folder per letter),
        # and a bad number is one ValueError naming the option, not a failure after the derivation.
        paths = {"output_dir": self.output_dir, "formats": self.formats, "compiled": self.compiled}
        for name, value in paths.items():
            if value is not None and not isinstance(value, str | os.PathLike):
                raise TypeError(f"{name}: expected a folder (str or Path), not {type(value).__name__}")
            object.__setattr__(self, name, None if value is None else Path(value))
        for name in ("templates", "logo_from"):
            object.__setattr__(self, name, folders(name, getattr(self, name)))
        if not isinstance(self.pdf, bool):
            raise TypeError(f"pdf: expected True or False, not {type(self.pdf).__name__}")
        if self.language is not None and self.language not in LANGUAGES:
            raise ValueError(f"language: expected one of {', '.join(LANGUAGES)}, found {self.language!r}")
        if isinstance(self.timeout, bool):
            raise TypeError("timeout: expected seconds, not bool")
        if not (isinstance(self.timeout, int | float) and math.isfinite(self.timeout)):
            raise ValueError(f"timeout: expected seconds from 1 to {MAX_TIMEOUT:g}, found {self.timeout!r}")
        if not 1 <= self.timeout <= MAX_TIMEOUT:
            raise ValueError(f"timeout: expected seconds from 1 to {MAX_TIMEOUT:g}, found {self.timeout:g}")
        if self.decimals is not None and not (
            isinstance(self.decimals, int) and not isinstance(self.decimals, bool) and 0 <= self.decimals <= 12
        ):
            raise ValueError(f"decimals: expected a whole number from 0 to 12, found {self.decimals!r}")
        object.__setattr__(self, "max_seconds", check_seconds("max_seconds", self.max_seconds))


MAX_TIMEOUT = 3600.0
"""Longest a single LaTeX run may be allowed (an hour; a sheet takes seconds)."""


def folders(name: str, value: object) -> tuple[Path, ...]:
    """One folder (str or Path) or a sequence of them, as paths: a str is one folder, never one per letter."""
    items = (value,) if isinstance(value, str | os.PathLike) else value
    if not isinstance(items, Sequence) or not all(isinstance(item, str | os.PathLike) for item in items):
        raise TypeError(f"{name}: expected a folder (str or Path) or a sequence of them, not {type(value).__name__}")
    return tuple(Path(item) for item in items)


@dataclass(frozen=True)
class Built:
    """What a build wrote, and what the verification gate checked."""

    files: tuple[Path, ...]
    report: Report
    solution: Solution
    """The verified derivation the files were made from (look quantities up by answer key)."""
    warnings: tuple[str, ...] = field(default=())
    """What a reader of the PDFs would notice that did not stop the build: lines run into the margin;
    and a cache folder not used because other users could change it."""
    redone: Redone = field(default=Redone())
    """The solution sheet's substituted lines, and which of them redo from the numbers they show."""


def load_spec(path: str | Path) -> Spec:
    """Read and validate a spec file; raises :class:`SpecError` naming the field on bad input."""
    return reader.load_spec(path, KINDS)


def parse_spec(text: str, *, name: str = "exercise", source: str = "spec") -> Spec:
    """Validate spec TOML ``text``; ``name`` becomes the output file stem (letters, digits, spaces and
    ``- _ . , + ( )``, never a path). A spec given as text has no folder: its logo needs
    :attr:`Options.logo_from`."""
    expect(text, str, "parse_spec: text", "the spec's TOML as a str")
    return reader.parse_spec(text, KINDS, name=name, source=source)


def load_example() -> Spec:
    """The built-in example: the seed exercise sheet on backpropagation."""
    return reader.load_example(KINDS)


def build_sheet(spec: Spec | str | Path, options: Options = Options()) -> Built:
    """Build the exercise sheet, the solution sheet, their .tex sources, the answers, the value macros
    and the fragments. TeX runs beside the Python work (the PDF stage overlaps them); nothing reaches
    the output folder unless the verification passed and every file is ready.

    The Python work runs within ``options.max_seconds`` (:class:`derive.budget.Budget`): its sections
    end before TeX's are cleaned up, so a stop cleans up TeX unhurried."""
    expect(options, Options, "build_sheet: options", "a derive.Options")
    budget = Budget(options.max_seconds)
    with budget:
        spec = sized(accepted(spec), options)  # TOML (or a model built in Python) → validated model
        options, unshared = own_caches(options)  # no cache that other users can write
        style = Style.of(spec.sheet, options.decimals, options.language)  # places, language, notation
        logo = logo_file(spec, options.logo_from)
    with Typesetter(options.pdf, options.timeout, logo, options.formats) as tex:  # TeX beside the Python
        with budget:
            budget.enter("the exercise sheet")
            derivation = Derivation(spec)  # the exact derivation, part by part as the sheets need them
            sketch = outline(spec, derivation)  # givens and questions: all the exercise sheet needs
            exercise = exercise_sheet(sketch, style, options, logo)
            with budget.shield():  # a TeX run is started whole (its folder made and owned), or not at all
                tex.compile("exercise", exercise)  # TeX starts on it while the solution is derived
            solution, solution_tex, context = solution_sheet(derivation, sketch, style, options, logo, tex, budget)
            budget.enter("the verification")
            report = verify(solution)  # the gate, while TeX runs: float64 engine and finite differences
            budget.enter("the answers and fragments")
            texts = outputs(solution, style, options, context, {"exercise": exercise, "solution": solution_tex})
        pdfs = tex.pdfs(spec.name)  # → PDF (each LaTeX run bounded by options.timeout)
    files = write_all(options.output_dir, confined({**logo, **texts, **pdfs}), spec.name)  # all in place, or none
    tex.missing()  # PDFs asked for but no TeX: the rest is written, the exit status says so
    return Built(files, report, solution, unshared + margin_warnings(pdfs), Redone.of(context["parts"]))


def accepted(spec: object) -> Spec:
    """A spec file read and validated, or a model built in Python validated as the reader would."""
    expect(spec, (Spec, str, os.PathLike), "build_sheet: spec", "a derive.Spec or a spec file's path")
    return check(spec, "build_sheet: spec") if isinstance(spec, Spec) else load_spec(spec)  # type: ignore[arg-type]


def confined(contents: dict[str, bytes]) -> dict[str, bytes]:
    """``contents``, whose every name stays in the output folder: the spec's name was checked when it
    was read, and is checked again here, where the files are written."""
    for name in contents:
        path = Path(name)
        if path.is_absolute() or ".." in path.parts or not name:
            raise SpecError("name", f"{name!r} would be written outside the output folder")
    return contents


def margin_warnings(pdfs: dict[str, Pdf]) -> tuple[str, ...]:
    """A warning for each PDF with lines set wider than the page (a user's template, a huge value)."""
    return tuple(
        f"{name}: {len(wide)} lines run into the margin (up to {max(wide):.0f} pt)"
        if len(wide) > 1
        else f"{name}: 1 line runs into the margin (by {wide[0]:.0f} pt)"
        for name, pdf in pdfs.items()
        if (wide := pdf.margin())
    )


def own_caches(options: Options) -> tuple[Options, tuple[str, ...]]:
    """The options without the cache folders other users could change (what is loaded from a cache
    could change a sheet, or run code), and one warning naming them; the build goes on without."""
    folders = [folder for folder in (options.formats if options.pdf else None, options.compiled) if folder is not None]
    skipped, warning = sealed.untrusted(folders)
    if warning is None:
        return options, ()
    formats = None if options.formats in skipped else options.formats
    compiled = None if options.compiled in skipped else options.compiled
    return replace(options, formats=formats, compiled=compiled), (warning,)


def sized(spec: Spec, options: Options) -> Spec:
    """The spec as this build makes it: refused before any work when its network is too large for a
    readable sheet; under the student policy, carrying the places the options ask for."""
    check_size(spec)
    if spec.sheet.carry is not None and options.decimals is not None:
        # The student policy carries what the sheet shows: the places asked for are the ones rounded to.
        return replace(spec, sheet=replace(spec.sheet, decimals=options.decimals))
    return spec


def exercise_sheet(sketch: Solution, style: Style, options: Options, logo: dict[str, bytes]) -> str:
    """The exercise sheet's source, made from the outline (nothing is derived for it)."""
    context = sheet_context(sketch, style, logo=next(iter(logo), ""))
    return render_exercise(sketch, style, options.templates, context, options.compiled)


def solution_sheet(
    derivation: Derivation,
    sketch: Solution,
    style: Style,
    options: Options,
    logo: dict[str, bytes],
    tex: Typesetter,
    budget: Budget,
) -> tuple[Solution, str, Context]:
    """The solution sheet, its source and its template context: derived part by part while TeX
    typesets each finished part, or (with a user's templates, which may walk the parts more than
    once) derived whole, then rendered and compiled. Each part is a stage of the ``budget``."""
    logo_name = next(iter(logo), "")
    solve = budget.parts(solver(derivation))
    if options.templates:
        parts = tuple(map(solve, sketch.spec.parts))
        solution = Solution(sketch.spec, sketch.givens, parts, sketch.diagram)
        budget.enter("the solution sheet")
        context = sheet_context(solution, style, logo=logo_name)
        text = render_solution(solution, style, options.templates, context, options.compiled)
        with budget.shield():
            tex.compile("solution", text)
        return solution, text, context
    sink = budget.shielded(tex.stream("solution", len(sketch.parts) + 2))  # the head, each part, the tail
    pieces = SolutionPieces(sketch, style, logo_name, solve, sink, options.compiled)
    text = pieces.render()
    with budget.shield():
        tex.finish("solution", text)
    return pieces.solution, text, pieces.context


def outputs(
    solution: Solution, style: Style, options: Options, context: Context, sheets: dict[str, str]
) -> dict[str, bytes]:
    """Every file of a build but the PDFs: both sheets' sources, the answers (JSON, CSV), the value
    macros and the fragments, made from the same verified solution."""
    stem, places = solution.spec.name, style.places
    document = answers(solution, places)
    fragment_texts = fragments(solution, style, options.templates, context, options.compiled)
    return {
        **{f"{stem}-{name}.tex": text.encode() for name, text in sheets.items()},
        f"{stem}-answers.json": answers_json(solution, places, document).encode(),
        f"{stem}-answers.csv": answers_csv(solution, places, document).encode(),
        f"{stem}-values.tex": value_macros(document, style.decimal_mark).encode(),
        **{f"{stem}-fragments/{name}": text.encode() for name, text in fragment_texts.items()},
    }


MAX_LOGO_BYTES = 2_000_000
"""Largest logo read (2 MB: a crest for a title block has tens of KB)."""
LOGO_MAGIC = {".png": b"\x89PNG\r\n\x1a\n", ".jpg": b"\xff\xd8\xff", ".jpeg": b"\xff\xd8\xff", ".pdf": b"%PDF-"}
"""How each image type TeX includes begins: a file named .png must be a PNG."""


def logo_file(spec: Spec, allowed: Sequence[Path] = ()) -> dict[str, bytes]:
    """The spec's logo under the name the sheets include it by (none: empty).

    A spec is untrusted, its logo the one file it names: read only from the spec's folder or below,
    or from a folder in ``allowed`` (symlinks resolved first), only a regular file of at most
    :data:`MAX_LOGO_BYTES` that is the image its suffix says. The name is made of letters, digits
    and hyphens only, so TeX reads it as given.
    """
    if not spec.sheet.logo:
        return {}
    source = Path(spec.sheet.logo)
    suffix = source.suffix.lower()
    if suffix not in LOGO_MAGIC:
        raise SpecError("sheet.logo", f"a logo must be one of {', '.join(LOGO_MAGIC)}; found {source.name!r}")
    roots = [Path(spec.sheet.folder)] if spec.sheet.folder else []
    try:
        file = source.resolve()  # not strict: whether a file outside the allowed folders exists is not told
        if not any(file.is_relative_to(root.resolve()) for root in (*roots, *allowed)):
            where = "the spec's folder" if roots else "a folder allowed for logos (a spec given as text has none)"
            raise SpecError(
                "sheet.logo", f"{source} is not in {where}; allow its folder with --logo-from DIR (Options.logo_from)"
            )
        # Opened without blocking (a FIFO would wait for a writer for ever) and never through a link
        # swapped in since resolving; what was opened is checked, not the name.
        handle = os.open(file, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOFOLLOW", 0))
        try:
            info = os.fstat(handle)
            if not stat.S_ISREG(info.st_mode):
                raise SpecError("sheet.logo", f"{source} is not a regular file")
            if info.st_size > MAX_LOGO_BYTES:
                size = f"{info.st_size} bytes, more than a logo may have (at most {MAX_LOGO_BYTES})"
                raise SpecError("sheet.logo", f"{source} has {size}")
            data = b""
            while len(data) <= MAX_LOGO_BYTES and (chunk := os.read(handle, MAX_LOGO_BYTES + 1 - len(data))):
                data += chunk  # at most one byte past the limit: a file growing meanwhile is still bounded
        finally:
            os.close(handle)
    except OSError as error:
        raise SpecError("sheet.logo", f"cannot read {source}: {error.strerror or error}") from None
    if len(data) > MAX_LOGO_BYTES:
        raise SpecError(
            "sheet.logo", f"{source} grew past {MAX_LOGO_BYTES} bytes while read, more than a logo may have"
        )
    if not data.startswith(LOGO_MAGIC[suffix]):
        raise SpecError("sheet.logo", f"{source} is not a {suffix[1:].upper()} image (its first bytes say otherwise)")
    return {f"{_safe(spec.name)}-logo{suffix}": data}


def _safe(name: str) -> str:
    """``name`` in letters, digits and hyphens only: TeX reads a file of this name as given."""
    return re.sub(r"[^A-Za-z0-9-]", "-", name)


MAX_SHEET_PARAMETERS = 200
"""Largest network a sheet shows in full; the library (derive.solve) takes any size."""


def check_size(spec: Spec) -> None:
    """Refuse, before any work, a network too large for a readable sheet."""
    count = sum(rows * cols + rows for rows, cols in (layer.shape for layer in spec.network.layers))
    if count > MAX_SHEET_PARAMETERS:
        raise SpecError(
            "network",
            f"{count} parameters are more than a readable sheet shows (at most {MAX_SHEET_PARAMETERS}); "
            "derive.solve() in Python derives and verifies networks of any size",
        )


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


MANIFEST_VERSION = 1
"""The manifest's format: ``{"format": "derive-output", "version": 1, "files": [names]}``."""
MAX_MANIFEST_BYTES = 1 << 20
"""A manifest larger than this is not derive's: it is ignored."""


def manifest_name(stem: str) -> str:
    """The hidden file in the output folder that lists the files a build of ``stem`` wrote."""
    return f".derive-{stem}.json"


def write_all(folder: Path, contents: dict[str, bytes], stem: str | None = None) -> tuple[Path, ...]:
    """Replace the output set in ``folder`` with ``contents`` (names relative to it), all or nothing.

    Every name is checked and every file staged beside its target before the first is renamed into
    place; a rename that still fails puts the earlier files back. With ``stem``, the manifest
    :func:`manifest_name` records the set, and the files of the earlier set of that stem that this
    one no longer has are removed (only those, only inside ``folder``). Signals wait until the folder
    is as before or complete.
    """
    committed: list[Path] = []
    try:
        with processes.held():
            committed.extend(_replace_set(folder, contents, stem))
    except processes.Interrupted as stop:
        stop.written = bool(committed)  # the signal came while the new set was being put in place
        raise
    return tuple(committed)


def _replace_set(folder: Path, contents: dict[str, bytes], stem: str | None) -> tuple[Path, ...]:
    earlier = _earlier_set(folder, stem) if stem is not None else set()
    files = dict(contents)
    if stem is not None:
        record = {"format": "derive-output", "version": MANIFEST_VERSION, "files": list(contents)}
        files[manifest_name(stem)] = (json.dumps(record, indent=1) + "\n").encode()
    created: list[Path] = []
    staged: list[tuple[Path, Path]] = []  # (staged file, its final name)
    backups: dict[Path, Path] = {}  # final name → the earlier file, kept until the set is in place
    done = False
    try:
        _make_folder(folder, folder, created)
        for name in files:
            final = folder / name  # a name may lead into a subfolder (the fragments)
            _make_folder(final.parent, folder, created)
            if final.is_dir() and not final.is_symlink():
                raise IsADirectoryError(
                    errno.EISDIR, "a folder is in the way of an output file; nothing was written", str(final)
                )
        for name, data in files.items():
            staged.append((_stage(folder / name, data), folder / name))
        for _, final in staged:
            if os.path.lexists(final):
                backups[final] = _backup(final)
        _rename_all(staged, backups)
        done = True
    finally:
        for path in [temporary for temporary, _ in staged] + list(backups.values()):
            with contextlib.suppress(OSError):
                path.unlink(missing_ok=True)
        if not done:
            for made in reversed(created):  # only the empty folders this build made
                with contextlib.suppress(OSError):
                    made.rmdir()
    if stem is not None:
        _remove_stale(folder, earlier - set(contents), stem)
    return tuple(folder / name for name in contents)


def _make_folder(path: Path, root: Path, created: list[Path]) -> None:
    """Make ``path`` (and its parents) as a folder, recording what was made; a file, or below the
    output folder a link, in the way stops the build before anything is written."""
    if root in path.parents and path.is_symlink():  # below the output folder: where a link may lead
        raise NotADirectoryError(
            errno.ENOTDIR, "a link is in the way of an output folder; nothing was written", str(path)
        )
    if path.is_dir():
        return
    if os.path.lexists(path):
        raise NotADirectoryError(
            errno.ENOTDIR, "a file is in the way of an output folder; nothing was written", str(path)
        )
    if path.parent != path:
        _make_folder(path.parent, root, created)
    path.mkdir()
    created.append(path)


def _stage(final: Path, data: bytes) -> Path:
    """``data`` in a new hidden file beside ``final``, with the permissions a new file gets."""
    try:
        handle, staging = tempfile.mkstemp(prefix=f".{final.name}.", suffix=".part", dir=final.parent)
    except OSError as error:
        raise OSError(error.errno, f"{error.strerror}; nothing was written", str(final)) from None
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(data)
        os.chmod(staging, 0o666 & ~_umask())
    except BaseException as error:
        os.unlink(staging)
        if isinstance(error, OSError):
            raise OSError(error.errno, f"{error.strerror}; nothing was written", str(final)) from None
        raise
    return Path(staging)


def _backup(final: Path) -> Path:
    """A second name for the file at ``final`` (a hard link, else a copy), to put it back from."""
    for _ in range(100):
        backup = final.with_name(f".{final.name}.{secrets.token_hex(4)}.old")
        try:
            os.link(final, backup, follow_symlinks=False)
            return backup
        except FileExistsError:
            continue
        except OSError:  # no hard links here (or not ours to link): a copy
            try:
                shutil.copy2(final, backup, follow_symlinks=False)
                return backup
            except OSError as error:
                raise OSError(error.errno, f"{error.strerror}; nothing was written", str(final)) from None
    raise FileExistsError(errno.EEXIST, "no free name for a backup; nothing was written", str(final))


def _rename_all(staged: list[tuple[Path, Path]], backups: dict[Path, Path]) -> None:
    """Rename every staged file into place; if one fails, undo the ones before it."""
    placed: list[Path] = []
    try:
        for temporary, final in staged:
            os.replace(temporary, final)
            placed.append(final)
    except BaseException as error:
        for final in reversed(placed):
            with contextlib.suppress(OSError):
                if final in backups:
                    os.replace(backups.pop(final), final)
                else:
                    final.unlink()
        if isinstance(error, OSError):
            where = error.filename if isinstance(error.filename, str) else ""
            target = next((str(final) for temporary, final in staged if str(temporary) == where), where)
            raise OSError(error.errno, f"{error.strerror}; the earlier files are back in place", target) from None
        raise


def _earlier_set(folder: Path, stem: str) -> set[str]:
    """The names the last build of ``stem`` wrote, from its manifest; nothing when the manifest is
    missing, not a regular file of this user, too large or not derive's (it is then not trusted)."""
    path = folder / manifest_name(stem)
    try:
        info = path.lstat()
        if not stat.S_ISREG(info.st_mode) or info.st_uid != os.geteuid() or info.st_size > MAX_MANIFEST_BYTES:
            return set()
        record = json.loads(path.read_bytes())
    except (OSError, ValueError, RecursionError):
        return set()
    if not (isinstance(record, dict) and record.get("format") == "derive-output"):
        return set()
    names = record.get("files")
    if record.get("version") != MANIFEST_VERSION or not isinstance(names, list):
        return set()
    return {name for name in names if isinstance(name, str) and _own_name(name, stem)}


def _own_name(name: str, stem: str) -> bool:
    """Whether ``name`` can be a file of a build of ``stem``: relative, inside the folder, named for it."""
    parts = PurePosixPath(name).parts
    return (
        bool(parts)
        and "\0" not in name
        and not PurePosixPath(name).is_absolute()
        and all(part not in ("", ".", "..") for part in parts)
        and parts[0].startswith((f"{stem}-", f"{_safe(stem)}-"))
        and name != manifest_name(stem)
    )


def _remove_stale(folder: Path, names: set[str], stem: str) -> None:
    """Remove the regular files ``names`` (relative to ``folder``), never following a link; then the
    subfolders they leave empty. A file that cannot be removed is left (the build is done)."""
    emptied: set[tuple[str, ...]] = set()
    for name in sorted(names):
        *route, last = PurePosixPath(name).parts
        with contextlib.suppress(OSError), _opened(folder, route) as where:
            if stat.S_ISREG(os.stat(last, dir_fd=where, follow_symlinks=False).st_mode):
                os.unlink(last, dir_fd=where)
                if route:
                    emptied.add(tuple(route))
    for below in sorted(emptied, key=len, reverse=True):
        with contextlib.suppress(OSError), _opened(folder, list(below[:-1])) as where:
            os.rmdir(below[-1], dir_fd=where)  # only when empty


@contextlib.contextmanager
def _opened(folder: Path, route: list[str]) -> Iterator[int]:
    """The folder ``folder/route…`` opened without following a link below ``folder`` (a manifest is
    not trusted to lead outside it); raises OSError on a link or a missing folder."""
    handle = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    try:
        for part in route:
            inner = os.open(part, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW, dir_fd=handle)
            os.close(handle)
            handle = inner
        yield handle
    finally:
        os.close(handle)
