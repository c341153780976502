package io.hgkd.train.trainer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.hgkd.train.data.Dataset;
import io.hgkd.train.loop.RunSummary;
import java.awt.image.BufferedImage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;
import java.util.stream.Stream;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@link DataConfig.Source#IMAGE_FOLDER}: a distillation run over PNGs in class folders with one corrupt file. */
class ImageFolderDataTest {

    /** 8 PNGs (40x36) in each of {@code a} and {@code b}, plus a corrupt {@code a/bad.jpg}. */
    static void writeFolder(Path root) throws Exception {
        Random r = new Random(3);
        for (String c : new String[] {"a", "b"}) {
            Path d = Files.createDirectories(root.resolve(c));
            for (int i = 0; i < 8; i++) {
                BufferedImage img = new BufferedImage(40, 36, BufferedImage.TYPE_INT_RGB);
                for (int y = 0; y < 36; y++) {
                    for (int x = 0; x < 40; x++) {
                        img.setRGB(x, y, r.nextInt(0x1000000));
                    }
                }
                assertTrue(ImageIO.write(img, "png", d.resolve("img" + i + ".png").toFile()));
            }
        }
        byte[] junk = new byte[300];
        r.nextBytes(junk);
        Files.write(root.resolve("a").resolve("bad.jpg"), junk);
    }

    @Test
    void distillationTrainsOneEpochAndSkipsTheCorruptFile(@TempDir Path tmp) throws Exception {
        Path root = tmp.resolve("images");
        writeFolder(root);
        DistillJobConfig t = TinyRuns.distill(11);
        DataConfig data = DataConfig.imageFolder(root.toString(), 32, 8, 2);
        DistillJobConfig c = new DistillJobConfig(t.seed(), t.teacher(), null, t.student(), t.loss(), 0.6, 0, data);
        assertEquals(c, Trainer.JSON.treeToValue(Trainer.JSON.valueToTree(c), DistillJobConfig.class));
        Path out = tmp.resolve("run");
        try (DistillJob job = new DistillJob(c)) {
            RunSummary s = new Trainer(job, new TrainerConfig(1, TrainerConfig.OptimizerKind.LAMB, 0.05, 0.04, 0.2, 0, 0, 1, 3, 1, 1, 1), out,
                    null).fit();
            assertEquals(RunSummary.Status.COMPLETED, s.status());
            assertEquals(1, s.epochs());
            assertEquals(2, s.globalSteps(), "16 good images in batches of 8");
        }
        try (Stream<Path> ckpts = Files.list(out.resolve("checkpoints"))) {
            assertTrue(ckpts.anyMatch(p -> p.getFileName().toString().startsWith("checkpoint-")));
        }
    }

    @Test
    void splitsClassesAndValidation(@TempDir Path tmp) throws Exception {
        Path root = tmp.resolve("images");
        writeFolder(root.resolve("train"));
        DataConfig data = new DataConfig(DataConfig.Source.IMAGE_FOLDER, root.toString(), 0, 24, 1, 0, 4, 0, true);
        assertEquals(2, data.classes());
        Dataset train = data.train();
        assertEquals(17, train.size());
        assertEquals(2, train.numClasses());
        assertEquals(17, data.eval().size(), "no val folder: the training folder");
        assertEquals(1 * 24 * 24, train.get(1, new java.util.SplittableRandom(1)).data().length);
        Files.createDirectories(root.resolve("val").resolve("a"));
        ImageIO.write(new BufferedImage(30, 30, BufferedImage.TYPE_BYTE_GRAY), "png",
                root.resolve("val").resolve("a").resolve("x.png").toFile());
        assertEquals(1, data.eval().size());
        assertEquals(24, data.eval().get(0, new java.util.SplittableRandom(1)).height());
        assertThrows(IllegalArgumentException.class,
                () -> new DataConfig(DataConfig.Source.IMAGE_FOLDER, null, 0, 24, 3, 0, 4, 0, true));
    }
}
