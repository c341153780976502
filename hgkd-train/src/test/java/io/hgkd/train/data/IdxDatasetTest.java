package io.hgkd.train.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.hgkd.core.testing.Fixtures;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.SplittableRandom;
import java.util.zip.GZIPOutputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class IdxDatasetTest {

    private static byte[] idx(int magic, int[] dims, byte[] data) {
        ByteBuffer b = ByteBuffer.allocate(4 + 4 * dims.length + data.length);
        b.putInt(magic);
        for (int d : dims) {
            b.putInt(d);
        }
        b.put(data);
        return b.array();
    }

    private static byte[] gzip(byte[] raw) {
        try {
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            try (GZIPOutputStream g = new GZIPOutputStream(out)) {
                g.write(raw);
            }
            return out.toByteArray();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** 3 images of 2x4 with pixel values 0..23, labels 7, 0, 9. */
    private static byte[] images() {
        byte[] px = new byte[24];
        for (int i = 0; i < 24; i++) {
            px[i] = (byte) (i * 10);
        }
        return idx(IdxDataset.IMAGES_MAGIC, new int[] {3, 2, 4}, px);
    }

    private static byte[] labels() {
        return idx(IdxDataset.LABELS_MAGIC, new int[] {3}, new byte[] {7, 0, 9});
    }

    @Test
    void readsRawAndGzipAlike(@TempDir Path dir) throws IOException {
        Files.write(dir.resolve("im"), images());
        Files.write(dir.resolve("lb"), labels());
        Files.write(dir.resolve("im.gz"), gzip(images()));
        Files.write(dir.resolve("lb.gz"), gzip(labels()));
        IdxDataset raw = IdxDataset.read(dir.resolve("im"), dir.resolve("lb"));
        IdxDataset gz = IdxDataset.read(dir.resolve("im.gz"), dir.resolve("lb"));
        for (IdxDataset d : new IdxDataset[] {raw, gz}) {
            assertEquals(3, d.size());
            assertEquals(2, d.rows());
            assertEquals(4, d.cols());
            assertEquals(10, d.numClasses());
            assertEquals(9, d.label(2));
            ByteImage im = d.read(1, 1);
            assertEquals(1, im.channels());
            assertEquals(80, im.get(0, 0, 0));
            assertEquals(150, im.get(1, 3, 0));
            assertEquals(3, d.read(1, 3).channels());
            assertTrue(d.describe(2).endsWith("#2"));
        }
        assertEquals(IdxDataset.read(dir.resolve("im.gz"), dir.resolve("lb.gz")).read(2, 1), raw.read(2, 1));
    }

    private static void assertBad(Path dir, byte[] imageBytes, byte[] labelBytes, String... expected)
            throws IOException {
        Path im = dir.resolve("images-under-test");
        Path lb = dir.resolve("labels-under-test");
        Files.write(im, imageBytes);
        Files.write(lb, labelBytes);
        IdxFormatException e = assertThrows(IdxFormatException.class, () -> IdxDataset.read(im, lb));
        for (String s : expected) {
            assertTrue(e.getMessage().contains(s), "'" + e.getMessage() + "' should contain '" + s + "'");
        }
    }

    @Test
    void headerValidationNamesTheFileAndTheProblem(@TempDir Path dir) throws IOException {
        byte[] im = images();
        byte[] lb = labels();
        assertBad(dir, idx(0x00000804, new int[] {3, 2, 4, 1}, new byte[24]), lb, "images-under-test",
                "bad magic number 0x00000804, expected 0x00000803");
        assertBad(dir, lb, lb, "images-under-test", "a labels file; images were expected");
        assertBad(dir, im, im, "labels-under-test", "an images file; labels were expected");
        assertBad(dir, "P5\n28 28\n255\n".getBytes(), lb, "not an IDX file");
        assertBad(dir, Arrays.copyOf(im, im.length - 5), lb, "images-under-test", "truncated",
                "promises 24 data bytes (3 x 2 x 4), the file has 19");
        assertBad(dir, Arrays.copyOf(im, 9), lb, "truncated header");
        assertBad(dir, new byte[2], lb, "too short");
        assertBad(dir, Arrays.copyOf(im, im.length + 3), lb, "3 unexpected bytes after");
        assertBad(dir, idx(IdxDataset.IMAGES_MAGIC, new int[] {0, 28, 28}, new byte[0]), lb, "dimension 0 is 0");
        assertBad(dir, im, idx(IdxDataset.LABELS_MAGIC, new int[] {2}, new byte[2]), "labels-under-test",
                "2 labels for the 3 images");
        byte[] gz = gzip(im);
        assertBad(dir, Arrays.copyOf(gz, gz.length - 12), lb, "images-under-test", "truncated gzip");
        assertThrows(java.nio.file.NoSuchFileException.class,
                () -> IdxDataset.read(dir.resolve("missing"), dir.resolve("labels-under-test")));
    }

    @Test
    void embeddedSubsetLoads() throws IOException {
        FashionMnist.Splits s = FashionMnist.embedded();
        assertEquals(FashionMnist.Origin.EMBEDDED, s.location().origin());
        assertEquals(4000, s.train().size());
        assertEquals(500, s.test().size());
        assertEquals(28, s.train().rows());
        assertEquals(28, s.train().cols());
        assertEquals(10, s.train().numClasses());
        int[] counts = new int[10];
        long sum = 0;
        int max = 0;
        for (int i = 0; i < s.train().size(); i++) {
            counts[s.train().label(i)]++;
            for (byte b : s.train().read(i, 1).pixels()) {
                sum += b & 0xFF;
                max = Math.max(max, b & 0xFF);
            }
        }
        // Per-class counts printed by make_fashion_subset.py.
        assertArrayEquals(new int[] {373, 440, 404, 409, 395, 391, 400, 413, 380, 395}, counts);
        assertEquals(255, max);
        double mean = sum / (4000.0 * 784) / 255;
        assertEquals(0.286, mean, 0.01, "pixel mean of the subset");
        // The class path copy is the committed file.
        IdxDataset fromFile = IdxDataset.read(Fixtures.file("fashion-mnist/t10k-images-idx3-ubyte.gz").toPath(),
                Fixtures.file("fashion-mnist/t10k-labels-idx1-ubyte.gz").toPath());
        assertEquals(fromFile.read(499, 1), s.test().read(499, 1));
        assertEquals(fromFile.label(499), s.test().label(499));
        Sample x = s.train().withPipeline(Pipeline.of(3, FashionMnist.NORMALIZE, Pad.uniform(2)))
                .get(0, new SplittableRandom(0));
        assertEquals("3x32x32", x.shape());
        assertEquals(s.train().label(0), x.label());
        assertEquals((0f - 0.286041f) / 0.353024f, x.data()[0], 1e-6f);
    }

    @Test
    void theLoaderBatchesIdxData() throws IOException {
        IdxDataset test = FashionMnist.embedded().test();
        try (Loader loader = new Loader(test.withPipeline(FashionMnist.padded(32, 3)),
                LoaderConfig.of(64).withWorkers(2).withLogEverySeconds(0))) {
            int n = 0;
            for (Batch b : loader.epoch(0)) {
                assertEquals(3, b.images().size(1));
                assertEquals(32, b.images().size(3));
                for (int i = 0; i < b.size(); i++) {
                    assertEquals(test.label(b.indices()[i]), b.labels()[i]);
                }
                n += b.size();
            }
            assertEquals(500, n);
        }
        Sample up = test.withPipeline(FashionMnist.resized(32, 1, Interpolation.BILINEAR))
                .get(0, new SplittableRandom(0));
        assertEquals("1x32x32", up.shape());
        assertThrows(IllegalArgumentException.class, () -> FashionMnist.padded(20, 1));
    }

    @Test
    void debianFilesArePreferredWhenInstalled() throws IOException {
        assumeTrue(FashionMnist.debianInstalled(), "dataset-fashion-mnist is not installed");
        FashionMnist.Location where = FashionMnist.locate(null);
        assertEquals(FashionMnist.Origin.DEBIAN, where.origin());
        FashionMnist.Splits s = FashionMnist.load();
        assertEquals(60000, s.train().size());
        assertEquals(10000, s.test().size());
        // The embedded subset is a prefix of the full set.
        FashionMnist.Splits e = FashionMnist.embedded();
        for (int i : new int[] {0, 1, 1234, 3999}) {
            assertEquals(s.train().read(i, 1), e.train().read(i, 1));
            assertEquals(s.train().label(i), e.train().label(i));
        }
        assertEquals(s.test().read(499, 1), e.test().read(499, 1));
    }

    @Test
    void explicitFolderComesFirst(@TempDir Path dir) throws IOException {
        Files.write(dir.resolve("train-images-idx3-ubyte"), images());
        Files.write(dir.resolve("train-labels-idx1-ubyte.gz"), gzip(labels()));
        IOException missing = assertThrows(IOException.class, () -> FashionMnist.locate(dir));
        assertTrue(missing.getMessage().contains("t10k-images-idx3-ubyte")
                && missing.getMessage().contains("t10k-labels-idx1-ubyte"), missing.getMessage());
        Files.write(dir.resolve("t10k-images-idx3-ubyte.gz"), gzip(images()));
        Files.write(dir.resolve("t10k-labels-idx1-ubyte"), labels());
        FashionMnist.Splits s = FashionMnist.load(dir);
        assertEquals(FashionMnist.Origin.EXPLICIT, s.location().origin());
        assertEquals(3, s.train().size());
        assertEquals(7, s.test().label(0));
        FashionMnist.Origin fallback = FashionMnist.locate(null).origin();
        assertEquals(FashionMnist.debianInstalled() ? FashionMnist.Origin.DEBIAN : FashionMnist.Origin.EMBEDDED,
                fallback);
    }
}
