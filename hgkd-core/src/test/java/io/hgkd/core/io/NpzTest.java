package io.hgkd.core.io;

import static io.hgkd.core.io.TensorAsserts.assertBitIdentical;
import static io.hgkd.core.io.TensorAsserts.assertRejected;
import static io.hgkd.core.io.TensorAsserts.listing;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.nd4j.linalg.indexing.NDArrayIndex.interval;

import io.hgkd.core.testing.Fixtures;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;
import java.util.zip.ZipOutputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

class NpzTest {
    @TempDir
    Path dir;

    private static Map<String, INDArray> sample() {
        Nd4j.getRandom().setSeed(7);
        INDArray grid = Nd4j.arange(12).castTo(DataType.FLOAT).reshape(3, 4);
        Map<String, INDArray> m = new LinkedHashMap<>();
        m.put("x", Nd4j.randn(DataType.FLOAT, 2, 3, 4));
        m.put("double", Nd4j.createFromArray(Math.E, -0.0, Double.NaN, Double.MIN_VALUE));
        m.put("labels", Nd4j.createFromArray(Long.MIN_VALUE, -1L, (1L << 53) + 1, Long.MAX_VALUE));
        m.put("ints", Nd4j.createFromArray(new int[][] {{1, -2}, {Integer.MAX_VALUE, Integer.MIN_VALUE}}));
        m.put("transposed", grid.transpose());
        m.put("row", grid.getRow(2));
        m.put("block", grid.get(interval(0, 2), interval(1, 4)));
        m.put("fortran", grid.dup('f'));
        m.put("scalar", Nd4j.scalar(-1.25f));
        m.put("scalar_long", Nd4j.scalar(42L));
        m.put("empty", Nd4j.create(DataType.FLOAT, 0, 3));
        m.put("mask", Nd4j.createFromArray(true, false));
        m.put("half", Nd4j.createFromArray(1f, -2.5f, 65504f).castTo(DataType.FLOAT16));
        m.put("u8", Nd4j.createFromArray(0, 255).castTo(DataType.UINT8));
        m.put("i8", Nd4j.createFromArray(new byte[] {-128, 127}));
        m.put("i16", Nd4j.createFromArray(new short[] {-32768, 32767}));
        return m;
    }

    @Test
    void roundTripIsBitIdenticalAndKeepsOrder() throws IOException {
        Map<String, INDArray> in = sample();
        Path file = dir.resolve("dump.npz");
        Npz.write(file, in);
        Map<String, INDArray> out = Npz.read(file);
        assertEquals(new ArrayList<>(in.keySet()), new ArrayList<>(out.keySet()));
        for (String k : in.keySet()) {
            assertBitIdentical(in.get(k), out.get(k), k);
        }
        assertEquals(0, out.get("scalar").rank());
        assertEquals(List.of("dump.npz"), listing(dir));
    }

    @Test
    void writesStoredEntriesThatNd4jsOwnReaderAccepts() throws Exception {
        Map<String, INDArray> in = new LinkedHashMap<>();
        in.put("x", Nd4j.createFromArray(new float[][] {{1, 2, 3}, {4, 5, 6}}).transpose());
        in.put("labels", Nd4j.createFromArray(3L, -4L));
        Path file = dir.resolve("compat.npz");
        Npz.write(file, in);
        try (ZipFile z = new ZipFile(file.toFile())) {
            assertEquals(List.of("x.npy", "labels.npy"), z.stream().map(ZipEntry::getName).toList());
            z.stream().forEach(e -> assertEquals(ZipEntry.STORED, e.getMethod(), e.getName()));
        }
        // Fixtures.load uses Nd4j.createFromNpzFile, which needs sizes in the local headers.
        Map<String, INDArray> nd4j = Nd4j.createFromNpzFile(file.toFile());
        assertBitIdentical(in.get("x"), nd4j.get("x"), "x");
        assertBitIdentical(in.get("labels"), nd4j.get("labels"), "labels");
        // Same input, same bytes (fixed entry timestamps).
        Path again = dir.resolve("again.npz");
        Npz.write(again, in);
        assertArrayEquals(Files.readAllBytes(file), Files.readAllBytes(again));
    }

    @Test
    void readsNumpyLayoutsThatNd4jGetsWrong() throws IOException {
        Map<String, INDArray> m = Npz.read(Fixtures.file("io/numpy_layouts.npz").toPath());
        assertEquals(List.of("fortran", "be_f4", "be_i8", "scalar_i8", "flags"), new ArrayList<>(m.keySet()));
        INDArray grid = Nd4j.arange(6).castTo(DataType.FLOAT).reshape(2, 3);
        assertBitIdentical(grid, m.get("fortran"), "fortran");
        assertBitIdentical(Nd4j.createFromArray(1.5f, -2f, 3e38f), m.get("be_f4"), "be_f4");
        assertBitIdentical(Nd4j.createFromArray(1L, -2L, 1L << 60), m.get("be_i8"), "be_i8");
        assertBitIdentical(Nd4j.scalar(7L), m.get("scalar_i8"), "scalar_i8");
        assertBitIdentical(Nd4j.createFromArray(true, false), m.get("flags"), "flags");

        Map<String, INDArray> c = Npz.read(Fixtures.file("io/numpy_compressed.npz").toPath());
        assertBitIdentical(grid, c.get("grid"), "deflated grid");
    }

    @Test
    void bfloat16AndStringsAreRejectedBeforeWriting() throws IOException {
        Path file = dir.resolve("a.npz");
        Npz.write(file, Map.of("a", Nd4j.createFromArray(1f)));
        byte[] before = Files.readAllBytes(file);
        Map<String, INDArray> bf = new LinkedHashMap<>();
        bf.put("ok", Nd4j.createFromArray(2f));
        bf.put("w", Nd4j.createFromArray(1f).castTo(DataType.BFLOAT16));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Npz.write(file, bf));
        assertTrue(e.getMessage().contains("array 'w' has ND4J data type BFLOAT16"), e.getMessage());
        assertTrue(e.getMessage().contains("cast it to FLOAT"), e.getMessage());
        Map<String, INDArray> str = Map.of("s", Nd4j.create("a"));
        assertThrows(IllegalArgumentException.class, () -> Npz.write(file, str));
        assertArrayEquals(before, Files.readAllBytes(file));
        assertEquals(List.of("a.npz"), listing(dir));
    }

    @Test
    void failedRenameLeavesNoTemporaryFile() throws IOException {
        Path target = dir.resolve("busy.npz");
        Files.createDirectory(target);
        Files.writeString(target.resolve("keep.txt"), "keep");
        assertThrows(IOException.class, () -> Npz.write(target, sample()));
        assertEquals("keep", Files.readString(target.resolve("keep.txt")));
        assertEquals(List.of("busy.npz"), listing(dir));
    }

    // ---------------------------------------------------------------- malformed archives

    private Path zip(String entry, byte[] content) throws IOException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (ZipOutputStream z = new ZipOutputStream(bytes)) {
            z.putNextEntry(new ZipEntry(entry));
            z.write(content);
            z.closeEntry();
        }
        Path f = dir.resolve("bad.npz");
        Files.write(f, bytes.toByteArray());
        return f;
    }

    private static byte[] npy(String header, int dataBytes) {
        byte[] h = header.getBytes(StandardCharsets.ISO_8859_1);
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.writeBytes(new byte[] {(byte) 0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0, (byte) h.length, 0});
        out.writeBytes(h);
        out.writeBytes(new byte[dataBytes]);
        return out.toByteArray();
    }

    @Test
    void rejectsMalformedArchives() throws IOException {
        Path notZip = dir.resolve("text.npz");
        Files.writeString(notZip, "this is not a zip archive");
        assertRejected(notZip, () -> Npz.read(notZip), "not a valid zip archive");

        Path good = dir.resolve("good.npz");
        Npz.write(good, sample());
        byte[] all = Files.readAllBytes(good);
        Path cut = dir.resolve("cut.npz");
        Files.write(cut, Arrays.copyOf(all, all.length / 2));
        assertRejected(cut, () -> Npz.read(cut), "not a valid zip archive");

        String f4 = "{'descr': '<f4', 'fortran_order': False, 'shape': (4,), }\n";
        Path shortData = zip("x.npy", npy(f4, 12));
        assertRejected(shortData, () -> Npz.read(shortData), "entry 'x.npy' is truncated");

        Path complex = zip("c.npy", npy("{'descr': '<c8', 'fortran_order': False, 'shape': (1,), }\n", 8));
        assertRejected(complex, () -> Npz.read(complex), "entry 'c.npy' has unsupported dtype '<c8'");

        Path notNpy = zip("readme.txt", "hello".getBytes(StandardCharsets.US_ASCII));
        assertRejected(notNpy, () -> Npz.read(notNpy), "entry 'readme.txt' is not a .npy array");

        Path badMagic = zip("m.npy", "NOTNUMPYATALL".getBytes(StandardCharsets.US_ASCII));
        assertRejected(badMagic, () -> Npz.read(badMagic), "entry 'm.npy' is not a .npy file");

        Path badShape = zip("s.npy", npy("{'descr': '<f4', 'fortran_order': False, 'shape': (2, x), }\n", 8));
        assertRejected(badShape, () -> Npz.read(badShape), "entry 's.npy' has an invalid shape");
    }

    @Test
    void missingFileIsAPlainIoException() {
        IOException e = assertThrows(IOException.class, () -> Npz.read(dir.resolve("missing.npz")));
        assertFalse(e instanceof TensorFormatException);
    }

    @Test
    void singleNpyRoundTripAndErrors(@org.junit.jupiter.api.io.TempDir java.nio.file.Path dir) throws Exception {
        org.nd4j.linalg.api.ndarray.INDArray a = org.nd4j.linalg.factory.Nd4j.arange(24).castTo(
                org.nd4j.linalg.api.buffer.DataType.FLOAT).reshape(2, 3, 4).permute(2, 0, 1);
        java.nio.file.Path f = dir.resolve("a.npy");
        Npz.writeNpy(f, a);
        org.nd4j.linalg.api.ndarray.INDArray back = Npz.readNpy(f);
        org.junit.jupiter.api.Assertions.assertArrayEquals(a.shape(), back.shape());
        org.junit.jupiter.api.Assertions.assertArrayEquals(a.dup('c').data().asFloat(), back.data().asFloat());
        java.nio.file.Files.write(dir.resolve("bad.npy"), new byte[] {1, 2, 3});
        TensorFormatException e = org.junit.jupiter.api.Assertions.assertThrows(TensorFormatException.class,
                () -> Npz.readNpy(dir.resolve("bad.npy")));
        org.junit.jupiter.api.Assertions.assertTrue(e.getMessage().contains("bad.npy"), e.getMessage());
    }
}
