package io.hgkd.examples;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.hgkd.examples.cli.Hgkd;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code hgkd quickstart} end to end with every stage shrunk by --set (32 images, 1 epoch, tiny models): six stages,
 * a results table with a top-1 per student, the JSON, the pictures; a second run goes to a fresh folder.
 */
class QuickstartTest {
    @TempDir
    Path dir;

    static String[] shrunk(Path out) {
        List<String> a = new ArrayList<>(List.of("quickstart", "--output", out.toString()));
        List<String> sets = new ArrayList<>(List.of("previews=2",
                "teacher.job.mae.encoder.embedDim=32", "teacher.job.mae.encoder.depth=1",
                "teacher.job.mae.encoder.numHeads=2", "teacher.job.mae.decoderEmbedDim=16",
                "teacher.job.mae.decoderNumHeads=2",
                "distill.job.teacher.embedDim=32", "distill.job.teacher.depth=1", "distill.job.teacher.numHeads=2",
                "distill.job.student.teacherDim=32", "distill.job.student.decoderWidth=32",
                "distill.job.student.encoder.layers=[1,1,1,1]", "distill.job.student.encoder.baseWidth=8",
                "distill.job.loss.queueSize=16",
                "finetune.job.model.layers=[1,1,1,1]", "finetune.job.model.baseWidth=8"));
        for (String stage : List.of("teacher", "distill", "finetune")) {
            sets.addAll(List.of(stage + ".trainer.epochs=1", stage + ".trainer.warmupEpochs=0",
                    stage + ".job.data.limit=32", stage + ".job.data.batchSize=8"));
        }
        for (String s : sets) {
            a.add("--set");
            a.add(s);
        }
        return a.toArray(new String[0]);
    }

    @Test
    void runsAllStagesAndWritesTheTableAndPictures() throws Exception {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        Path base = dir.resolve("qs");
        int code = Hgkd.execute(shrunk(base), new PrintWriter(out), new PrintWriter(err));
        assertEquals(0, code, err.toString());
        String o = out.toString();
        for (String stage : List.of("1/6 teacher", "2/6 hgkd", "3/6 spark", "4/6 finetune-hgkd", "5/6 finetune-spark",
                "6/6 finetune-scratch")) {
            assertTrue(o.contains("== " + stage + " done in"), stage + ": " + o);
        }
        String table = Files.readString(base.resolve("results.md"));
        for (String row : List.of("| H-GKD | ViT teacher -> ResNet |", "| SparK | pixel reconstruction |",
                "| scratch | no pretraining |")) {
            assertTrue(table.contains(row), row + " in " + table);
            assertTrue(o.contains(row), "printed: " + row);
        }
        JsonNode json = new ObjectMapper().readTree(base.resolve("results.json").toFile());
        assertEquals(6, json.get("stages").size());
        assertEquals(32, json.get("test_images").asInt());
        for (JsonNode s : json.get("stages")) {
            if (s.get("stage").asText().startsWith("finetune-")) {
                double top1 = s.at("/metrics/top1").asDouble(-1);
                assertTrue(top1 >= 0 && top1 <= 1, "a fraction: " + s);
                assertTrue(table.contains(String.format(java.util.Locale.ROOT, " | %.1f | ", 100 * top1)),
                        "the table shows percent: " + table);
            }
        }
        for (String pic : List.of("teacher", "hgkd", "spark")) {
            assertTrue(ImageIO.read(base.resolve(pic + "-previews.png").toFile()).getHeight() > 0, pic);
        }
        assertTrue(Files.isRegularFile(base.resolve("teacher").resolve("vit_encoder.safetensors")));
        assertTrue(Files.isRegularFile(base.resolve("quickstart-config.json")));

        // the folder is taken now: the next run goes to qs-2
        assertEquals(base.resolveSibling("qs-2"), io.hgkd.examples.cli.QuickstartCommand.freshDir(base));
    }

    @Test
    void printsTheBundledConfig() throws Exception {
        StringWriter out = new StringWriter();
        int code = Hgkd.execute(new String[] {"quickstart", "--print-config", "--set", "distill.trainer.epochs=9"},
                new PrintWriter(out), new PrintWriter(new StringWriter()));
        assertEquals(0, code);
        JsonNode c = new ObjectMapper().readTree(out.toString());
        assertEquals(9, c.at("/distill/trainer/epochs").asInt());
        assertEquals("FASHION_MNIST_EMBEDDED", c.at("/finetune/job/data/source").asText());
    }
}
