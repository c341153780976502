package io.hgkd.train.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * Issue 5, "Must show 2": a folder with a corrupt JPEG, a truncated PNG, an empty file, a CMYK JPEG, a grayscale PNG
 * and a text file goes through whole epochs; the bad files are named in the log and counted.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class BadFilesEpochTest {

    @TempDir
    static Path root;

    static final List<String> GOOD = List.of("cat/cmyk.jpg", "cat/gray.png", "cat/photo.bmp", "cat/photo.gif",
        "cat/photo.jpg", "cat/photo.png", "cat/progressive.jpg", "cat/rgba.png", "dog/dog1.jpg", "dog/dog2.png",
        "dog/small_gray.jpg");
    static final List<String> BAD = List.of("dog/corrupt.jpg", "dog/empty.jpg", "dog/notes.jpg", "dog/truncated.png");

    @BeforeAll
    static void buildFolder() throws IOException {
        Path cat = root.resolve("cat");
        Path dog = root.resolve("dog");
        TestImages.write(cat.resolve("photo.jpg"), TestImages.encode(TestImages.rgb(120, 90, 1), "jpeg"));
        TestImages.write(cat.resolve("photo.png"), TestImages.encode(TestImages.rgb(64, 80, 2), "png"));
        TestImages.write(cat.resolve("photo.bmp"), TestImages.encode(TestImages.rgb(50, 40, 3), "bmp"));
        TestImages.write(cat.resolve("photo.gif"), TestImages.encode(TestImages.rgb(45, 60, 4), "gif"));
        TestImages.write(cat.resolve("gray.png"), TestImages.encode(TestImages.gray(70, 50), "png"));
        TestImages.write(cat.resolve("rgba.png"), TestImages.encode(TestImages.rgba(40, 40), "png"));
        Files.copy(TestImages.fixture("cmyk.jpg"), cat.resolve("cmyk.jpg"));
        Files.copy(TestImages.fixture("progressive.jpg"), cat.resolve("progressive.jpg"));
        TestImages.write(dog.resolve("dog1.jpg"), TestImages.encode(TestImages.rgb(100, 100, 5), "jpeg"));
        TestImages.write(dog.resolve("dog2.png"), TestImages.encode(TestImages.rgb(33, 77, 6), "png"));
        TestImages.write(dog.resolve("small_gray.jpg"), TestImages.encode(TestImages.gray(20, 12), "jpeg"));
        // The bad ones: random bytes behind a JPEG header, half a PNG, nothing, and text named .jpg.
        byte[] noise = new byte[4096];
        new Random(1).nextBytes(noise);
        noise[0] = (byte) 0xFF;
        noise[1] = (byte) 0xD8;
        noise[2] = (byte) 0xFF;
        noise[3] = (byte) 0xE0;
        TestImages.write(dog.resolve("corrupt.jpg"), noise);
        byte[] png = TestImages.encode(TestImages.rgb(90, 90, 7), "png");
        TestImages.write(dog.resolve("truncated.png"), Arrays.copyOf(png, png.length / 2));
        TestImages.write(dog.resolve("empty.jpg"), new byte[0]);
        TestImages.write(dog.resolve("notes.jpg"), "shopping list: milk, eggs\n".getBytes());
        // A directory that cannot be indexed (as root, permissions cannot make one unreadable; a link loop can).
        Files.createSymbolicLink(dog.resolve("loop"), dog);
    }

    @Test
    void wholeEpochsSkipNameAndCountTheBadFiles() throws IOException {
        ImageFolder folder = ImageFolder.labeled(root);
        assertEquals(List.of("cat", "dog"), folder.classes());
        assertEquals(GOOD.size() + BAD.size(), folder.size());
        Dataset ds = folder.withPipeline(Pipeline.sparkPretrain(32));
        try (LogCapture log = new LogCapture();
                Loader loader = new Loader(ds, LoaderConfig.of(4).withWorkers(2).withSeed(7))) {
            for (int epoch = 0; epoch < 2; epoch++) {
                Loader.Epoch e = loader.epoch(epoch);
                Set<String> seen = new TreeSet<>();
                List<Integer> sizes = new ArrayList<>();
                for (Batch b : e) {
                    INDArray x = b.images();
                    assertEquals(3, x.size(1));
                    assertEquals(32, x.size(2));
                    assertTrue(x.maxNumber().doubleValue() < 3 && x.minNumber().doubleValue() > -2.2);
                    sizes.add(b.size());
                    for (int i = 0; i < b.size(); i++) {
                        seen.add(folder.relativePath(b.indices()[i]));
                        assertEquals(folder.label(b.indices()[i]), b.labels()[i]);
                    }
                }
                // 11 good images in batches of 4: 4, 4, 3; every good file once, no bad one.
                assertEquals(List.of(4, 4, 3), sizes);
                assertEquals(new TreeSet<>(GOOD), seen);
                EpochSummary s = e.summary();
                assertTrue(s.finished());
                assertEquals(GOOD.size(), s.samples());
                assertEquals(BAD.size(), s.badFiles());
                assertEquals(new TreeSet<>(BAD), new TreeSet<>(s.badFileNames().stream()
                        .map(p -> root.relativize(Path.of(p)).toString()).toList()));
                assertEquals(1, s.unreadablePaths());
            }
            String text = log.text();
            for (String bad : BAD) {
                assertTrue(text.contains("WARN io.hgkd.train.data.Loader - skipping bad image "
                        + root.resolve(bad)), bad + " not named in the log:\n" + text);
            }
            assertTrue(text.contains(root.resolve("dog/empty.jpg") + ": empty file"), text);
            assertTrue(text.contains(root.resolve("dog/notes.jpg") + ": not an image"), text);
            assertTrue(text.contains(root.resolve("dog/truncated.png") + ": corrupt or truncated PNG"), text);
            assertTrue(text.contains("epoch 0 done: 11 samples in 3 batches"), text);
            assertTrue(text.contains("4 bad files skipped"), text);
            assertTrue(text.contains("epoch 1 done: 11 samples in 3 batches"), text);
            assertTrue(text.contains("1 unreadable paths skipped while indexing (" + root.resolve("dog/loop")
                    + ": symbolic link loop)"), text);
        }
    }

    @Test
    void strictModeStopsAtTheFirstBadFile() throws IOException {
        Dataset ds = ImageFolder.labeled(root).withPipeline(Pipeline.imagenetEval(32));
        try (Loader loader = new Loader(ds, LoaderConfig.of(4).withWorkers(2).withShuffle(false).withStrict(true))) {
            Loader.Epoch e = loader.epoch(0);
            // cat/* (8 good) come first: two full batches, then dog/corrupt.jpg is the first bad file.
            e.next();
            e.next();
            DataLoadingException ex = assertThrows(DataLoadingException.class, e::next);
            assertTrue(ex.getMessage().contains(root.resolve("dog/corrupt.jpg").toString()), ex.getMessage());
            assertTrue(ex.getMessage().contains("strict"), ex.getMessage());
        }
    }

    @Test
    void grayscaleFolderGivesOneChannel() throws IOException {
        ImageFolder folder = ImageFolder.labeled(root);
        Dataset ds = folder.withPipeline(Pipeline.of(1, Normalize.of(0.5f, 0.5f), new ResizeShorter(20,
                Interpolation.BILINEAR), CenterCrop.of(20)));
        try (Loader loader = new Loader(ds, LoaderConfig.of(16).withWorkers(1).withLogEverySeconds(0))) {
            List<Batch> all = new ArrayList<>();
            loader.epoch(0).forEachRemaining(all::add);
            assertEquals(1, all.size());
            assertArrayEquals(new long[] {11, 1, 20, 20}, all.get(0).images().shape());
        }
    }
}
