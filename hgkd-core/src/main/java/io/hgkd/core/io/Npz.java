package io.hgkd.core.io;

import java.io.BufferedOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.Channels;
import java.nio.channels.ReadableByteChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.LocalDateTime;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Enumeration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.zip.CRC32;
import java.util.zip.ZipEntry;
import java.util.zip.ZipException;
import java.util.zip.ZipFile;
import java.util.zip.ZipOutputStream;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Reads and writes numpy {@code .npz} archives: a zip of {@code <name>.npy} entries, as {@code np.savez} writes and
 * {@code np.load} reads.
 *
 * <p>dtypes ({@code numpy <-> ND4J}): f8 DOUBLE, f4 FLOAT, f2 HALF, i8 LONG, i4 INT, i2 SHORT, i1 BYTE, u1 UBYTE,
 * u2 UINT16, u4 UINT32, u8 UINT64, b1 BOOL. BFLOAT16 has no numpy dtype and cannot be written (cast it to FLOAT).
 *
 * <p>ND4J 1.0.0-M2.1's own npy/npz support is not used directly where it misbehaves:
 * <ul>
 *   <li>{@code Nd4j.toNpyByteArray} writes an array's raw buffer with {@code fortran_order: False}, so f-order arrays,
 *       transposes and views with an offset come out scrambled, and BFLOAT16 gets the invalid descr {@code '<?2'}.
 *       {@link #write} therefore hands it a fresh row-major copy of every array and rejects BFLOAT16.</li>
 *   <li>{@code Nd4j.createFromNpzFile} cannot read 0-d arrays (it throws {@code NumberFormatException}), BOOL or
 *       compressed archives, loses the entry order, and does not check its reads (a truncated archive gives zeros);
 *       {@code Nd4j.createNpyFromByteArray} ignores {@code fortran_order}, rejects version-2 headers and aborts the
 *       JVM on big-endian data. {@link #read} therefore parses the archive with {@link ZipFile} and the npy headers
 *       itself, and copies the data straight into ND4J buffers.</li>
 * </ul>
 *
 * <p>Errors: a malformed archive or entry gives a {@link TensorFormatException} naming the file and the entry; I/O
 * failures the usual {@link IOException}s; bad arguments to {@link #write} an {@link IllegalArgumentException} naming
 * the array, before anything is written.
 */
public final class Npz {
    private static final byte[] MAGIC = {(byte) 0x93, 'N', 'U', 'M', 'P', 'Y'};
    private static final Pattern DESCR = Pattern.compile("'descr'\\s*:\\s*'([^']*)'");
    private static final Pattern FORTRAN = Pattern.compile("'fortran_order'\\s*:\\s*(True|False)");
    private static final Pattern SHAPE = Pattern.compile("'shape'\\s*:\\s*\\(([^)]*)\\)");
    /** A fixed entry time (the zip epoch), so that the same arrays always give the same bytes. */
    private static final LocalDateTime ENTRY_TIME = LocalDateTime.of(1980, 1, 1, 0, 0);

    private Npz() {
    }

    /**
     * Writes {@code arrays} to {@code file} as an uncompressed npz (entries {@code <name>.npy} in the map's order),
     * replacing it atomically through a temporary file in the same directory. Each array's logical row-major contents
     * are written, whatever its ordering or view offset.
     *
     * @throws IllegalArgumentException naming the array when a name or array is null, an array was closed, or its
     *                                  type has no numpy dtype (BFLOAT16, UTF8, ...); nothing is written then
     * @throws IOException              when writing or renaming fails (the previous file, if any, is left intact)
     */
    public static void write(Path file, Map<String, INDArray> arrays) throws IOException {
        Objects.requireNonNull(file, "file");
        Objects.requireNonNull(arrays, "arrays");
        for (Map.Entry<String, INDArray> e : arrays.entrySet()) {
            String name = e.getKey();
            INDArray a = e.getValue();
            if (name == null) {
                throw new IllegalArgumentException("an array name is null");
            }
            if (a == null) {
                throw new IllegalArgumentException("array '" + name + "' is null");
            }
            if (a.wasClosed()) {
                throw new IllegalArgumentException("array '" + name + "' was closed");
            }
            if (descr(a.dataType()) == null) {
                throw new IllegalArgumentException("array '" + name + "' has ND4J data type " + a.dataType()
                        + ", which has no numpy dtype" + (a.dataType() == DataType.BFLOAT16 ? " (cast it to FLOAT)" : ""));
            }
        }
        TensorBuffers.atomicWrite(file, ch -> {
            OutputStream os = new BufferedOutputStream(Channels.newOutputStream(ch), 1 << 16);
            // Not closed: closing would close the channel, which atomicWrite still has to sync.
            ZipOutputStream zip = new ZipOutputStream(os);
            CRC32 crc = new CRC32();
            for (Map.Entry<String, INDArray> e : arrays.entrySet()) {
                byte[] npy;
                // toNpyByteArray dumps the raw buffer, so give it a fresh row-major copy (see the class comment).
                INDArray copy = TensorBuffers.detachedCopy(e.getValue());
                try {
                    npy = Nd4j.toNpyByteArray(copy);
                } catch (RuntimeException ex) {
                    throw new IllegalArgumentException("array '" + e.getKey() + "': ND4J cannot convert it to npy: "
                            + ex, ex);
                } finally {
                    TensorBuffers.release(copy, e.getValue());
                }
                // STORED entries with sizes and CRC known up front: np.load and zip tools read them, and the local
                // headers carry the sizes (no trailing data descriptors).
                ZipEntry entry = new ZipEntry(e.getKey() + ".npy");
                entry.setMethod(ZipEntry.STORED);
                entry.setSize(npy.length);
                entry.setCompressedSize(npy.length);
                crc.reset();
                crc.update(npy);
                entry.setCrc(crc.getValue());
                entry.setTimeLocal(ENTRY_TIME);
                zip.putNextEntry(entry);
                zip.write(npy);
                zip.closeEntry();
            }
            zip.finish();
            os.flush();
        });
    }

    /**
     * Reads all arrays of {@code file}, stored or deflated, keyed by entry name without {@code .npy} (as
     * {@code np.load} does), in archive order (a {@link LinkedHashMap}). Arrays are row-major and detached from any
     * workspace; Fortran-order and big-endian entries are converted.
     *
     * @throws TensorFormatException when the file is not a zip archive, an entry is not a {@code .npy} file, has an
     *                               unsupported dtype (object, structured, complex, ...), a malformed header or
     *                               truncated data
     * @throws IOException           when the file cannot be read
     */
    public static Map<String, INDArray> read(Path file) throws IOException {
        ZipFile zip;
        try {
            zip = new ZipFile(file.toFile());
        } catch (ZipException e) {
            throw new TensorFormatException(file, "not a valid zip archive (npz): " + e.getMessage(), e);
        }
        try (zip) {
            Map<String, INDArray> out = new LinkedHashMap<>();
            for (Enumeration<? extends ZipEntry> en = zip.entries(); en.hasMoreElements(); ) {
                ZipEntry entry = en.nextElement();
                if (entry.isDirectory()) {
                    continue;
                }
                String name = entry.getName();
                if (!name.endsWith(".npy")) {
                    throw new TensorFormatException(file, "entry '" + name + "' is not a .npy array");
                }
                try (InputStream in = zip.getInputStream(entry)) {
                    out.put(name.substring(0, name.length() - 4), readNpy(file, name, in));
                } catch (ZipException e) {
                    throw new TensorFormatException(file, "entry '" + name + "' is corrupt: " + e.getMessage(), e);
                }
            }
            return out;
        }
    }

    /**
     * Reads a single {@code .npy} file (the format {@code np.save} writes), with the same dtype, Fortran-order and
     * byte-order handling as {@link #read(Path)}.
     *
     * @throws TensorFormatException naming the file when it is not a valid {@code .npy} array
     */
    public static INDArray readNpy(Path file) throws IOException {
        try (InputStream in = new java.io.BufferedInputStream(java.nio.file.Files.newInputStream(file), 1 << 16)) {
            return readNpy(file, file.getFileName().toString(), in);
        }
    }

    /**
     * Writes one array as a {@code .npy} file (row-major, its logical contents), replacing {@code file} atomically.
     *
     * @throws IllegalArgumentException when the array's type has no numpy dtype
     */
    public static void writeNpy(Path file, INDArray array) throws IOException {
        Objects.requireNonNull(array, "array");
        if (descr(array.dataType()) == null) {
            throw new IllegalArgumentException("ND4J data type " + array.dataType() + " has no numpy dtype");
        }
        INDArray copy = TensorBuffers.detachedCopy(array);
        byte[] npy;
        try {
            npy = Nd4j.toNpyByteArray(copy);
        } finally {
            TensorBuffers.release(copy, array);
        }
        TensorBuffers.atomicWrite(file, ch -> {
            ByteBuffer b = ByteBuffer.wrap(npy);
            while (b.hasRemaining()) {
                ch.write(b);
            }
        });
    }

    /** Parses one {@code .npy} stream: magic, version, header dict, then the raw data. */
    private static INDArray readNpy(Path file, String entry, InputStream in) throws IOException {
        String where = "entry '" + entry + "'";
        ReadableByteChannel ch = Channels.newChannel(in);
        ByteBuffer pre = ByteBuffer.allocate(10).order(ByteOrder.LITTLE_ENDIAN);
        try {
            TensorBuffers.readFully(ch, pre);
            if (!Arrays.equals(Arrays.copyOf(pre.array(), 6), MAGIC)) {
                throw new TensorFormatException(file, where + " is not a .npy file (bad magic)");
            }
            int major = pre.get(6);
            int headerLen;
            if (major == 1) {
                headerLen = pre.getShort(8) & 0xffff;
            } else if (major == 2 || major == 3) {
                ByteBuffer more = ByteBuffer.allocate(2).order(ByteOrder.LITTLE_ENDIAN);
                TensorBuffers.readFully(ch, more);
                long n = (pre.getShort(8) & 0xffffL) | (more.getShort(0) & 0xffffL) << 16;
                if (n > SafeTensors.MAX_HEADER_BYTES) {
                    throw new TensorFormatException(file, where + " has an npy header of " + n + " bytes");
                }
                headerLen = (int) n;
            } else {
                throw new TensorFormatException(file, where + " has unsupported npy version " + major);
            }
            ByteBuffer hb = ByteBuffer.allocate(headerLen);
            TensorBuffers.readFully(ch, hb);
            String header = new String(hb.array(), major == 3 ? StandardCharsets.UTF_8 : StandardCharsets.ISO_8859_1);

            Matcher md = DESCR.matcher(header);
            Matcher mf = FORTRAN.matcher(header);
            Matcher ms = SHAPE.matcher(header);
            if (!md.find() || !mf.find() || !ms.find()) {
                throw new TensorFormatException(file, where + " has a malformed or unsupported npy header: "
                        + header.trim());
            }
            String descr = md.group(1);
            DataType type = type(descr);
            if (type == null) {
                throw new TensorFormatException(file, where + " has unsupported dtype '" + descr + "'");
            }
            ByteOrder order = descr.charAt(0) == '>' ? ByteOrder.BIG_ENDIAN : ByteOrder.LITTLE_ENDIAN;
            boolean fortran = mf.group(1).equals("True");
            long[] shape = parseShape(file, where, ms.group(1));
            long count = TensorBuffers.numElements(shape);
            int width = type.width();
            if (count < 0 || count > Long.MAX_VALUE / width) {
                throw new TensorFormatException(file, where + " has shape " + Arrays.toString(shape)
                        + " with too many elements");
            }
            // Fortran order: the data are the row-major layout of the transposed array.
            long[] stored = shape.clone();
            if (fortran) {
                reverse(stored);
            }
            INDArray a = TensorBuffers.allocate(type, stored);
            TensorBuffers.fill(ch, a, count * width, width, order, TensorBuffers.WINDOW);
            if (fortran && shape.length > 1) {
                int[] axes = new int[shape.length];
                for (int i = 0; i < axes.length; i++) {
                    axes[i] = axes.length - 1 - i;
                }
                INDArray t = TensorBuffers.detachedCopy(a.permute(axes));
                a.close();
                a = t;
            }
            return a;
        } catch (EOFException e) {
            throw new TensorFormatException(file, where + " is truncated", e);
        }
    }

    private static long[] parseShape(Path file, String where, String s) throws TensorFormatException {
        List<Long> dims = new ArrayList<>();
        for (String part : s.split(",")) {
            String p = part.trim();
            if (p.endsWith("L")) {
                p = p.substring(0, p.length() - 1); // Python 2 longs
            }
            if (p.isEmpty()) {
                continue;
            }
            try {
                long d = Long.parseLong(p);
                if (d < 0) {
                    throw new NumberFormatException();
                }
                dims.add(d);
            } catch (NumberFormatException e) {
                throw new TensorFormatException(file, where + " has an invalid shape (" + s + ")");
            }
        }
        return dims.stream().mapToLong(Long::longValue).toArray();
    }

    private static void reverse(long[] a) {
        for (int i = 0, j = a.length - 1; i < j; i++, j--) {
            long t = a[i];
            a[i] = a[j];
            a[j] = t;
        }
    }

    /** The ND4J type of an npy descr such as {@code '<f4'} or {@code '|b1'}, or null when unsupported. */
    private static DataType type(String descr) {
        if (descr.length() < 3 || "<>|=".indexOf(descr.charAt(0)) < 0) {
            return null;
        }
        return switch (descr.substring(1)) {
            case "f8" -> DataType.DOUBLE;
            case "f4" -> DataType.FLOAT;
            case "f2" -> DataType.FLOAT16;
            case "i8" -> DataType.INT64;
            case "i4" -> DataType.INT32;
            case "i2" -> DataType.INT16;
            case "i1" -> DataType.INT8;
            case "u1" -> DataType.UINT8;
            case "u2" -> DataType.UINT16;
            case "u4" -> DataType.UINT32;
            case "u8" -> DataType.UINT64;
            case "b1" -> DataType.BOOL;
            default -> null;
        };
    }

    /** The npy dtype (without byte order) ND4J writes for {@code t}, or null when numpy has none. */
    private static String descr(DataType t) {
        return switch (t) {
            case DOUBLE -> "f8";
            case FLOAT -> "f4";
            case HALF -> "f2";
            case LONG -> "i8";
            case INT -> "i4";
            case SHORT -> "i2";
            case BYTE -> "i1";
            case UBYTE -> "u1";
            case UINT16 -> "u2";
            case UINT32 -> "u4";
            case UINT64 -> "u8";
            case BOOL -> "b1";
            default -> null;
        };
    }
}
