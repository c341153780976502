package io.hgkd.core.io;

import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.EOFException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * Reads and writes the <a href="https://github.com/huggingface/safetensors">safetensors</a> format, the usual way
 * PyTorch/Hugging Face checkpoints are shipped.
 *
 * <p>Layout: an 8-byte little-endian unsigned header length {@code N}; {@code N} bytes of UTF-8 JSON
 * {@code {"name": {"dtype": "F32", "shape": [2, 3], "data_offsets": [begin, end]}, ..., "__metadata__": {"k": "v"}}};
 * then the data buffer. Offsets are relative to the start of the data buffer; data are row-major little-endian.
 *
 * <p>dtypes ({@code file dtype <-> ND4J type}): F64 DOUBLE, F32 FLOAT, I64 LONG, I32 INT, I16 SHORT, I8 BYTE,
 * U8 UBYTE, U16 UINT16, U32 UINT32, U64 UINT64, BOOL BOOL. F16 and BF16 are <em>read</em> as FLOAT (the conversion is
 * exact) and written from ND4J's HALF and BFLOAT16. The 8-bit float types (F8_E4M3, ...), F4/F6 and C64 are rejected.
 *
 * <p>Errors: a malformed or unsupported file gives a {@link TensorFormatException} (an {@link IOException}) whose
 * message starts with the file and names the problem and the tensor; I/O failures give the usual
 * {@link IOException}s; bad arguments to {@code write} (unsupported ND4J type, reserved name, null) give an
 * {@link IllegalArgumentException} naming the tensor, thrown before anything is written.
 *
 * <p>Reading is lenient in one way the Rust crate is not: gaps between tensors, overlapping tensors and bytes after
 * the last tensor are accepted, since they do not make any tensor ambiguous.
 */
public final class SafeTensors {
    /**
     * Largest header accepted, as in the Rust crate. A larger length almost always means the file is not a safetensors
     * file at all, and we would otherwise try to allocate it.
     */
    public static final long MAX_HEADER_BYTES = 100_000_000L;

    /** The reserved header key for the string-to-string metadata. */
    public static final String METADATA_KEY = "__metadata__";

    // Duplicate names would silently shadow a tensor, and trailing garbage means a corrupt header: reject both.
    private static final JsonMapper JSON = JsonMapper.builder()
            .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
            .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
            .build();

    /** Elements converted per chunk for F16/BF16, bounding the temporary heap buffers to a few MB. */
    private static final int CONVERT_CHUNK = 1 << 20;

    private SafeTensors() {
    }

    /** The dtypes this class can read, with their element size and the ND4J type {@link #read} returns. */
    private enum Dtype {
        F64(8, DataType.DOUBLE), F32(4, DataType.FLOAT), F16(2, DataType.FLOAT), BF16(2, DataType.FLOAT),
        I64(8, DataType.INT64), I32(4, DataType.INT32), I16(2, DataType.INT16), I8(1, DataType.INT8),
        U8(1, DataType.UINT8), U16(2, DataType.UINT16), U32(4, DataType.UINT32), U64(8, DataType.UINT64),
        BOOL(1, DataType.BOOL);

        final int size;
        final DataType nd4j;

        Dtype(int size, DataType nd4j) {
            this.size = size;
            this.nd4j = nd4j;
        }

        static Dtype parse(String s) {
            for (Dtype d : values()) {
                if (d.name().equals(s)) {
                    return d;
                }
            }
            return null;
        }

        /** The file dtype written for an ND4J type, or null when safetensors has none. */
        static Dtype of(DataType t) {
            return switch (t) {
                case DOUBLE -> F64;
                case FLOAT -> F32;
                case HALF -> F16;
                case BFLOAT16 -> BF16;
                case LONG -> I64;
                case INT -> I32;
                case SHORT -> I16;
                case BYTE -> I8;
                case UBYTE -> U8;
                case UINT16 -> U16;
                case UINT32 -> U32;
                case UINT64 -> U64;
                case BOOL -> BOOL;
                default -> null;
            };
        }
    }

    /** Valid safetensors dtypes that we do not read, so that they are reported as unsupported, not unknown. */
    private static final List<String> KNOWN_UNSUPPORTED =
            List.of("F8_E4M3", "F8_E5M2", "F8_E8M0", "F6_E2M3", "F6_E3M2", "F4", "C64");

    private static final String SUPPORTED = Arrays.toString(Dtype.values());

    /**
     * One tensor's header entry.
     *
     * @param name  the tensor's name
     * @param dtype the dtype string as written in the file ({@code "F32"}, {@code "BF16"}, ...)
     * @param shape the dimensions, {@code []} for a 0-d scalar (a copy is returned)
     * @param begin start of its bytes, relative to the data buffer
     * @param end   end (exclusive) of its bytes, relative to the data buffer
     */
    public record TensorInfo(String name, String dtype, long[] shape, long begin, long end) {
        /** Copies {@code shape}, so the record stays immutable. */
        public TensorInfo {
            shape = shape.clone();
        }

        @Override
        public long[] shape() {
            return shape.clone();
        }

        /** The number of elements (1 for a scalar). */
        public long numElements() {
            return TensorBuffers.numElements(shape);
        }

        /** {@code end - begin}. */
        public long byteLength() {
            return end - begin;
        }

        /** The ND4J type {@link SafeTensors#read} gives this tensor (FLOAT for F16 and BF16). */
        public DataType dataType() {
            return Dtype.valueOf(dtype).nd4j;
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof TensorInfo t && name.equals(t.name) && dtype.equals(t.dtype)
                    && Arrays.equals(shape, t.shape) && begin == t.begin && end == t.end;
        }

        @Override
        public int hashCode() {
            return Objects.hash(name, dtype, Arrays.hashCode(shape), begin, end);
        }

        @Override
        public String toString() {
            return name + ": " + dtype + " " + Arrays.toString(shape) + " [" + begin + ", " + end + ")";
        }
    }

    /**
     * A parsed and validated header: every tensor in it can be read.
     *
     * @param headerBytes the JSON header's length {@code N} (including padding); the data start at {@code 8 + N}
     * @param dataBytes   bytes in the file after the header
     * @param tensors     the tensors in header order, by name (unmodifiable)
     * @param metadata    the {@code __metadata__} map, empty when absent (unmodifiable)
     */
    public record Header(long headerBytes, long dataBytes, Map<String, TensorInfo> tensors,
                         Map<String, String> metadata) {
        /** File offset of the data buffer. */
        public long dataStart() {
            return 8 + headerBytes;
        }
    }

    /**
     * Reads all tensors of {@code file}.
     *
     * @return the tensors in header order (a {@link LinkedHashMap}), without {@code __metadata__}; arrays are
     *         row-major and detached from any workspace
     * @throws TensorFormatException when the file is malformed or uses an unsupported dtype (nothing is allocated
     *                               then: the whole header is validated first)
     * @throws IOException           when the file cannot be read
     */
    public static Map<String, INDArray> read(Path file) throws IOException {
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            Header h = readHeader(file, ch);
            Map<String, INDArray> out = new LinkedHashMap<>();
            for (TensorInfo t : h.tensors().values()) {
                out.put(t.name(), readTensor(file, ch, h, t));
            }
            return out;
        }
    }

    /**
     * Reads and validates the header of {@code file} without reading tensor data, for inspection.
     *
     * @throws TensorFormatException when the header is malformed, a dtype unsupported, or the file too short for it
     * @throws IOException           when the file cannot be read
     */
    public static Header readHeader(Path file) throws IOException {
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            return readHeader(file, ch);
        }
    }

    /** The {@code __metadata__} of {@code file} (empty when it has none); see {@link #readHeader}. */
    public static Map<String, String> metadata(Path file) throws IOException {
        return readHeader(file).metadata();
    }

    private static Header readHeader(Path file, FileChannel ch) throws IOException {
        long size = ch.size();
        if (size < 8) {
            throw bad(file, "not a safetensors file: it has " + size + " bytes, fewer than the 8-byte header length");
        }
        ByteBuffer len = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
        readAt(file, ch, len, 0);
        long n = len.getLong(0);
        // n is unsigned in the file; a negative long is a length >= 2^63.
        if (n < 0 || n > MAX_HEADER_BYTES) {
            throw bad(file, "header length " + Long.toUnsignedString(n) + " bytes exceeds the limit of "
                    + MAX_HEADER_BYTES + " bytes (corrupt file, or not a safetensors file)");
        }
        if (n > size - 8) {
            throw bad(file, "truncated: header length is " + n + " bytes but only " + (size - 8)
                    + " bytes follow the 8-byte length");
        }
        ByteBuffer json = ByteBuffer.allocate((int) n);
        readAt(file, ch, json, 8);
        JsonNode root;
        try {
            root = JSON.readTree(json.array());
        } catch (JsonProcessingException e) {
            JsonLocation loc = e.getLocation();
            throw bad(file, "header is not valid JSON: " + e.getOriginalMessage()
                    + (loc == null ? "" : " (at byte " + loc.getByteOffset() + " of the header)"), e);
        }
        if (root == null || !root.isObject()) {
            throw bad(file, "header is not a JSON object but " + (root == null ? "empty" : root.getNodeType()));
        }
        long dataBytes = size - 8 - n;
        Map<String, String> metadata = new LinkedHashMap<>();
        Map<String, TensorInfo> tensors = new LinkedHashMap<>();
        for (Map.Entry<String, JsonNode> e : root.properties()) {
            if (e.getKey().equals(METADATA_KEY)) {
                parseMetadata(file, e.getValue(), metadata);
            } else {
                tensors.put(e.getKey(), parseTensor(file, e.getKey(), e.getValue()));
            }
        }
        checkRanges(file, tensors, dataBytes);
        return new Header(n, dataBytes, Collections.unmodifiableMap(tensors), Collections.unmodifiableMap(metadata));
    }

    private static void parseMetadata(Path file, JsonNode node, Map<String, String> out) throws TensorFormatException {
        if (node.isNull()) {
            return;
        }
        if (!node.isObject()) {
            throw bad(file, "\"" + METADATA_KEY + "\" is not a JSON object but " + node.getNodeType());
        }
        for (Map.Entry<String, JsonNode> e : node.properties()) {
            if (!e.getValue().isTextual()) {
                throw bad(file, "\"" + METADATA_KEY + "\" value of key '" + e.getKey() + "' is not a string but "
                        + e.getValue().getNodeType());
            }
            out.put(e.getKey(), e.getValue().textValue());
        }
    }

    private static TensorInfo parseTensor(Path file, String name, JsonNode node) throws TensorFormatException {
        String where = "tensor '" + name + "'";
        if (!node.isObject()) {
            throw bad(file, where + ": header entry is not a JSON object but " + node.getNodeType());
        }
        for (String field : List.of("dtype", "shape", "data_offsets")) {
            if (!node.hasNonNull(field)) {
                throw bad(file, where + " is missing \"" + field + "\"");
            }
        }
        JsonNode dt = node.get("dtype");
        if (!dt.isTextual()) {
            throw bad(file, where + ": \"dtype\" is not a string but " + dt);
        }
        String dtype = dt.textValue();
        Dtype d = Dtype.parse(dtype);
        if (d == null) {
            String kind = KNOWN_UNSUPPORTED.contains(dtype) ? "unsupported" : "unknown";
            throw bad(file, where + " has " + kind + " dtype \"" + dtype + "\" (supported: " + SUPPORTED + ")");
        }
        long[] shape = longs(file, where, "shape", node.get("shape"), -1);
        for (long dim : shape) {
            if (dim < 0) {
                throw bad(file, where + " has a negative dimension in shape " + Arrays.toString(shape));
            }
        }
        long[] off = longs(file, where, "data_offsets", node.get("data_offsets"), 2);
        long begin = off[0];
        long end = off[1];
        if (begin < 0 || end < 0) {
            throw bad(file, where + " has negative data_offsets " + Arrays.toString(off));
        }
        if (begin > end) {
            throw bad(file, where + " has data_offsets " + Arrays.toString(off) + " with begin > end");
        }
        long count = TensorBuffers.numElements(shape);
        long need = count < 0 ? -1 : count > Long.MAX_VALUE / d.size ? -1 : count * d.size;
        if (need < 0) {
            throw bad(file, where + " has shape " + Arrays.toString(shape) + " with too many elements");
        }
        if (end - begin != need) {
            throw bad(file, where + ": data_offsets " + Arrays.toString(off) + " (" + (end - begin)
                    + " bytes) are inconsistent with shape " + Arrays.toString(shape) + " and dtype " + dtype
                    + " (" + count + " elements x " + d.size + " bytes = " + need + " bytes)");
        }
        return new TensorInfo(name, dtype, shape, begin, end);
    }

    /** An array of integers (of exactly {@code length} when it is not -1). */
    private static long[] longs(Path file, String where, String field, JsonNode node, int length)
            throws TensorFormatException {
        String expected = length < 0 ? "an array of integers" : "an array of " + length + " integers";
        if (!node.isArray() || (length >= 0 && node.size() != length)) {
            throw bad(file, where + ": \"" + field + "\" must be " + expected + ", got " + node);
        }
        long[] out = new long[node.size()];
        for (int i = 0; i < out.length; i++) {
            JsonNode v = node.get(i);
            if (!v.isIntegralNumber() || !v.canConvertToLong()) {
                throw bad(file, where + ": \"" + field + "\" must be " + expected + ", got " + node);
            }
            out[i] = v.longValue();
        }
        return out;
    }

    /**
     * Checks that every tensor lies inside the data buffer. When the tensors tile {@code [0, end)} without gaps (as
     * every writer lays them out) but the buffer is shorter, the header is consistent and the file was cut:
     * "truncated". Otherwise the offending tensor's offsets are "out of range".
     */
    private static void checkRanges(Path file, Map<String, TensorInfo> tensors, long dataBytes)
            throws TensorFormatException {
        long maxEnd = 0;
        for (TensorInfo t : tensors.values()) {
            maxEnd = Math.max(maxEnd, t.end());
        }
        if (maxEnd <= dataBytes) {
            return;
        }
        List<TensorInfo> sorted = new ArrayList<>(tensors.values());
        sorted.sort(Comparator.comparingLong(TensorInfo::begin).thenComparingLong(TensorInfo::end));
        boolean tiled = true;
        long pos = 0;
        for (TensorInfo t : sorted) {
            tiled &= t.begin() == pos;
            pos = t.end();
        }
        if (tiled) {
            throw bad(file, "truncated: the header describes " + maxEnd + " bytes of tensor data but only "
                    + dataBytes + " bytes follow the header");
        }
        for (TensorInfo t : tensors.values()) {
            if (t.end() > dataBytes) {
                throw bad(file, "tensor '" + t.name() + "' has data_offsets [" + t.begin() + ", " + t.end()
                        + "] out of range of the data buffer (" + dataBytes + " bytes)");
            }
        }
    }

    private static INDArray readTensor(Path file, FileChannel ch, Header h, TensorInfo t) throws IOException {
        Dtype d = Dtype.valueOf(t.dtype());
        INDArray a = TensorBuffers.allocate(d.nd4j, t.shape());
        ch.position(h.dataStart() + t.begin());
        try {
            switch (d) {
                case F16, BF16 -> readConverted(ch, a, t.numElements(), d == Dtype.BF16);
                default -> TensorBuffers.fill(ch, a, t.byteLength(), d.size, ByteOrder.LITTLE_ENDIAN,
                        TensorBuffers.WINDOW);
            }
        } catch (EOFException e) {
            // The header was checked against the file size, so the file must have shrunk while we read it.
            throw bad(file, "truncated: unexpected end of file while reading tensor '" + t.name() + "'", e);
        }
        return a;
    }

    /** Reads {@code count} 16-bit floats into the FLOAT array {@code dst}; every F16 and BF16 value is exact in F32. */
    private static void readConverted(FileChannel ch, INDArray dst, long count, boolean bf16) throws IOException {
        ByteBuffer raw = ByteBuffer.allocate(2 * (int) Math.min(count, CONVERT_CHUNK)).order(ByteOrder.LITTLE_ENDIAN);
        short[] in = new short[raw.capacity() / 2];
        float[] out = new float[in.length];
        for (long done = 0; done < count; ) {
            int k = (int) Math.min(in.length, count - done);
            raw.clear().limit(2 * k);
            TensorBuffers.readFully(ch, raw);
            raw.flip();
            raw.asShortBuffer().get(in, 0, k);
            for (int i = 0; i < k; i++) {
                out[i] = bf16 ? bf16ToFloat(in[i]) : halfToFloat(in[i]);
            }
            FloatBuffer w = TensorBuffers.window(dst, 4 * done, 4 * k).asFloatBuffer();
            w.put(out, 0, k);
            done += k;
        }
    }

    /** IEEE binary16 to float, exact; NaN payloads are kept (shifted), as numpy does. */
    static float halfToFloat(short h) {
        int bits = h & 0xffff;
        int sign = (bits & 0x8000) << 16;
        int exp = (bits >>> 10) & 0x1f;
        int mant = bits & 0x3ff;
        if (exp == 0x1f) {
            return Float.intBitsToFloat(sign | 0x7f800000 | (mant << 13));
        }
        if (exp != 0) {
            // Rebias the exponent from 15 to 127.
            return Float.intBitsToFloat(sign | ((exp + 112) << 23) | (mant << 13));
        }
        // Zero or subnormal: mant * 2^-24, exact in float.
        float v = mant * 0x1p-24f;
        return sign != 0 ? -v : v;
    }

    /** bfloat16 is the upper half of a float's bits. */
    static float bf16ToFloat(short b) {
        return Float.intBitsToFloat((b & 0xffff) << 16);
    }

    /** Writes {@code tensors} without metadata; see {@link #write(Path, Map, Map)}. */
    public static void write(Path file, Map<String, INDArray> tensors) throws IOException {
        write(file, tensors, Map.of());
    }

    /**
     * Writes {@code tensors} (in the map's iteration order) and {@code metadata} to {@code file}, replacing it
     * atomically: the data go to a temporary file in the same directory, which is synced and then renamed, so a crash
     * or failure never leaves a partial file under {@code file}'s name (and removes the temporary file).
     *
     * <p>Each array's logical row-major contents are written, whatever its ordering, strides or view offset. The
     * header is padded with spaces so that the data start at a multiple of 8 bytes, as the Rust crate does;
     * {@code __metadata__} is written first and only when {@code metadata} is non-empty.
     *
     * @param metadata string-to-string metadata, may be empty
     * @throws IllegalArgumentException naming the tensor when an array is null or closed, its ND4J type has no
     *                                  safetensors dtype (UTF8, COMPRESSED, ...), or a name is null or
     *                                  {@code "__metadata__"}; also for null metadata keys or values. Nothing is
     *                                  written then.
     * @throws IOException              when writing or renaming fails (the previous file, if any, is left intact)
     */
    public static void write(Path file, Map<String, INDArray> tensors, Map<String, String> metadata)
            throws IOException {
        Objects.requireNonNull(file, "file");
        Objects.requireNonNull(tensors, "tensors");
        Objects.requireNonNull(metadata, "metadata");
        ObjectNode root = JSON.createObjectNode();
        if (!metadata.isEmpty()) {
            ObjectNode m = root.putObject(METADATA_KEY);
            for (Map.Entry<String, String> e : metadata.entrySet()) {
                if (e.getKey() == null || e.getValue() == null) {
                    throw new IllegalArgumentException("metadata has a null key or value: " + e.getKey() + " = "
                            + e.getValue());
                }
                m.put(e.getKey(), e.getValue());
            }
        }
        // Validate everything and build the header before touching the disk.
        List<String> names = new ArrayList<>(tensors.size());
        List<INDArray> arrays = new ArrayList<>(tensors.size());
        List<Long> sizes = new ArrayList<>(tensors.size());
        long offset = 0;
        for (Map.Entry<String, INDArray> e : tensors.entrySet()) {
            String name = e.getKey();
            INDArray a = e.getValue();
            if (name == null) {
                throw new IllegalArgumentException("a tensor name is null");
            }
            if (name.equals(METADATA_KEY)) {
                throw new IllegalArgumentException("tensor name '" + METADATA_KEY + "' is reserved for metadata");
            }
            if (a == null) {
                throw new IllegalArgumentException("tensor '" + name + "' is null");
            }
            if (a.wasClosed()) {
                // Reading released native memory could crash the JVM, so refuse early.
                throw new IllegalArgumentException("tensor '" + name + "' was closed");
            }
            Dtype d = Dtype.of(a.dataType());
            if (d == null) {
                throw new IllegalArgumentException("tensor '" + name + "' has ND4J data type " + a.dataType()
                        + ", which safetensors cannot store (supported: DOUBLE, FLOAT, HALF, BFLOAT16, LONG, INT,"
                        + " SHORT, BYTE, UBYTE, UINT16, UINT32, UINT64, BOOL)");
            }
            long bytes = a.length() * d.size;
            ObjectNode t = root.putObject(name);
            t.put("dtype", d.name());
            ArrayNode shape = t.putArray("shape");
            for (long dim : a.shape()) {
                shape.add(dim);
            }
            t.putArray("data_offsets").add(offset).add(offset + bytes);
            names.add(name);
            arrays.add(a);
            sizes.add(bytes);
            offset += bytes;
        }
        byte[] json = JSON.writeValueAsBytes(root);
        int padded = json.length + (8 - json.length % 8) % 8;
        if (padded > MAX_HEADER_BYTES) {
            throw new IllegalArgumentException("safetensors header would be " + padded + " bytes, over the limit of "
                    + MAX_HEADER_BYTES + " that readers accept (too many tensors)");
        }
        ByteBuffer head = ByteBuffer.allocate(8 + padded).order(ByteOrder.LITTLE_ENDIAN);
        head.putLong(padded).put(json);
        while (head.hasRemaining()) {
            head.put((byte) ' ');
        }
        head.flip();
        TensorBuffers.atomicWrite(file, ch -> {
            TensorBuffers.writeFully(ch, head);
            for (int i = 0; i < arrays.size(); i++) {
                INDArray a = arrays.get(i);
                INDArray c;
                try {
                    c = TensorBuffers.rowMajor(a);
                } catch (RuntimeException e) {
                    throw new IllegalArgumentException("tensor '" + names.get(i) + "': cannot get its data: " + e, e);
                }
                try {
                    TensorBuffers.drain(c, sizes.get(i), ch, TensorBuffers.WINDOW);
                } finally {
                    TensorBuffers.release(c, a);
                }
            }
        });
    }

    private static void readAt(Path file, FileChannel ch, ByteBuffer dst, long position) throws IOException {
        ch.position(position);
        try {
            TensorBuffers.readFully(ch, dst);
        } catch (EOFException e) {
            throw bad(file, "truncated: unexpected end of file", e);
        }
    }

    private static TensorFormatException bad(Path file, String problem) {
        return new TensorFormatException(file, problem);
    }

    private static TensorFormatException bad(Path file, String problem, Throwable cause) {
        return new TensorFormatException(file, problem, cause);
    }
}
