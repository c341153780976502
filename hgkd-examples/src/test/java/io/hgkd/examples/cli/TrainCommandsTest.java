package io.hgkd.examples.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.hgkd.core.io.SafeTensors;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.List;
import java.util.Set;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code hgkd distill}, {@code finetune}, {@code pretrain-teacher} and {@code export} end to end on tiny configs. */
class TrainCommandsTest {
    @TempDir
    Path dir;

    record Run(int code, String out, String err) {
    }

    private static Run run(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int code = Hgkd.execute(args, new PrintWriter(out), new PrintWriter(err));
        return new Run(code, out.toString(), err.toString());
    }

    /** Copies the bundled config {@code name} into the temp dir. */
    private Path config(String name) throws IOException {
        Path p = dir.resolve(name);
        try (InputStream in = TrainCommandsTest.class.getResourceAsStream("/configs/" + name)) {
            Files.copy(in, p);
        }
        return p;
    }

    private static List<Path> checkpoints(Path run) throws IOException {
        try (Stream<Path> s = Files.list(run.resolve("checkpoints"))) {
            return s.filter(Files::isDirectory).sorted(Comparator.naturalOrder()).toList();
        }
    }

    @Test
    void distillRunsEndToEndRefusesReuseResumesAndExports() throws IOException {
        Path cfg = config("distill-tiny.json");
        Path out = dir.resolve("run");
        Run r = run("distill", "--config", cfg.toString(), "--output", out.toString());
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("\"epochs\" : 2"), "prints the effective config: " + r.out());
        assertTrue(r.out().contains("batch size 8, accumulation 1, effective batch 8"), r.out());
        assertTrue(r.out().contains("scaled (peak) lr 0.00156250"), r.out());
        assertTrue(r.out().contains("distill: completed after 2 epochs, 8 steps"), r.out());
        assertEquals(2, checkpoints(out).size());
        assertTrue(Files.size(out.resolve("metrics.jsonl")) > 0);
        JsonNode saved = new ObjectMapper().readTree(out.resolve("config.json").toFile());
        assertEquals(2, saved.at("/trainer/epochs").asInt());
        assertTrue(saved.at("/job/student/encoder/seed").asLong() != 0, "derived seeds are filled in");

        // the same directory again without --resume: refused, nothing overwritten
        Run again = run("distill", "--config", cfg.toString(), "--output", out.toString());
        assertEquals(1, again.code());
        assertTrue(again.err().contains("already holds checkpoints: pass --resume"), again.err());

        // --resume of the finished run: nothing left
        Run finished = run("distill", "--config", cfg.toString(), "--output", out.toString(), "--resume");
        assertEquals(1, finished.code());
        assertTrue(finished.err().contains("is the end of the run (epoch 2 of 2)"), finished.err());

        // more epochs change the schedule: the trainer refuses the changed config
        Run more = run("distill", "--config", cfg.toString(), "--output", out.toString(), "--resume",
                "--set", "trainer.epochs=3");
        assertEquals(1, more.code());
        assertTrue(more.err().contains("trainer.epochs"), more.err());

        // export: the student encoder with timm ResNet names
        Path enc = dir.resolve("enc.safetensors");
        Run exp = run("export", out.toString(), "--output", enc.toString());
        assertEquals(0, exp.code(), exp.err());
        assertTrue(exp.out().contains("student ResNet encoder"), exp.out());
        Set<String> keys = SafeTensors.read(enc).keySet();
        assertTrue(keys.contains("conv1.weight"), keys.toString());
        assertTrue(keys.contains("bn1.running_mean"), keys.toString());
        assertTrue(keys.contains("layer1.0.conv1.weight"), keys.toString());
        assertTrue(keys.contains("layer4.0.bn2.weight"), keys.toString());
        assertTrue(keys.stream().allMatch(k -> k.matches("(conv1|bn1|layer[1-4]\\.\\d+\\.[a-z0-9_.]+)\\.[a-z_]+")),
                "timm ResNet names only, no fc.*, no decoder: " + keys);
    }

    @Test
    void resumeOfAnUnfinishedRunContinuesToTheEnd() throws IOException {
        Path cfg = config("distill-tiny.json");
        Path out = dir.resolve("run");
        assertEquals(0, run("distill", "-c", cfg.toString(), "-o", out.toString()).code());
        // as if the process died after the first epoch: drop the last checkpoint
        List<Path> ckpts = checkpoints(out);
        deleteTree(ckpts.get(ckpts.size() - 1));
        Run r = run("distill", "-c", cfg.toString(), "-o", out.toString(), "--resume",
                "--set", "trainer.keepLast=4");
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("(resuming)"), r.out());
        assertTrue(r.out().contains("distill: completed after 2 epochs, 8 steps"), r.out());
        assertEquals(2, checkpoints(out).size());
    }

    @Test
    void badConfigsExitTwoNamingTheField() throws IOException {
        Path cfg = config("distill-tiny.json");
        String o = dir.resolve("never").toString();
        Run unknown = run("distill", "-c", cfg.toString(), "-o", o, "--set", "job.data.batchSiz=4");
        assertEquals(2, unknown.code());
        assertTrue(unknown.err().contains("job.data.batchSiz: unknown field (known: "), unknown.err());

        Run enumValue = run("distill", "-c", cfg.toString(), "-o", o, "--set", "trainer.optimizer=SGD");
        assertEquals(2, enumValue.code());
        assertTrue(enumValue.err().contains("trainer.optimizer"), enumValue.err());

        Run range = run("distill", "-c", cfg.toString(), "-o", o, "--set", "job.maskRatio=1.5");
        assertEquals(2, range.code());
        assertTrue(range.err().contains("maskRatio must be in (0, 1), got 1.5"), range.err());

        String text = Files.readString(cfg).replace("\"keepLast\" : 3,", "");
        Path missing = Files.writeString(dir.resolve("missing.json"), text);
        Run miss = run("distill", "-c", missing.toString(), "-o", o);
        assertEquals(2, miss.code());
        assertTrue(miss.err().contains("keepLast"), miss.err());

        Run badSet = run("distill", "-c", cfg.toString(), "-o", o, "--set", "noequals");
        assertEquals(2, badSet.code());
        assertFalse(Files.exists(Path.of(o)), "nothing written");
    }

    @Test
    void printConfigShowsOverridesAndExits() throws IOException {
        Path o = dir.resolve("never");
        Run r = run("distill", "-c", config("distill-tiny.json").toString(), "-o", o.toString(),
                "--set", "trainer.epochs=7", "--set", "job.data.workers=0", "--print-config");
        assertEquals(0, r.code(), r.err());
        JsonNode n = new ObjectMapper().readTree(r.out());
        assertEquals(7, n.at("/trainer/epochs").asInt());
        assertEquals(0, n.at("/job/data/workers").asInt());
        assertFalse(Files.exists(o));
    }

    @Test
    void bundledRealisticConfigsParse() throws IOException {
        for (String[] c : new String[][] {{"distill", "distill-fashion-mnist.json"},
                {"pretrain-teacher", "pretrain-teacher-fashion-mnist.json"},
                {"finetune", "finetune-fashion-mnist.json"}}) {
            Run r = run(c[0], "-c", config(c[1]).toString(), "-o", dir.resolve("x").toString(), "--print-config");
            assertEquals(0, r.code(), c[1] + ": " + r.err());
        }
    }

    @Test
    void finetuneConfigsFromBeforeConvScaleReadAsPretrained() throws IOException {
        String text = Files.readString(config("finetune-tiny.json"));
        assertTrue(text.contains("\"convScale\" : \"INIT\","), "the bundled config sets it");
        Path old = Files.writeString(dir.resolve("old.json"), text.replace("\"convScale\" : \"INIT\",", ""));
        Run r = run("finetune", "-c", old.toString(), "-o", dir.resolve("x").toString(), "--print-config");
        assertEquals(0, r.code(), r.err());
        assertEquals("PRETRAINED", new ObjectMapper().readTree(r.out()).at("/job/convScale").asText());
        Run bad = run("finetune", "-c", old.toString(), "-o", dir.resolve("x").toString(), "--set",
                "job.convScale=HALF", "--print-config");
        assertEquals(2, bad.code());
        assertTrue(bad.err().contains("job.convScale"), bad.err());
    }

    @Test
    void pretrainTeacherAndExportOfTheMaeEncoder() throws IOException {
        Path out = dir.resolve("mae");
        Run r = run("pretrain-teacher", "-c", config("pretrain-teacher-tiny.json").toString(), "-o", out.toString());
        assertEquals(0, r.code(), r.err());
        Path vit = dir.resolve("vit.safetensors");
        Run exp = run("export", out.toString(), "-o", vit.toString());
        assertEquals(0, exp.code(), exp.err());
        Set<String> keys = SafeTensors.read(vit).keySet();
        assertTrue(keys.contains("cls_token") && keys.contains("blocks.0.attn.qkv.weight"), keys.toString());
        assertTrue(keys.stream().noneMatch(k -> k.startsWith("decoder") || k.equals("mask_token")), keys.toString());
    }

    @Test
    void finetuneRunsAndExportRefusesItsCheckpoint() throws IOException {
        Path out = dir.resolve("ft");
        Run r = run("finetune", "-c", config("finetune-tiny.json").toString(), "-o", out.toString());
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("top1"), r.out());
        Run exp = run("export", out.toString(), "-o", dir.resolve("x.safetensors").toString());
        assertEquals(1, exp.code());
        assertTrue(exp.err().contains("'finetune' checkpoint"), exp.err());

        Run ev = run("eval", out.toString());
        assertEquals(0, ev.code(), ev.err());
        assertTrue(ev.out().contains("images:     32"), ev.out());
        assertTrue(ev.out().matches("(?s).*\\ntop1: +0\\.\\d{4}\\n.*"), ev.out());
        assertTrue(ev.out().contains("ema_top1:"), ev.out());
        assertTrue(ev.out().contains("per class:  0 "), ev.out());
        // eval of the checkpoint reproduces the run's own evaluation at that epoch
        java.util.regex.Matcher em = java.util.regex.Pattern.compile("\\(epoch (\\d+), ").matcher(ev.out());
        assertTrue(em.find(), ev.out());
        JsonNode epochLine = new ObjectMapper().readTree(
                Files.readAllLines(out.resolve("epochs.jsonl")).get(Integer.parseInt(em.group(1)) - 1));
        for (String k : List.of("top1", "top5", "eval_loss", "ema_top1")) {
            String expected = String.format(java.util.Locale.ROOT, "%-11s %.4f", k + ":",
                    epochLine.at("/metrics/" + k).asDouble());
            assertTrue(ev.out().contains(expected), expected + " in " + ev.out());
        }
        Run more = run("eval", out.toString(), "--set", "data.limit=64");
        assertEquals(0, more.code(), more.err());
        assertTrue(more.out().contains("images:     64"), more.out());
        Run bad = run("eval", out.toString(), "--set", "data.limt=64");
        assertEquals(2, bad.code());
        assertTrue(bad.err().contains("job.data.limt: unknown field"), bad.err());
    }

    @Test
    void helpOfEachCommandExitsZero() {
        for (String cmd : List.of("distill", "finetune", "pretrain-teacher", "eval", "export")) {
            Run r = run(cmd, "--help");
            assertEquals(0, r.code(), cmd + ": " + r.err());
            assertTrue(r.out().contains("Usage: hgkd " + cmd), r.out());
            assertTrue(r.out().contains("docs/training.md"), cmd + ": " + r.out());
        }
        Run missing = run("distill", "-o", "x");
        assertEquals(2, missing.code());
        assertTrue(missing.err().contains("--config"), missing.err());
    }

    private static void deleteTree(Path p) throws IOException {
        try (Stream<Path> s = Files.walk(p)) {
            for (Path x : s.sorted(Comparator.reverseOrder()).toList()) {
                Files.delete(x);
            }
        }
    }
}
