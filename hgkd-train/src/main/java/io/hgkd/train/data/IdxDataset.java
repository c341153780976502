package io.hgkd.train.data;

import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.zip.GZIPInputStream;
import java.util.zip.ZipException;

/**
 * Grayscale images and labels in the IDX format of MNIST and Fashion-MNIST, held in memory (one byte per pixel:
 * 47 MB for the 60 000 training images). Files may be gzip-compressed (detected from the content, not the name).
 *
 * <p>Both headers are validated: magic {@code 0x00000803} (unsigned bytes, 3 dimensions) for images and
 * {@code 0x00000801} for labels, positive dimensions, a data length equal to the product of the dimensions, and as
 * many labels as images. Each problem is an {@link IdxFormatException} naming the file.
 *
 * <p>Images come out as 1-channel {@code rows x cols} {@link ByteImage}s (28x28 for MNIST); pad or resize them to
 * 32x32 and replicate to 3 channels with a {@link Pipeline}, for example
 * {@code Pipeline.of(3, FashionMnist.NORMALIZE, Pad.uniform(2))}.
 */
public final class IdxDataset implements ImageSource {
    /** Magic number of an unsigned-byte, 3-dimensional IDX file (images). */
    public static final int IMAGES_MAGIC = 0x00000803;
    /** Magic number of an unsigned-byte, 1-dimensional IDX file (labels). */
    public static final int LABELS_MAGIC = 0x00000801;

    private final String name;
    private final int count;
    private final int rows;
    private final int cols;
    private final byte[] pixels;
    private final byte[] labels;
    private final int numClasses;

    private IdxDataset(String name, int count, int rows, int cols, byte[] pixels, byte[] labels) {
        this.name = name;
        this.count = count;
        this.rows = rows;
        this.cols = cols;
        this.pixels = pixels;
        this.labels = labels;
        int max = -1;
        for (byte b : labels) {
            max = Math.max(max, b & 0xFF);
        }
        this.numClasses = max + 1;
    }

    /** Reads an images file and its labels file (each {@code .gz} or raw). */
    public static IdxDataset read(Path images, Path labels) throws IOException {
        try (InputStream im = open(images); InputStream lb = open(labels)) {
            return read(im, images.toString(), lb, labels.toString());
        }
    }

    /** Reads from streams (each gzip or raw); the names are used in messages. The streams are not closed. */
    public static IdxDataset read(InputStream images, String imagesName, InputStream labels, String labelsName)
            throws IOException {
        Parsed im = parse(images, imagesName, IMAGES_MAGIC, "images");
        Parsed lb = parse(labels, labelsName, LABELS_MAGIC, "labels");
        if (im.dims[0] != lb.dims[0]) {
            throw new IdxFormatException(labelsName, lb.dims[0] + " labels for the " + im.dims[0] + " images of "
                    + imagesName);
        }
        return new IdxDataset(imagesName, im.dims[0], im.dims[1], im.dims[2], im.data, lb.data);
    }

    private static InputStream open(Path p) throws IOException {
        try {
            return Files.newInputStream(p);
        } catch (NoSuchFileException e) {
            throw new NoSuchFileException(p.toString(), null, "IDX file not found");
        }
    }

    private record Parsed(int[] dims, byte[] data) {
    }

    private static Parsed parse(InputStream raw, String file, int magic, String what) throws IOException {
        byte[] all = readAll(raw, file);
        if (all.length < 4) {
            throw new IdxFormatException(file, "only " + all.length + " bytes: too short for an IDX header");
        }
        int found = readInt(all, 0);
        if (found != magic) {
            String hint = found == IMAGES_MAGIC ? " (an images file; labels were expected here)"
                    : found == LABELS_MAGIC ? " (a labels file; images were expected here)"
                    : (found >>> 16) != 0 ? " (not an IDX file)" : "";
            throw new IdxFormatException(file, String.format("bad magic number 0x%08x, expected 0x%08x for %s%s",
                    found, magic, what, hint));
        }
        int ndims = magic & 0xFF;
        int header = 4 + 4 * ndims;
        if (all.length < header) {
            throw new IdxFormatException(file, "truncated header: " + all.length + " bytes, the " + ndims
                    + "-dimensional header needs " + header);
        }
        int[] dims = new int[ndims];
        long expected = 1;
        for (int d = 0; d < ndims; d++) {
            dims[d] = readInt(all, 4 + 4 * d);
            if (dims[d] <= 0) {
                throw new IdxFormatException(file, "dimension " + d + " is " + Integer.toUnsignedString(dims[d])
                        + "; it must be positive");
            }
            expected *= dims[d];
            if (expected > Integer.MAX_VALUE - header) {
                throw new IdxFormatException(file, "dimensions " + java.util.Arrays.toString(dims)
                        + " exceed 2 GiB of data");
            }
        }
        long body = all.length - header;
        if (body < expected) {
            throw new IdxFormatException(file, "truncated: the header promises " + expected + " data bytes ("
                    + dimString(dims) + "), the file has " + body);
        }
        if (body > expected) {
            throw new IdxFormatException(file, (body - expected) + " unexpected bytes after the " + expected
                    + " data bytes of " + dimString(dims));
        }
        return new Parsed(dims, java.util.Arrays.copyOfRange(all, header, all.length));
    }

    private static String dimString(int[] dims) {
        StringBuilder sb = new StringBuilder();
        for (int d : dims) {
            sb.append(sb.length() == 0 ? "" : " x ").append(d);
        }
        return sb.toString();
    }

    private static byte[] readAll(InputStream raw, String file) throws IOException {
        BufferedInputStream in = new BufferedInputStream(raw, 1 << 16);
        in.mark(2);
        int b0 = in.read();
        int b1 = in.read();
        in.reset();
        InputStream src = in;
        if (b0 == 0x1f && b1 == 0x8b) {
            src = new GZIPInputStream(in, 1 << 16);
        }
        try {
            ByteArrayOutputStream out = new ByteArrayOutputStream(1 << 20);
            src.transferTo(out);
            return out.toByteArray();
        } catch (EOFException e) {
            throw new IdxFormatException(file, "truncated gzip stream", e);
        } catch (ZipException e) {
            throw new IdxFormatException(file, "corrupt gzip stream: " + e.getMessage(), e);
        }
    }

    private static int readInt(byte[] b, int at) {
        return ((b[at] & 0xFF) << 24) | ((b[at + 1] & 0xFF) << 16) | ((b[at + 2] & 0xFF) << 8) | (b[at + 3] & 0xFF);
    }

    /** The images file this was read from. */
    public String name() {
        return name;
    }

    @Override
    public int size() {
        return count;
    }

    /** Image height. */
    public int rows() {
        return rows;
    }

    /** Image width. */
    public int cols() {
        return cols;
    }

    @Override
    public int label(int index) {
        return labels[check(index)] & 0xFF;
    }

    /** One more than the largest label (10 for MNIST and Fashion-MNIST). */
    @Override
    public int numClasses() {
        return numClasses;
    }

    @Override
    public String describe(int index) {
        return name + "#" + check(index);
    }

    /** Image {@code index} as a 1-channel (or replicated 3-channel) image of {@code rows x cols}. */
    @Override
    public ByteImage read(int index, int channels) {
        int n = rows * cols;
        byte[] px = new byte[n];
        System.arraycopy(pixels, check(index) * n, px, 0, n);
        return new ByteImage(1, rows, cols, px).toChannels(channels);
    }

    /** The first {@code n} images as a new dataset (for quick runs). */
    public IdxDataset head(int n) {
        if (n < 1 || n > count) {
            throw new IllegalArgumentException("head size must be in 1.." + count + ", got " + n);
        }
        return new IdxDataset(name, n, rows, cols, java.util.Arrays.copyOf(pixels, n * rows * cols),
                java.util.Arrays.copyOf(labels, n));
    }

    private int check(int index) {
        if (index < 0 || index >= count) {
            throw new IndexOutOfBoundsException("image index " + index + " outside 0.." + (count - 1) + " of " + name);
        }
        return index;
    }
}
