#!/usr/bin/env python3
"""Self-test of summarize.py, archive.py, encoder_scale.py, vit_truncate.py, move_runs.py and atomic.py on synthetic data (no training, about a second).

    python3 tools/experiments/fashion_mnist/test_summarize.py [-v]

Checks the numbers summarize.py derives (means, sample spreads, gap verdicts), that incomplete runs never count,
and that it only rewrites the text between its markers; that archive.py keeps the records of finished stages and
the named weights only, and that its restore never overwrites; that encoder_scale.py's rescaling keeps every
conv + BatchNorm pair's function and names a conv without its BatchNorm; that vit_truncate.py keeps the
first K blocks and everything outside them; that move_runs.py moves a run with its
stage rows and never overwrites; that an interrupted atomic write leaves the old file and no temporary.
"""
import json
import os

import numpy as np
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import archive  # noqa: E402
import atomic  # noqa: E402
import encoder_scale  # noqa: E402
import move_runs  # noqa: E402
import vit_truncate  # noqa: E402
import summarize  # noqa: E402

try:
    import matplotlib  # noqa: F401
    HAVE_MATPLOTLIB = True
except ImportError:
    HAVE_MATPLOTLIB = False

DOC = "# doc\n\nhand-written\n\n<!-- results:begin -->\nold\n<!-- results:end -->\n\n## Conclusion\nkept\n"
README = "# readme\n<!-- headline:begin -->\nold\n<!-- headline:end -->\ntail\n"


def write(path, text):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        f.write(text)


def run_dir(path, epochs, done=True, config=None):
    """A training folder: epochs.jsonl from a list of (losses, metrics), config.json, .done."""
    lines = [json.dumps({"epoch": i, "images": 5120, "seconds": 60.0, "losses": l, "metrics": m})
             for i, (l, m) in enumerate(epochs)]
    write(os.path.join(path, "epochs.jsonl"), "\n".join(lines) + "\n")
    write(os.path.join(path, "config.json"), json.dumps(config or {}))
    if done:
        write(os.path.join(path, ".done"), "")


def finetune(root, name, top1s, done=True):
    run_dir(os.path.join(root, "finetune", name), [({"loss": 1.0}, {"top1": t}) for t in top1s], done,
            {"job": {"model": {"baseWidth": 32}}})


class SummarizeTest(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        t = self.tmp.name
        self.root = os.path.join(t, "fm")
        for enc, top1 in (("mae", 0.84), ("random", 0.76)):
            write(os.path.join(self.root, "probes", enc + "-10pct", "probe.json"),
                  json.dumps({"top1": top1, "train_size": 6000}))
        # at 1% hgkd beats scratch by more than the spreads and hgkd_pix loses to it; at 10% hgkd is ahead within
        # the spreads; spark has one incomplete seed
        for seed, (h, p, s) in enumerate(((0.80, 0.60, 0.70), (0.82, 0.62, 0.72), (0.81, 0.61, 0.71))):
            finetune(self.root, "hgkd-s%d-1pct" % seed, [0.5, 0.9, h])  # final epoch counts, not the best
            finetune(self.root, "hgkd_pix-s%d-1pct" % seed, [p])
            finetune(self.root, "scratch-s%d-1pct" % seed, [s])
        for seed, (h, s) in enumerate(((0.85, 0.82), (0.83, 0.84))):
            finetune(self.root, "hgkd-s%d-10pct" % seed, [h])
            finetune(self.root, "hgkd_pix-s%d-10pct" % seed, [0.82])  # behind scratch, within the spreads
            finetune(self.root, "scratch-s%d-10pct" % seed, [s])
        finetune(self.root, "spark-s0-1pct", [0.75])
        finetune(self.root, "spark-s1-1pct", [0.99], done=False)
        run_dir(os.path.join(self.root, "students", "hgkd-s0"),
                [({"loss": 2.0, "feat": 1.5, "sim": 0.5}, {}), ({"loss": 1.0, "feat": 0.75, "sim": 0.25}, {})],
                config={"trainer": {"baseLr": 8e-3}})
        run_dir(os.path.join(self.root, "students", "spark-s0"), [({"loss": 0.7, "pix": 0.7}, {})], done=False)
        write(os.path.join(self.root, "stage_times.tsv"),
              "stage\tseconds\tstatus\tmachine\tfinished\n"
              "student.hgkd.s0\t3600\tcompleted\tvm\tx\nfinetune.hgkd.s0.1pct\t60\tcompleted\tvm\tx\n"
              "finetune.hgkd.s1.1pct\t30\tinterrupted\tvm\tx\nfinetune.hgkd.s1.1pct\t30.5\tcompleted\tvm\tx\n")
        run_dir(os.path.join(self.root + "-lr-sweep", "lr-2e-3", "students", "spark-s0"),
                [({"loss": 0.76, "pix": 0.76}, {}), ({"loss": 0.67, "pix": 0.67}, {})],
                config={"job": {"data": {"batchSize": 128}}})
        run_dir(os.path.join(self.root + "-lr-full", "lr-3.2e-2", "students", "spark-s0"),
                [({"loss": 0.5, "pix": 0.5}, {}), ({"loss": 0.3, "pix": 0.3}, {})],
                config={"job": {"data": {"batchSize": 128}}})
        finetune(os.path.join(self.root + "-lr-full", "lr-8e-3"), "hgkd-s0-1pct", [0.83])
        norms = {"median_ratio": 1.91, "stage_median_ratio": {"stem": 2.39, "layer1": 1.61, "layer4": 2.31}}
        write(os.path.join(self.root, "students", "hgkd-s0", "encoder_norms.json"), json.dumps(norms))
        extra = os.path.join(self.root + "-extra", "rescaled")
        write(os.path.join(extra, "about.md"), "What this side experiment tests.\n")
        write(os.path.join(extra, "students", "hgkd-s0", "encoder_norms.json"),
              json.dumps({"median_ratio": 1.0, "stage_median_ratio": {"stem": 1.0}}))
        finetune(extra, "hgkd-s0-1pct", [0.6, 0.8311])
        write(os.path.join(extra, "probes", "mae-depth6-10pct", "probe.json"),
              json.dumps({"top1": 0.8357, "train_size": 6000, "encoder_weights": "/x/teacher/vit_encoder.depth6.safetensors"}))
        write(os.path.join(extra, "probes", "mae-depth10-10pct", "probe.json"), json.dumps({"top1": 0.8389, "train_size": 6000}))
        probes_only = os.path.join(self.root + "-extra", "probes-only")
        write(os.path.join(probes_only, "probes", "random-depth2-10pct", "probe.json"),
              json.dumps({"top1": 0.7681, "train_size": 6000}))
        self.doc = os.path.join(t, "results.md")
        self.readme = os.path.join(t, "README.md")
        write(self.doc, DOC)
        write(self.readme, README)
        summarize.main(["--root", self.root, "--out", self.doc, "--plots", "", "--readme", self.readme])
        with open(self.doc) as f:
            self.out = f.read()
        with open(self.readme) as f:
            self.head = f.read()

    def tearDown(self):
        self.tmp.cleanup()

    def line(self, start):
        """The one line starting with START in the student table and gaps (before the pretraining tables)."""
        students = self.out[self.out.index("### Students"):self.out.index("### Student pretraining")]
        hits = [l for l in students.splitlines() if l.startswith(start)]
        self.assertEqual(1, len(hits), "%r in\n%s" % (start, self.out))
        return hits[0]

    def test_means_spreads_and_final_epoch(self):
        # hgkd 1%: finals 80, 82, 81 -> 81.00 ± 1.00 (ddof 1); 10%: 85, 83 -> 84.00 ± 1.41
        self.assertEqual("| H-GKD | 81.00 ± 1.00 (n=3) | 84.00 ± 1.41 (n=2) |", self.line("| H-GKD |"))
        self.assertEqual("| scratch | 71.00 ± 1.00 (n=3) | 83.00 ± 1.41 (n=2) |", self.line("| scratch |"))

    def test_incomplete_runs_do_not_count(self):
        self.assertEqual("| SparK (pixel only) | 75.00 (n=1, no spread) | - |", self.line("| SparK (pixel only) |"))
        self.assertIn("Incomplete fine-tuning runs (not counted): spark-s1-1pct", self.out)
        self.assertNotIn("99.00", self.out)

    def test_gap_verdicts(self):
        gap = self.line("| H-GKD − scratch |")
        self.assertIn("+10.00 (spread 2.00): win", gap)
        self.assertIn("+1.00 (spread 2.83): within spread", gap)
        pix = self.line("| H-GKD + pixel − scratch |")
        self.assertIn("-10.00 (spread 2.00): loss", pix)
        self.assertIn("-1.00 (spread 1.41): within spread", pix)
        self.assertIn("one seed: no spread, no verdict", self.line("| H-GKD − SparK (pixel only) |"))

    def test_pretraining_sweep_and_times(self):
        self.assertIn("| H-GKD, seed 0 | 0.008 | 2 | feat 1.500 / 0.750; sim 0.500 / 0.250 |", self.out)
        self.assertNotIn("| SparK (pixel only), seed 0 |", self.out)  # no .done
        self.assertIn("| SparK (pixel only) | 0.002 (0.001) | 5120 | pix 0.760 / 0.670 | 0:02:00 |", self.out)
        self.assertIn("| fine-tuning at 1% labels | 2 | 3 | 0:02:00 |", self.out)
        self.assertIn("| **total** | | 4 | **1:02:00** |", self.out)

    def test_full_length_lr_table_holds_the_grid_seed0_runs(self):
        full = self.out[self.out.index("### Students' learning rate at full length"):]
        full = full[:full.index("\n### ", 1)]
        self.assertIn("| H-GKD | 0.008 (0.004) | 5120 | feat 1.500 / 0.750; sim 0.500 / 0.250 | 0:02:00 |", full)
        self.assertIn("| SparK (pixel only) | 0.032 (0.016) | 5120 | pix 0.500 / 0.300 | 0:02:00 |", full)
        self.assertNotIn("0.002 (0.001)", full)  # the short sweep's rows stay in their own table

    def test_side_runs_scale_and_training_loss(self):
        self.assertIn("| H-GKD, 1% labels, seed 0 | 80.00 | 90.00 | 1.000 |", self.out)  # final, best, train loss
        full = self.out[self.out.index("### Students' learning rate at full length"):]
        self.assertIn("Fine-tunes of the `lr-8e-3` students (beside the grid):", full)
        self.assertIn("| H-GKD, 1% labels, seed 0 | 83.00 | 83.00 | 1.000 |", full)
        self.assertIn("| hgkd-s0 | 0.008 | 1.91 | 2.39 | 1.61 | - | - | 2.31 |", self.out)
        self.assertIn("| hgkd-s0 (`rescaled`) | - | 1.00 | 1.00 | - | - | - | - |", self.out)
        side = self.out[self.out.index("### Side experiment `rescaled`"):]
        self.assertIn("What this side experiment tests.", side)
        self.assertIn("| H-GKD, 1% labels, seed 0 | 83.11 | 83.11 | 1.000 |", side)
        self.assertIn("| mae-depth6-10pct | 83.57 | 6000 | vit_encoder.depth6.safetensors |\n"
                      "| mae-depth10-10pct | 83.89 | 6000 | - |", side)  # natural order
        only = self.out[self.out.index("### Side experiment `probes-only`"):]
        self.assertIn("| random-depth2-10pct | 76.81 | 6000 | - |", only)
        self.assertNotIn("no completed fine-tuning", only)
        self.assertNotIn("no stage_times.tsv", only)

    def test_only_the_marked_sections_change(self):
        self.assertTrue(self.out.startswith("# doc\n\nhand-written\n\n<!-- results:begin -->"))
        self.assertTrue(self.out.endswith("<!-- results:end -->\n\n## Conclusion\nkept\n"))
        self.assertNotIn("\nold\n", self.out)
        self.assertTrue(self.head.startswith("# readme\n<!-- headline:begin -->"))
        self.assertTrue(self.head.endswith("<!-- headline:end -->\ntail\n"))
        self.assertIn("| MAE teacher | 84.00 (n=6000) | - |", self.head)
        self.assertIn("ResNet-18, width 32", self.head)
        self.assertIn("| H-GKD | 81.00 ± 1.00 (n=3) | 84.00 ± 1.41 (n=2) |", self.head)

    @unittest.skipUnless(HAVE_MATPLOTLIB, "needs matplotlib (Debian: python3-matplotlib)")
    def test_plots(self):
        import plots
        # a resumed run logs the steps after its last checkpoint twice: the later record wins
        recs = [{"global_step": 9, "losses": {"feat": 1.0}}, {"global_step": 19, "losses": {"feat": 0.9}},
                {"global_step": 19, "losses": {"feat": 0.8}}, {"epoch": 0, "global_step": 19}]
        self.assertEqual([1.0, 0.8], [r["losses"]["feat"] for r in plots._steps(recs)])
        write(os.path.join(self.root, "students", "hgkd-s0", "metrics.jsonl"),
              "\n".join(json.dumps(r) for r in recs) + "\n")
        out_dir = os.path.join(self.tmp.name, "plots")
        summarize.main(["--root", self.root, "--out", self.doc, "--plots", out_dir, "--readme", ""])
        with open(self.doc) as f:
            doc = f.read()
        for name in ("students-top1.png", "pretrain-losses.png", "finetune-1pct.png", "finetune-10pct.png"):
            self.assertTrue(os.path.getsize(os.path.join(out_dir, name)) > 1000, name)
            self.assertIn("(plots/%s)" % name, doc)
        self.assertFalse(os.path.exists(os.path.join(out_dir, "teacher-loss.png")))  # no teacher run here
        self.assertEqual([], [f for f in os.listdir(out_dir) if ".tmp" in f])


class ArchiveTest(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        self.root = os.path.join(self.tmp.name, "runs")
        self.archive = os.path.join(self.tmp.name, "archive")
        run_dir(os.path.join(self.root, "teacher"), [({"loss": 0.5}, {})])
        for f in ("loss.png", "vit_encoder.safetensors", "checkpoints/checkpoint-0001/model.safetensors", "driver.log"):
            write(os.path.join(self.root, "teacher", f), "x")
        run_dir(os.path.join(self.root, "students", "hgkd-s0"), [({"loss": 0.5}, {})], done=False)
        write(os.path.join(self.root, "probes", "mae-10pct", "probe.json"), "{}")
        write(os.path.join(self.root, "probes", "mae-10pct", "probe.log"), "log")
        write(os.path.join(self.root, "finetune", "scratch-s0-1pct", "eval.txt"), "top1")
        write(os.path.join(self.root, "students", "hgkd-s0", "encoder_norms.json"), "{}")
        write(os.path.join(self.root, "extra", "about.md"), "text")
        write(os.path.join(self.root, "stage_times.tsv"), "stage\n")

    def tearDown(self):
        self.tmp.cleanup()

    def files(self, top):
        return sorted(os.path.relpath(os.path.join(d, f), top) for d, _, fs in os.walk(top) for f in fs)

    def test_save_keeps_finished_records_and_named_weights(self):
        archive.save(self.root, self.archive, ["teacher/vit_encoder.safetensors"])
        self.assertEqual(["extra/about.md", "finetune/scratch-s0-1pct/eval.txt", "probes/mae-10pct/probe.json",
                          "stage_times.tsv", "students/hgkd-s0/encoder_norms.json", "teacher/.done", "teacher/config.json", "teacher/epochs.jsonl", "teacher/loss.png",
                          "teacher/vit_encoder.safetensors"], self.files(self.archive))
        archive.save(self.root, self.archive, [])  # the teacher's consumers are done: its weights leave
        self.assertNotIn("teacher/vit_encoder.safetensors", self.files(self.archive))
        self.assertIn("teacher/epochs.jsonl", self.files(self.archive))
        with self.assertRaises(SystemExit):
            archive.save(self.root, self.archive, ["teacher/missing.safetensors"])

    def test_restore_never_overwrites(self):
        archive.save(self.root, self.archive, [])
        other = os.path.join(self.tmp.name, "other")
        write(os.path.join(other, "stage_times.tsv"), "newer\n")
        archive.restore(other, self.archive)
        with open(os.path.join(other, "stage_times.tsv")) as f:
            self.assertEqual("newer\n", f.read())
        self.assertEqual(self.files(self.archive), self.files(other))


class EncoderScaleTest(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        rng = np.random.default_rng(0)
        self.t = {"conv1.weight": rng.normal(0, 0.5, (8, 3, 3, 3)).astype(np.float32),
                  "layer1.0.downsample.0.weight": rng.normal(0, 0.3, (16, 8, 1, 1)).astype(np.float32)}
        for bn, c in (("bn1.", 8), ("layer1.0.downsample.1.", 16)):
            self.t[bn + "weight"] = rng.uniform(0.5, 1.5, c).astype(np.float32)
            self.t[bn + "bias"] = rng.normal(0, 0.1, c).astype(np.float32)
            self.t[bn + "running_mean"] = rng.normal(0, 1, c).astype(np.float32)
            self.t[bn + "running_var"] = rng.uniform(0.5, 3, c).astype(np.float32)
        self.src = os.path.join(self.tmp.name, "enc.safetensors")
        encoder_scale.write_safetensors(self.src, self.t, {"format": "pt"})

    def tearDown(self):
        self.tmp.cleanup()

    def test_rescale_keeps_each_conv_bn_pair_and_sets_init_norm(self):
        dst = os.path.join(self.tmp.name, "out.safetensors")
        encoder_scale.rescale(self.src, dst)
        out, meta = encoder_scale.read_safetensors(dst)
        self.assertEqual("enc.safetensors", meta["hgkd.rescaled_from"])
        self.assertEqual("pt", meta["format"])
        x = np.random.default_rng(1).normal(size=(64, 3 * 3 * 3))  # 64 im2col patches into conv1
        eps = 1e-5

        def conv_bn(t, train):
            y = x @ t["conv1.weight"].reshape(8, -1).T.astype(np.float64)
            mean, var = (y.mean(0), y.var(0)) if train else (t["bn1.running_mean"], t["bn1.running_var"])
            return (y - mean) / np.sqrt(var + eps) * t["bn1.weight"] + t["bn1.bias"]
        np.testing.assert_allclose(conv_bn(self.t, True), conv_bn(out, True), atol=1e-4)
        # eval mode: the same up to BatchNorm's epsilon, which does not scale
        np.testing.assert_allclose(conv_bn(self.t, False), conv_bn(out, False), rtol=1e-3, atol=1e-3)
        self.assertAlmostEqual(np.sqrt(2 * 3), np.linalg.norm(out["conv1.weight"]), places=4)
        self.assertAlmostEqual(np.sqrt(2 * 8), np.linalg.norm(out["layer1.0.downsample.0.weight"]), places=4)
        rec = encoder_scale.norms(dst)
        self.assertAlmostEqual(1.0, rec["median_ratio"], places=5)
        self.assertEqual({"stem", "layer1"}, set(rec["stage_median_ratio"]))

    def test_conv_without_batchnorm_is_named(self):
        del self.t["bn1.running_var"]
        encoder_scale.write_safetensors(self.src, self.t)
        with self.assertRaisesRegex(ValueError, r"conv1\.weight \[8, 3, 3, 3\] feeds no BatchNorm.*bn1\.running_var"):
            encoder_scale.rescale(self.src, os.path.join(self.tmp.name, "out.safetensors"))


class VitTruncateTest(unittest.TestCase):
    def test_keeps_first_blocks_and_the_rest(self):
        with tempfile.TemporaryDirectory() as d:
            t = {"cls_token": np.ones((1, 1, 4), np.float32), "norm.weight": np.arange(4, dtype=np.float32)}
            for i in range(3):
                t["blocks.%d.attn.qkv.weight" % i] = np.full((12, 4), i, np.float32)
            src, dst = os.path.join(d, "vit.safetensors"), os.path.join(d, "cut.safetensors")
            encoder_scale.write_safetensors(src, t, {"source": "test"})
            self.assertEqual(3, vit_truncate.truncate(src, dst, 2))
            out, meta = encoder_scale.read_safetensors(dst)
            self.assertEqual({"cls_token", "norm.weight", "blocks.0.attn.qkv.weight", "blocks.1.attn.qkv.weight"},
                             set(out))
            np.testing.assert_array_equal(t["blocks.1.attn.qkv.weight"], out["blocks.1.attn.qkv.weight"])
            self.assertIn("first 2 of 3 blocks", meta["source"])
            with self.assertRaisesRegex(ValueError, r"vit\.safetensors has 3 blocks; --depth must be in \[1, 3\], got 4"):
                vit_truncate.truncate(src, dst, 4)


class AtomicTest(unittest.TestCase):
    def test_failure_leaves_the_old_file_and_no_temporary(self):
        with tempfile.TemporaryDirectory() as d:
            path = os.path.join(d, "x.json")
            with atomic.atomic_open(path) as f:
                f.write("old")
            with self.assertRaises(RuntimeError):
                with atomic.atomic_open(path) as f:
                    f.write("half")
                    raise RuntimeError("interrupted")
            with open(path) as f:
                self.assertEqual("old", f.read())
            self.assertEqual(["x.json"], os.listdir(d))
            atomic.atomic_copy(path, os.path.join(d, "sub", "y.json"))
            with open(os.path.join(d, "sub", "y.json")) as f:
                self.assertEqual("old", f.read())


class MoveRunsTest(unittest.TestCase):
    def test_moves_folder_and_stage_rows_never_overwrites(self):
        with tempfile.TemporaryDirectory() as t:
            a, b = os.path.join(t, "a"), os.path.join(t, "b")
            finetune(a, "hgkd-s0-1pct", [0.8])
            finetune(b, "hgkd-s1-1pct", [0.7])
            rows = ("finetune.hgkd.s0.1pct\t1\tcompleted\tvm\tx\nfinetune.hgkd.s0.10pct\t2\tcompleted\tvm\tx\n"
                    "eval.hgkd.s0.1pct\t3\tcompleted\tvm\tx\n")
            write(os.path.join(a, "stage_times.tsv"), "stage\tseconds\tstatus\tmachine\tfinished\n" + rows)
            move_runs.move(a, b, ["hgkd-s0-1pct"])
            self.assertTrue(os.path.exists(os.path.join(b, "finetune", "hgkd-s0-1pct", ".done")))
            self.assertFalse(os.path.exists(os.path.join(a, "finetune", "hgkd-s0-1pct")))
            self.assertEqual(["finetune.hgkd.s0.10pct"], [r["stage"] for r in move_runs.read_rows(
                os.path.join(a, "stage_times.tsv"))])
            self.assertEqual(["finetune.hgkd.s0.1pct", "eval.hgkd.s0.1pct"], [r["stage"] for r in move_runs.read_rows(
                os.path.join(b, "stage_times.tsv"))])
            finetune(a, "hgkd-s1-1pct", [0.9])
            with self.assertRaisesRegex(ValueError, "exists: not overwriting"):
                move_runs.move(a, b, ["hgkd-s1-1pct"])
            with self.assertRaisesRegex(ValueError, "not a fine-tuning run name"):
                move_runs.move(a, b, ["hgkd-s1"])


if __name__ == "__main__":
    unittest.main()
