package io.hgkd.core.io;

import static io.hgkd.core.io.TensorAsserts.assertBitIdentical;
import static io.hgkd.core.io.TensorAsserts.assertRejected;
import static io.hgkd.core.io.TensorAsserts.listing;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.nd4j.linalg.indexing.NDArrayIndex.interval;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.hgkd.core.testing.Fixtures;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

class SafeTensorsTest {
    @TempDir
    Path dir;

    /** One tensor of every type and layout the writer must handle. */
    private static Map<String, INDArray> sample() {
        Nd4j.getRandom().setSeed(1234);
        INDArray grid = Nd4j.arange(12).castTo(DataType.FLOAT).reshape(3, 4);
        Map<String, INDArray> m = new LinkedHashMap<>();
        m.put("encoder.blocks.0.weight", Nd4j.randn(DataType.FLOAT, 3, 5));
        m.put("double", Nd4j.createFromArray(Math.PI, -0.0, Double.MIN_VALUE, Double.MAX_VALUE, Double.NaN,
                Double.NEGATIVE_INFINITY).reshape(2, 3));
        m.put("steps", Nd4j.createFromArray(Long.MIN_VALUE, -1L, 0L, (1L << 53) + 1, Long.MAX_VALUE));
        m.put("idx", Nd4j.createFromArray(new int[][] {{Integer.MIN_VALUE, -1}, {0, Integer.MAX_VALUE}}));
        m.put("transposed", grid.transpose());
        m.put("row", grid.getRow(1));
        m.put("block", grid.get(interval(1, 3), interval(1, 3)));
        m.put("fortran", grid.mul(2).dup('f'));
        m.put("scalar", Nd4j.scalar(2.5f));
        m.put("empty", Nd4j.create(DataType.FLOAT, 0, 3));
        m.put("mask", Nd4j.createFromArray(true, false, true));
        m.put("u8", Nd4j.createFromArray(0, 1, 200, 255).castTo(DataType.UINT8));
        m.put("i8", Nd4j.createFromArray(new byte[] {-128, 0, 127}));
        m.put("i16", Nd4j.createFromArray(new short[] {-32768, 7, 32767}));
        m.put("half", Nd4j.createFromArray(1f, -2.5f, 65504f, 6.1035156e-5f).castTo(DataType.FLOAT16));
        m.put("bf16", Nd4j.createFromArray(1f, -3.140625f, 1e30f, 0f).castTo(DataType.BFLOAT16));
        return m;
    }

    /** What {@link SafeTensors#read} gives back for a written array: the same, with 16-bit floats as FLOAT. */
    private static INDArray expectedAfterRead(INDArray written) {
        DataType t = written.dataType();
        return t == DataType.FLOAT16 || t == DataType.BFLOAT16 ? written.castTo(DataType.FLOAT) : written;
    }

    @Test
    void roundTripIsBitIdenticalForAllTypesLayoutsAndMetadata() throws IOException {
        Map<String, INDArray> in = sample();
        Map<String, String> meta = new LinkedHashMap<>();
        meta.put("format", "pt");
        meta.put("note", "caf\u00e9 \"quoted\" {braces}");
        Path file = dir.resolve("model.safetensors");
        SafeTensors.write(file, in, meta);

        Map<String, INDArray> out = SafeTensors.read(file);
        assertEquals(new ArrayList<>(in.keySet()), new ArrayList<>(out.keySet()), "order");
        for (String k : in.keySet()) {
            assertBitIdentical(expectedAfterRead(in.get(k)), out.get(k), k);
        }
        assertEquals(0, out.get("scalar").rank(), "0-d scalar stays 0-d");
        assertEquals(meta, SafeTensors.metadata(file));
        assertEquals(List.of("model.safetensors"), listing(dir), "no temporary file left");
    }

    @Test
    void emptyMetadataIsOmittedAndReadsBackEmpty() throws IOException {
        Map<String, INDArray> in = Map.of("x", Nd4j.createFromArray(1f, 2f));
        Path a = dir.resolve("a.safetensors");
        Path b = dir.resolve("b.safetensors");
        SafeTensors.write(a, in);
        SafeTensors.write(b, in, Map.of());
        assertArrayEquals(Files.readAllBytes(a), Files.readAllBytes(b));
        assertTrue(SafeTensors.metadata(a).isEmpty());
        String header = new String(Files.readAllBytes(a), StandardCharsets.UTF_8);
        assertFalse(header.contains("__metadata__"));
        assertBitIdentical(in.get("x"), SafeTensors.read(a).get("x"), "x");
    }

    @Test
    void emptyTensorMapWritesAValidFile() throws IOException {
        Path file = dir.resolve("none.safetensors");
        SafeTensors.write(file, Map.of(), Map.of("k", "v"));
        assertTrue(SafeTensors.read(file).isEmpty());
        assertEquals(Map.of("k", "v"), SafeTensors.metadata(file));
    }

    @Test
    void layoutMatchesTheFormat() throws IOException {
        Map<String, INDArray> in = sample();
        Path file = dir.resolve("layout.safetensors");
        SafeTensors.write(file, in, Map.of("k", "v"));
        byte[] bytes = Files.readAllBytes(file);
        long n = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN).getLong(0);
        assertEquals(0, (8 + n) % 8, "data start 8-byte aligned");
        String json = new String(bytes, 8, (int) n, StandardCharsets.UTF_8);
        assertTrue(json.startsWith("{\"__metadata__\":{\"k\":\"v\"},\"encoder.blocks.0.weight\":{\"dtype\":\"F32\","
                + "\"shape\":[3,5],\"data_offsets\":[0,60]}"), json);
        String trimmed = json.stripTrailing();
        assertTrue(trimmed.endsWith("}") && json.substring(trimmed.length()).chars().allMatch(c -> c == ' '),
                "padded with spaces");
        assertTrue(n - trimmed.length() < 8);

        SafeTensors.Header h = SafeTensors.readHeader(file);
        assertEquals(n, h.headerBytes());
        assertEquals(8 + n, h.dataStart());
        assertEquals(new ArrayList<>(in.keySet()), new ArrayList<>(h.tensors().keySet()));
        long pos = 0;
        for (Map.Entry<String, INDArray> e : in.entrySet()) {
            SafeTensors.TensorInfo t = h.tensors().get(e.getKey());
            assertArrayEquals(e.getValue().shape(), t.shape(), e.getKey());
            assertEquals(pos, t.begin(), e.getKey() + " contiguous");
            assertEquals(e.getValue().length() * e.getValue().dataType().width(), t.byteLength(), e.getKey());
            assertEquals(expectedAfterRead(e.getValue()).dataType(), t.dataType(), e.getKey());
            pos = t.end();
        }
        assertEquals(pos, h.dataBytes(), "no trailing bytes");
        assertEquals("F32", h.tensors().get("transposed").dtype());
        assertEquals("F64", h.tensors().get("double").dtype());
        assertEquals("I64", h.tensors().get("steps").dtype());
        assertEquals("I32", h.tensors().get("idx").dtype());
        assertEquals("F16", h.tensors().get("half").dtype());
        assertEquals("BF16", h.tensors().get("bf16").dtype());
        assertEquals("BOOL", h.tensors().get("mask").dtype());
        assertEquals("U8", h.tensors().get("u8").dtype());
        assertEquals("I8", h.tensors().get("i8").dtype());
        assertEquals("I16", h.tensors().get("i16").dtype());
        assertArrayEquals(new long[0], h.tensors().get("scalar").shape());
        assertArrayEquals(new long[] {4, 3}, h.tensors().get("transposed").shape());
    }

    // ---------------------------------------------------------------- the Python-written fixture

    private static final List<String> FIXTURE_ORDER = List.of("encoder.weight", "half", "bfloat", "f64", "steps",
            "idx", "mask", "pixels", "scalar", "empty", "\u00fcn\u00ef.bias");

    @Test
    void readsTheFileWrittenByPython() throws IOException {
        Path file = Fixtures.file("io/reference.safetensors").toPath();
        Map<String, INDArray> expected = Npz.read(Fixtures.file("io/reference_expected.npz").toPath());
        Map<String, INDArray> got = SafeTensors.read(file);
        assertEquals(FIXTURE_ORDER, new ArrayList<>(got.keySet()), "header order kept");
        assertEquals(FIXTURE_ORDER, new ArrayList<>(expected.keySet()));
        for (String k : FIXTURE_ORDER) {
            // F16/BF16 were converted by numpy to float32; the Java conversion must give the same bits.
            assertBitIdentical(expected.get(k), got.get(k), k);
        }
        Map<String, String> meta = SafeTensors.metadata(file);
        assertEquals(Map.of("format", "pt", "producer", "tools/reference/make_io_fixtures.py", "note", "caf\u00e9"),
                meta);

        // A few values spelled out, so that the check does not rest on the npz reader alone.
        float[] half = got.get("half").data().asFloat();
        assertEquals(65504f, half[4]);
        assertEquals(Float.floatToRawIntBits(-0f), Float.floatToRawIntBits(half[1]));
        assertEquals(0x1p-24f, half[6], "smallest subnormal");
        assertEquals(Float.POSITIVE_INFINITY, half[8]);
        assertTrue(Float.isNaN(half[10]));
        assertEquals(-3.140625f, got.get("bfloat").getFloat(0, 1));
        assertEquals((1L << 53) + 1, got.get("steps").getLong(2));
        assertEquals(Long.MIN_VALUE, got.get("steps").getLong(3));
        assertEquals(DataType.BOOL, got.get("mask").dataType());
        assertEquals(DataType.UINT8, got.get("pixels").dataType());
        assertEquals(0, got.get("scalar").rank());
        assertEquals(2.5f, got.get("scalar").getFloat(0));
        assertArrayEquals(new long[] {0, 2}, got.get("empty").shape());

        SafeTensors.Header h = SafeTensors.readHeader(file);
        assertEquals("BF16", h.tensors().get("bfloat").dtype());
        assertEquals(DataType.FLOAT, h.tensors().get("bfloat").dataType());
        assertArrayEquals(new long[] {2, 4}, h.tensors().get("bfloat").shape());
    }

    @Test
    void javaWritesTheSameHeaderAndDataAsThePythonReference() throws IOException {
        Path ref = Fixtures.file("io/reference.safetensors").toPath();
        Map<String, INDArray> tensors = SafeTensors.read(ref);
        SafeTensors.Header a = SafeTensors.readHeader(ref);
        // The stored 16-bit tensors, from their raw bits: ND4J's FLOAT->FLOAT16 cast does not keep numpy's NaN bits.
        tensors.put("half", rawTensor(ref, a, "half", DataType.FLOAT16));
        tensors.put("bfloat", rawTensor(ref, a, "bfloat", DataType.BFLOAT16));
        Path mine = dir.resolve("mine.safetensors");
        SafeTensors.write(mine, tensors, SafeTensors.metadata(ref));

        SafeTensors.Header b = SafeTensors.readHeader(mine);
        assertEquals(a.tensors(), b.tensors(), "same dtypes, shapes and offsets, in the same order");
        assertEquals(new ArrayList<>(a.tensors().keySet()), new ArrayList<>(b.tensors().keySet()));
        assertEquals(a.metadata(), b.metadata());
        ObjectMapper om = new ObjectMapper();
        JsonNode ja = om.readTree(Arrays.copyOfRange(Files.readAllBytes(ref), 8, (int) a.dataStart()));
        JsonNode jb = om.readTree(Arrays.copyOfRange(Files.readAllBytes(mine), 8, (int) b.dataStart()));
        assertEquals(ja, jb, "same header JSON");
        assertEquals(iterable(ja.fieldNames()), iterable(jb.fieldNames()), "same key order");
        byte[] da = Arrays.copyOfRange(Files.readAllBytes(ref), (int) a.dataStart(), (int) (a.dataStart() + a.dataBytes()));
        byte[] db = Arrays.copyOfRange(Files.readAllBytes(mine), (int) b.dataStart(), (int) (b.dataStart() + b.dataBytes()));
        assertArrayEquals(da, db, "same data buffer");
    }

    /** A tensor of {@code type} holding exactly the bytes the header gives {@code name}. */
    private static INDArray rawTensor(Path file, SafeTensors.Header h, String name, DataType type) throws IOException {
        SafeTensors.TensorInfo t = h.tensors().get(name);
        byte[] all = Files.readAllBytes(file);
        INDArray a = TensorBuffers.allocate(type, t.shape());
        TensorBuffers.window(a, 0, (int) t.byteLength())
                .put(all, (int) (h.dataStart() + t.begin()), (int) t.byteLength());
        return a;
    }

    private static List<String> iterable(java.util.Iterator<String> it) {
        List<String> out = new ArrayList<>();
        it.forEachRemaining(out::add);
        return out;
    }

    // ---------------------------------------------------------------- malformed files

    /** A file with this header (padded to 8 as the writer does) followed by {@code data}. */
    private static byte[] file(String json, int dataBytes) {
        byte[] h = json.getBytes(StandardCharsets.UTF_8);
        return concat(lengthPrefix(h.length), h, new byte[dataBytes]);
    }

    private static byte[] lengthPrefix(long n) {
        return ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(n).array();
    }

    private static byte[] concat(byte[]... parts) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (byte[] p : parts) {
            out.writeBytes(p);
        }
        return out.toByteArray();
    }

    /** Both {@code read} and {@code readHeader} reject {@code content}, naming the file and each part. */
    private void assertBadFile(byte[] content, String... parts) throws IOException {
        Path f = dir.resolve("bad.safetensors");
        Files.write(f, content);
        assertRejected(f, () -> SafeTensors.read(f), parts);
        assertRejected(f, () -> SafeTensors.readHeader(f), parts);
    }

    private static final String W_OK = "\"w\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}";

    @Test
    void rejectsFileShorterThanTheLengthPrefix() throws IOException {
        assertBadFile(new byte[5], "5 bytes", "fewer than the 8-byte header length");
    }

    @Test
    void rejectsHeaderLengthBeyondTheEndOfFile() throws IOException {
        byte[] h = "{}".getBytes(StandardCharsets.UTF_8);
        assertBadFile(concat(lengthPrefix(1000), h), "truncated", "header length is 1000 bytes but only 2 bytes");
    }

    @Test
    void rejectsAbsurdHeaderLength() throws IOException {
        assertBadFile(concat(lengthPrefix(100_000_001L), new byte[16]), "header length 100000001 bytes",
                "exceeds the limit");
        assertBadFile(concat(lengthPrefix(-1L), new byte[16]), "header length 18446744073709551615 bytes");
    }

    @Test
    void rejectsInvalidJson() throws IOException {
        assertBadFile(file("{\"w\": {\"dtype\": ", 0), "header is not valid JSON");
        assertBadFile(file("{\"w\":{}} trailing", 0), "header is not valid JSON");
        assertBadFile(file("{" + W_OK + "," + W_OK + "}", 8), "header is not valid JSON", "Duplicate field 'w'");
        assertBadFile(file("[1, 2]   ", 0), "header is not a JSON object");
    }

    @Test
    void rejectsUnknownAndUnsupportedDtypes() throws IOException {
        assertBadFile(file("{\"w\":{\"dtype\":\"F8_E9\",\"shape\":[2],\"data_offsets\":[0,2]}}", 2),
                "tensor 'w' has unknown dtype \"F8_E9\"", "supported: [F64, F32");
        assertBadFile(file("{\"w\":{\"dtype\":\"F8_E4M3\",\"shape\":[2],\"data_offsets\":[0,2]}}", 2),
                "tensor 'w' has unsupported dtype \"F8_E4M3\"");
    }

    @Test
    void rejectsIncompleteTensorEntries() throws IOException {
        assertBadFile(file("{\"w\":{\"dtype\":\"F32\",\"shape\":[2]}}", 8), "tensor 'w' is missing \"data_offsets\"");
        assertBadFile(file("{\"w\":{\"shape\":[2],\"data_offsets\":[0,8]}}", 8), "tensor 'w' is missing \"dtype\"");
        assertBadFile(file("{\"w\":{\"dtype\":\"F32\",\"data_offsets\":[0,8]}}", 8), "tensor 'w' is missing \"shape\"");
        assertBadFile(file("{\"w\":[1]}", 8), "tensor 'w': header entry is not a JSON object");
        assertBadFile(file("{\"w\":{\"dtype\":\"F32\",\"shape\":[2.5],\"data_offsets\":[0,8]}}", 8),
                "tensor 'w': \"shape\" must be an array of integers");
        assertBadFile(file("{\"w\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0]}}", 8),
                "tensor 'w': \"data_offsets\" must be an array of 2 integers");
        assertBadFile(file("{\"__metadata__\":{\"k\":1}," + W_OK + "}", 8), "value of key 'k' is not a string");
    }

    @Test
    void rejectsNegativeDimensionsAndBadOffsets() throws IOException {
        assertBadFile(file("{\"w\":{\"dtype\":\"F32\",\"shape\":[-1,2],\"data_offsets\":[0,8]}}", 8),
                "tensor 'w' has a negative dimension in shape [-1, 2]");
        assertBadFile(file("{\"w\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[8,0]}}", 8),
                "tensor 'w' has data_offsets [8, 0] with begin > end");
        assertBadFile(file("{\"w\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[-8,0]}}", 8),
                "tensor 'w' has negative data_offsets");
    }

    @Test
    void rejectsOffsetsInconsistentWithShape() throws IOException {
        assertBadFile(file("{\"w\":{\"dtype\":\"F32\",\"shape\":[2,2],\"data_offsets\":[0,12]}}", 16),
                "tensor 'w'", "data_offsets [0, 12] (12 bytes) are inconsistent with shape [2, 2] and dtype F32",
                "4 elements x 4 bytes = 16 bytes");
    }

    @Test
    void rejectsOffsetsOutOfRangeOfTheDataBuffer() throws IOException {
        assertBadFile(file("{" + W_OK + ",\"far\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[100,108]}}", 16),
                "tensor 'far' has data_offsets [100, 108] out of range of the data buffer (16 bytes)");
    }

    @Test
    void rejectsFileCutInTheMiddleOfTheData() throws IOException {
        Path good = dir.resolve("good.safetensors");
        SafeTensors.write(good, sample());
        byte[] all = Files.readAllBytes(good);
        long dataBytes = SafeTensors.readHeader(good).dataBytes();
        byte[] cut = Arrays.copyOf(all, all.length - 21);
        assertBadFile(cut, "truncated", "describes " + dataBytes + " bytes of tensor data but only "
                + (dataBytes - 21) + " bytes follow");
    }

    // ---------------------------------------------------------------- atomic writes

    @Test
    void overwritingReplacesTheFileAndLeavesNoTemporaryFile() throws IOException {
        Path file = dir.resolve("ckpt.safetensors");
        SafeTensors.write(file, Map.of("a", Nd4j.createFromArray(1f, 2f)));
        SafeTensors.write(file, Map.of("b", Nd4j.createFromArray(3L)), Map.of("step", "2"));
        Map<String, INDArray> got = SafeTensors.read(file);
        assertEquals(List.of("b"), new ArrayList<>(got.keySet()));
        assertEquals(3L, got.get("b").getLong(0));
        assertEquals(List.of("ckpt.safetensors"), listing(dir));
    }

    @Test
    void unsupportedTypeFailsBeforeWritingAndKeepsThePreviousFile() throws IOException {
        Path file = dir.resolve("ckpt.safetensors");
        SafeTensors.write(file, Map.of("a", Nd4j.createFromArray(1f, 2f)));
        byte[] before = Files.readAllBytes(file);
        Map<String, INDArray> bad = new LinkedHashMap<>();
        bad.put("ok", Nd4j.createFromArray(5f));
        bad.put("names", Nd4j.create("x", "y"));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> SafeTensors.write(file, bad));
        assertTrue(e.getMessage().contains("tensor 'names' has ND4J data type UTF8"), e.getMessage());
        assertArrayEquals(before, Files.readAllBytes(file));
        assertEquals(List.of("ckpt.safetensors"), listing(dir));
    }

    @Test
    void invalidArgumentsNameTheTensor() {
        Path file = dir.resolve("x.safetensors");
        INDArray closed = Nd4j.createFromArray(1f);
        closed.close();
        Map<String, INDArray> m = new LinkedHashMap<>();
        m.put("gone", closed);
        assertTrue(assertThrows(IllegalArgumentException.class, () -> SafeTensors.write(file, m)).getMessage()
                .contains("tensor 'gone' was closed"));
        Map<String, INDArray> reserved = Map.of("__metadata__", Nd4j.createFromArray(1f));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> SafeTensors.write(file, reserved)).getMessage()
                .contains("reserved"));
        Map<String, INDArray> nul = new LinkedHashMap<>();
        nul.put("nothing", null);
        assertTrue(assertThrows(IllegalArgumentException.class, () -> SafeTensors.write(file, nul)).getMessage()
                .contains("tensor 'nothing' is null"));
        assertFalse(Files.exists(file));
    }

    @Test
    void failedRenameLeavesTheTargetIntactAndNoTemporaryFile() throws IOException {
        // The target is a non-empty directory: everything is written, then the rename fails.
        Path target = dir.resolve("busy.safetensors");
        Files.createDirectory(target);
        Files.writeString(target.resolve("keep.txt"), "keep");
        assertThrows(IOException.class, () -> SafeTensors.write(target, sample()));
        assertEquals("keep", Files.readString(target.resolve("keep.txt")));
        assertEquals(List.of("busy.safetensors"), listing(dir));
    }

    @Test
    void missingFileIsAPlainIoException() {
        Path missing = dir.resolve("missing.safetensors");
        IOException e = assertThrows(IOException.class, () -> SafeTensors.read(missing));
        assertFalse(e instanceof TensorFormatException);
        assertNotNull(e.getMessage());
    }
}
