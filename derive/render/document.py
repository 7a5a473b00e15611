"""A sheet's LaTeX document around its rendered body: the preamble, built with pylatex, and the mark
after which a sheet's own preamble lines begin (what precedes it is cached as a TeX format)."""

from __future__ import annotations

from pylatex import Document, NoEscape, Package

from derive.tex.layout import matrix_columns
from derive.tex.style import DEFAULT, Style

PACKAGES = ("amsmath", "amssymb", "booktabs")
PLOT_PREAMBLE = r"\usepackage{pgfplots}\pgfplotsset{compat=1.18}"
"""Loaded only by sheets with a plot: pgfplots is a quarter of a second of every compile."""
MARK = "% derive: the preamble above is shared by derive's sheets (cached as a TeX format)"
"""The line after which a sheet's own preamble lines (its PDF title) begin."""
PAPER_OPTIONS = {"a4": "a4paper", "letter": "letterpaper"}
"""The class and geometry option of each paper size (:data:`derive.exercise.model.PAPERS`)."""
VARIANT_HEADER = (
    r"\makeatletter\def\ps@plain{\def\@oddhead{\hfil\footnotesize @label}\let\@evenhead\@oddhead"
    r"\def\@oddfoot{\hfil\thepage\hfil}\let\@evenfoot\@oddfoot}\makeatother"
)
"""The plain page style with ``@label`` (a variant's label) at the top right of every page."""
BREAKABLE_COMMA = r'{\catcode`\,=\active\gdef,{\mathchar"613B\penalty500\relax}}\mathcode`\,="8000\relax'
"""The comma of inline maths as a place a line may break (at the cost of a break after a relation)."""


def document(
    body: str,
    plots: bool = False,
    metadata: tuple[str, str] = ("", ""),
    style: Style = DEFAULT,
    diagram: bool = False,
    logo: bool = False,
    paper: str = "a4",
    engine: str = "pdflatex",
    header: str = "",
    qr: bool = False,
) -> str:
    """Wrap a rendered body in the preamble, built with pylatex, for ``paper`` and the TeX ``engine``;
    ``header``: LaTeX at the top right of every page (a variant's label); ``qr``: the qrcode package
    loaded (for a variant's QR code).

    ``\\deriveheading`` sets the headings inside a part: a subsection here; a lecturer's document
    that inputs a fragment may define it otherwise.
    """
    size = PAPER_OPTIONS[paper]
    # pdflatex reads UTF-8 through inputenc and sets Latin Modern in T1 (Type 1 fonts); lualatex and
    # xelatex read UTF-8 themselves and set the same Latin Modern from its OpenType files (their TU
    # encoding): fontenc and inputenc are for 8-bit TeX only.
    eight_bit = engine == "pdflatex"
    doc = Document(
        documentclass="article",
        document_options=[size, "11pt"],
        fontenc="T1" if eight_bit else None,
        inputenc="utf8" if eight_bit else None,
        lmodern=True,
        textcomp=False,
        page_numbers=False,
        geometry_options={"margin": "2.2cm"},  # geometry takes the paper from the class options
    )
    for name in PACKAGES:
        doc.packages.append(Package(name))
    doc.preamble.append(NoEscape(r"\setlength{\parindent}{0pt}\setlength{\parskip}{4pt plus 2pt}"))
    doc.preamble.append(NoEscape(r"\allowdisplaybreaks"))
    # A paragraph TeX cannot set within its tolerance (a question's 199-entry vector, broken only at
    # its commas) gets some extra stretch instead of a line running into the margin.
    doc.preamble.append(NoEscape(r"\setlength{\emergencystretch}{2em}"))
    # A comma in running maths may end a line (a question's list of parameters or points ran into
    # the margin): as icomma does, the comma is a math-active character only when typeset, so
    # macros that read their arguments up to a comma see it as before. Braced ({,}) it is not.
    doc.preamble.append(NoEscape(BREAKABLE_COMMA))
    if logo:
        doc.packages.append(Package("graphicx"))
    if plots:
        doc.preamble.append(NoEscape(PLOT_PREAMBLE))
        if style.decimal_mark == ",":
            doc.preamble.append(NoEscape(r"\pgfplotsset{/pgf/number format/use comma}"))
    elif diagram:
        doc.packages.append(Package("tikz"))
    doc.preamble.append(NoEscape(r"\newcommand{\deriveheading}[1]{\subsection*{#1}}"))
    # hyperref last, as it asks: bookmarks per part, and the title and author in the PDF's metadata.
    title, author = metadata
    # Under xelatex, hyperref writes the page labels (1, 2, … as the pages are numbered anyway) from
    # the .aux file, asking for a second run ("Rerun to get /PageLabels entry"): left out there.
    labels = ",pdfpagelabels=false" if engine == "xelatex" else ""
    doc.preamble.append(NoEscape(rf"\usepackage[hidelinks,bookmarksnumbered=false{labels}]{{hyperref}}"))
    # bookmark writes the outline in the same run: with hyperref alone the bookmarks need a
    # second pdflatex pass ("Rerun to get outlines right"), which doubled the solution's TeX time.
    doc.preamble.append(NoEscape(r"\usepackage{bookmark}"))
    doc.preamble.append(NoEscape(MARK))  # what follows differs between sheets
    doc.preamble.append(NoEscape(rf"\hypersetup{{pdftitle={{{title}}},pdfauthor={{{author}}},pdfcreator={{derive}}}}"))
    # A variant's sheets only: after the mark, so that the cached format stays every sheet's.
    if qr:
        doc.preamble.append(NoEscape(r"\usepackage{qrcode}"))
    if header:
        doc.preamble.append(NoEscape(VARIANT_HEADER.replace("@label", header)))
    # derive lists a matrix wider than 8 columns entry by entry; a user template or a listed
    # parameter may still print one whole: then amsmath's 10-column limit ("Extra alignment tab") is
    # lifted to its width, for this sheet only (the allowance costs every matrix TeX time).
    if columns := matrix_columns(body):
        doc.preamble.append(NoEscape(columns))
    doc.append(NoEscape(r"\pagestyle{plain}"))
    doc.append(NoEscape(body))
    return str(doc.dumps()) + "\n"
