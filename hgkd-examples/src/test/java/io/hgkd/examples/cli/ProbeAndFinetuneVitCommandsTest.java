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
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code hgkd probe} and {@code hgkd finetune-vit} on the tiny configs, chained into export and distill. */
class ProbeAndFinetuneVitCommandsTest {
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

    private Path config(String name) throws IOException {
        Path p = dir.resolve(name);
        try (InputStream in = getClass().getResourceAsStream("/configs/" + name)) {
            Files.copy(in, p);
        }
        return p;
    }

    @Test
    void probeWritesTopOneAndHonoursTheLabelSubset() throws IOException {
        Path cfg = config("probe-tiny.json");
        Run p = run("probe", "--config", cfg.toString(), "--print-config", "--output", dir.resolve("x").toString());
        assertEquals(0, p.code(), p.err());
        assertFalse(p.out().contains("labels"), "all labels: no labels field " + p.out());

        Run r = run("probe", "--config", cfg.toString(), "--output", dir.resolve("all").toString());
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("probe: top1 "), r.out());
        JsonNode all = new ObjectMapper().readTree(dir.resolve("all/probe.json").toFile());
        assertEquals(64, all.get("train_size").asInt());
        double top1 = all.get("top1").asDouble();
        assertTrue(top1 >= 0 && top1 <= 1, all.toString());
        assertEquals(5, all.get("epoch_losses").size());

        Run half = run("probe", "--config", cfg.toString(), "--set", "job.data.labels={\"fraction\":0.5,\"seed\":1}",
                "--output", dir.resolve("half").toString());
        assertEquals(0, half.code(), half.err());
        JsonNode h = new ObjectMapper().readTree(dir.resolve("half/probe.json").toFile());
        assertTrue(h.get("train_size").asInt() < 40, h.toString());
        assertEquals(0.5, h.get("label_fraction").asDouble());

        Run bad = run("probe", "--config", cfg.toString(), "--set",
                "job.data.labels={\"fraction\":0,\"seed\":1}",
                "--output", dir.resolve("bad").toString());
        assertEquals(2, bad.code());
        assertTrue(bad.err().contains("job.data.labels") && bad.err().contains("(0, 1]"), bad.err());
    }

    @Test
    void finetuneVitExportsATeacherThatDistillLoads() throws IOException {
        Path out = dir.resolve("ft");
        Run r = run("finetune-vit", "--config", config("finetune-vit-tiny.json").toString(), "--output",
                out.toString());
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("finetune-vit: completed after 2 epochs"), r.out());
        JsonNode saved = new ObjectMapper().readTree(out.resolve("config.json").toFile());
        assertEquals(0.5, saved.at("/job/data/labels/fraction").asDouble());

        Path teacher = dir.resolve("teacher.safetensors");
        Run e = run("export", out.toString(), "--output", teacher.toString());
        assertEquals(0, e.code(), e.err());
        assertTrue(e.out().contains("fine-tuned ViT encoder"), e.out());
        assertFalse(SafeTensors.read(teacher).containsKey("head.weight"));

        Run d = run("distill", "--config", config("distill-tiny.json").toString(), "--set",
                "job.teacherWeights=" + teacher, "--set", "trainer.epochs=1", "--set",
                "trainer.warmupEpochs=0", "--output", dir.resolve("d").toString());
        assertEquals(0, d.code(), d.err());

        Run p = run("probe", "--config", config("probe-tiny.json").toString(), "--set",
                "job.encoderWeights=" + teacher, "--set", "job.epochs=2", "--output", dir.resolve("p").toString());
        assertEquals(0, p.code(), p.err());
    }
}
