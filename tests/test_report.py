"""Issue 27: `lssat report` turns a sweep or a run folder into one self-contained HTML page. Built
here from a small real sweep (2 backbones × 2 seeds on the synthetic faces, one variant failing on
purpose) and from one of its runs, parsed, and each section's content checked against the
folder's own files."""

import csv

import pytest

from lssat_framework import cli
from report_folders import ERROR, FAILING, decodes, images, sweep_folder_for, svg_ids

bs4 = pytest.importorskip("bs4")


@pytest.fixture
def sweep(tmp_path_factory):
    return sweep_folder_for(tmp_path_factory)


def page(path):
    return bs4.BeautifulSoup(path.read_text(encoding="utf-8"), "html.parser")


def test_the_sweep_rebuilds_its_page_when_it_collects_and_the_command_writes_it_anywhere(sweep, tmp_path, capsys):
    assert (sweep / "report.html").is_file()  # written by the sweep's own collect
    out = tmp_path / "elsewhere" / "study.html"
    assert cli.main(["report", str(sweep), "--out", str(out)]) == 0
    assert capsys.readouterr().out.strip() == str(out)
    soup = page(out)
    assert [s["id"] for s in soup.find_all("section")] == ["answers", "leaderboard", "curves", "cross-dataset", "variants", "environment"]
    assert out.stat().st_size < 2_000_000
    # self-contained: no file, font or script fetched from anywhere
    assert not soup.find_all("link") and not soup.find_all("script", src=True)
    assert all(tag["src"].startswith("data:") for tag in soup.find_all(src=True))


def test_the_leaderboard_table_holds_leaderboard_csvs_numbers_and_the_failed_variants_error(sweep):
    soup = page(sweep / "report.html")
    with open(sweep / "leaderboard.csv", newline="") as handle:
        expected = list(csv.DictReader(handle))
    table = soup.find("table", id="leaderboard-table")
    columns = [th.get_text() for th in table.thead.find_all("th")]
    assert columns == list(expected[0])
    rows = table.tbody.find_all("tr")
    assert len(rows) == len(expected) == 4
    for row, want in zip(rows, expected):
        for column, cell in zip(columns, row.find_all("td")):
            shown = cell.get("data-value", cell.get_text())  # formatted cells keep the file's value beside what they show
            assert shown == want[column], (want["variant"], column)
        if "value" in want and want["value"]:
            assert row.find_all("td")[columns.index("value")].get_text() == f"{float(want['value']):.3f}"
    failed = next(r for r in rows if r.td.get_text() == FAILING)
    assert failed["class"] == ["failed"] and ERROR in failed.get_text()
    assert ERROR in soup.find(id=f"variant-{FAILING}").get_text()
    assert not soup.find("b", string="not bold")  # the error's markup is text, never markup


def test_the_answers_come_with_a_forest_plot_with_one_mark_per_backbone_and_task(sweep):
    import json

    soup = page(sweep / "report.html")
    answers = soup.find(id="answers")
    assert [h.get_text().split(" ", 1)[0] for h in answers.find_all("h3")] == ["1.", "2.", "3.", "Not"]  # "Not in these answers": the failed variant
    assert FAILING in answers.get_text()
    data = json.loads((sweep / "answers.json").read_text())
    expected = {f"mark:{task['task']}:{cell['backbone']}" for task in data["tasks"] for cell in task["cells"]}
    assert len(expected) == 2  # vit1 and vit2 on the one task
    mime, forest = images(answers)[0]
    assert mime == "image/svg+xml" and svg_ids(forest, "mark:") == expected
    assert "chance" in forest.decode()


def test_every_picture_is_embedded_and_decodes(sweep):
    soup = page(sweep / "report.html")
    found = images(soup)
    assert len(found) >= 10 and all(decodes(mime, data) for mime, data in found)
    curves = [data for mime, data in images(soup.find(id="curves"))]
    assert any(svg_ids(data, "curve:val_auc:") for data in curves)
    assert svg_ids(images(soup.find(id="cross-dataset"))[0][1], "roc:synthetic-seed7:")
    grids = [tag for tag in soup.find(id="variants").find_all("img") if "reconstruction grid" in tag["alt"]]
    assert len(grids) == 3  # the three variants that trained


def test_the_cross_dataset_table_and_the_environment(sweep):
    import torch

    soup = page(sweep / "report.html")
    with open(sweep / "leaderboard.csv", newline="") as handle:
        expected = {r["variant"]: r for r in csv.DictReader(handle)}
    table = soup.find("table", id="cross-table")
    columns = [th.get_text() for th in table.thead.find_all("th")]
    assert columns == ["variant", "auc@synthetic-faces", "auc@synthetic-seed7"]
    for row in table.tbody.find_all("tr"):
        cells = row.find_all("td")
        assert [c.get("data-value") for c in cells[1:]] == [expected[cells[0].get_text()][c] for c in columns[1:]]
    environment = soup.find(id="environment").get_text()
    assert torch.__version__ in environment and "framework commit" in environment and "first run started" in environment


def test_a_runs_page_shows_its_grids_over_the_epochs_its_summary_and_cross_dataset_table(sweep, tmp_path):
    import json

    run = sweep / "backbone=vit1__seed=0"
    out = tmp_path / "run.html"
    assert cli.main(["report", str(run), "--out", str(out)]) == 0
    soup = page(out)
    assert [s["id"] for s in soup.find_all("section")] == ["summary", "curves", "grids", "cross-dataset", "pictures", "spec", "environment"]
    summary = json.loads((run / "summary.json").read_text())
    table = soup.find("table", id="summary-table")
    shown = {r.find_all("td")[0].get_text(): float(r.find_all("td")[1]["data-value"]) for r in table.tbody.find_all("tr")}
    assert shown == {k: v for k, v in summary["reported"]["metrics"].items() if k != "count"}
    assert len(soup.find(id="grids").find_all("img")) == 2  # one grid an epoch
    with open(run / "cross_dataset.csv", newline="") as handle:
        rows = list(csv.DictReader(handle))
    cross = soup.find("table", id="cross-table")
    assert [r.find_all("td")[0].get_text() for r in cross.tbody.find_all("tr")] == [r["test_set"] for r in rows]
    assert all(decodes(mime, data) for mime, data in images(soup))
    assert "vit_tiny_patch16_224" in soup.find(id="spec").get_text()


def test_a_folder_that_is_neither_a_sweep_nor_a_run_is_one_clear_error(tmp_path, capsys):
    assert cli.main(["report", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "neither sweep.json" in err and "Traceback" not in err and not (tmp_path / "report.html").exists()


def test_a_picture_that_does_not_decode_or_a_link_is_named_not_followed(sweep, tmp_path):
    import shutil

    run = tmp_path / "run"
    shutil.copytree(sweep / "backbone=vit1__seed=0", run)
    (run / "recon" / "epoch_002.png").write_bytes(b"not a png")
    (run / "recon" / "epoch_003.png").symlink_to(run / "recon" / "epoch_001.png")
    (run / "val_outside.png").symlink_to("/etc/hostname")
    out = tmp_path / "run.html"
    assert cli.main(["report", str(run), "--out", str(out)]) == 0
    soup = page(out)
    grids = soup.find(id="grids")
    assert len(grids.find_all("img")) == 1 and "epoch_002.png: not a picture that decodes" in grids.get_text()
    assert "outside" not in soup.find(id="pictures").get_text()


def test_a_variants_curves_are_sparklines_with_the_first_and_last_values_in_the_caption(tmp_path):
    """A sweep page draws one picture per variant at every collect: lines alone (no axes, no text)
    of the headline and the total loss, the numbers in the caption."""
    import base64
    import io
    import json
    import re

    from PIL import Image

    from lssat_framework.images import pyplot
    from lssat_framework.report.curves import sparklines
    from lssat_framework.report.folder import read_run
    from lssat_framework.report.sections import sparkline

    records = [{"epoch": e, "step": 4 * e, "train_loss": 2.0 / e, "train_loss_task": 1.0 / e, "val_auc": 0.5 + 0.04 * e} for e in range(1, 11)]
    figure = sparklines(records, ["val_auc", "train_loss"])
    drawn = [[(list(line.get_xdata()), list(line.get_ydata())) for line in ax.get_lines()] for ax in figure.axes]
    assert drawn == [[(list(range(1, 11)), [r["val_auc"] for r in records])], [(list(range(1, 11)), [r["train_loss"] for r in records])]]
    assert not any(ax.axison for ax in figure.axes) and not figure.texts and not any(ax.texts or ax.get_title() for ax in figure.axes)
    pyplot().close(figure)

    (tmp_path / "metrics.jsonl").write_text("".join(json.dumps(r) + "\n" for r in records))
    html = sparkline(read_run(tmp_path, "depth=2"), "auc")
    assert "Per epoch (10), left to right: val_auc 0.54 → 0.9; train_loss 2 → 0.2." in html
    png = base64.b64decode(re.search(r'src="data:image/png;base64,([^"]+)"', html).group(1))
    assert Image.open(io.BytesIO(png)).size == (340, 55)


def test_a_collect_draws_each_plot_once_for_its_png_file_and_its_page(sweep, tmp_path, monkeypatch):
    """The forest plot and the size plot were drawn twice at every collect: once for the sweep's
    PNG files, once for its page. Drawn once now, both are what each would draw alone."""
    import base64
    import collections
    import json
    import shutil

    import lssat_framework.report.sweep_page as sweep_page
    import lssat_framework.sweep.plots as plots
    from lssat_framework.report.drawing import png_bytes, svg_text
    from lssat_framework.report.study import forest, parameters
    from lssat_framework.sweep import collect

    folder = tmp_path / "sweep"
    shutil.copytree(sweep, folder)
    drawings = collections.Counter()

    def counted(name, draw):
        return lambda *args: drawings.update([name]) or draw(*args)

    for module in (plots, sweep_page):
        monkeypatch.setattr(module, "forest", counted("forest", forest))
        monkeypatch.setattr(module, "parameters", counted("parameters", parameters))
    collect(folder, quiet=True)
    assert drawings == {"forest": 1, "parameters": 1}

    data = json.loads((folder / "answers.json").read_text())
    shown = {img["alt"]: base64.b64decode(img["src"].partition(",")[2]).decode() for img in page(folder / "report.html").find_all("img")
             if img["src"].startswith("data:image/svg+xml")}
    question_1 = next(svg for alt, svg in shown.items() if alt.startswith("question 1."))
    assert question_1 == svg_text(forest(data["tasks"], data["variants"]))
    assert shown["every variant against its size"] == svg_text(parameters(data["variants"]))
    assert (folder / "metric_per_backbone.png").read_bytes() == png_bytes(forest(data["tasks"], data["variants"]), dpi=110)
    assert (folder / "metric_vs_parameters.png").read_bytes() == png_bytes(parameters(data["variants"]), dpi=110)


def test_the_page_draws_its_own_plots_where_answers_json_is_not_what_the_sweep_drew(sweep):
    """A page built while another job rewrote answers.json shows that file's pictures."""
    import json

    from lssat_framework.report import sweep_page

    data = json.loads((sweep / "answers.json").read_text())
    stale = {"data": {**data, "variants": []}, "forest": "<svg>stale</svg>", "parameters": "<svg>stale</svg>"}
    assert "stale" not in sweep_page.build(sweep, stale)
    assert "PHN2Zz5zdGFsZTwvc3ZnPg" in sweep_page.build(sweep, {**stale, "data": data})  # base64 of the passed SVG
