package io.hgkd.core.io;

import io.hgkd.core.nn.RowKernels;
import java.io.EOFException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.channels.ReadableByteChannel;
import java.nio.channels.WritableByteChannel;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.concurrent.ThreadLocalRandom;
import org.bytedeco.javacpp.BytePointer;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.concurrency.AffinityManager;
import org.nd4j.linalg.api.memory.MemoryWorkspace;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Moves tensor bytes between channels and ND4J's native memory without per-element Java loops, and writes files
 * atomically. Shared by {@link SafeTensors} and {@link Npz}.
 */
final class TensorBuffers {
    /**
     * Largest native window handed to NIO at once. A {@link ByteBuffer} is int-indexed, so tensors over 2 GiB are
     * copied in pieces.
     */
    static final int WINDOW = 1 << 30;

    private TensorBuffers() {
    }

    /** Allocates an uninitialised array outside any workspace: loaded tensors must outlive the caller's scopes. */
    static INDArray allocate(DataType type, long[] shape) {
        return Nd4j.createUninitializedDetached(type, 'c', shape);
    }

    /** The ND4J length of {@code shape}, or -1 when it overflows a long. */
    static long numElements(long[] shape) {
        long n = 1;
        for (long d : shape) {
            try {
                n = Math.multiplyExact(n, d);
            } catch (ArithmeticException e) {
                return -1;
            }
        }
        return n;
    }

    /**
     * True when the elements of {@code a} lie in its buffer in row-major order with no gaps, starting at its data
     * pointer. Checked on the strides rather than {@code ordering()}, which ND4J reports loosely for vectors and
     * size-1 dimensions.
     */
    static boolean isRowMajorContiguous(INDArray a) {
        return RowKernels.isDense(a);
    }

    /**
     * {@code a} itself when it is row-major contiguous, else a detached row-major copy (the caller closes it when it
     * differs from {@code a}). Either way its host memory is current.
     */
    static INDArray rowMajor(INDArray a) {
        INDArray c = isRowMajorContiguous(a) ? a : detachedCopy(a);
        // No-op on CPU; on CUDA the device copy may be newer than the host memory we are about to read.
        Nd4j.getAffinityManager().ensureLocation(c, AffinityManager.Location.HOST);
        return c;
    }

    /** A row-major copy of {@code a} outside any workspace, so that it can be closed right after use. */
    @SuppressWarnings("try") // the scope is used for its side effect only
    static INDArray detachedCopy(INDArray a) {
        try (MemoryWorkspace ignored = Nd4j.getWorkspaceManager().scopeOutOfWorkspaces()) {
            return a.dup('c');
        }
    }

    /** Frees a temporary copy made by {@link #rowMajor} as soon as it is written, rather than at GC time. */
    static void release(INDArray copy, INDArray original) {
        if (copy != original && copy.closeable()) {
            copy.close();
        }
    }

    /**
     * A little-endian view of {@code length} bytes of {@code a}'s native memory starting {@code byteOffset} bytes
     * after its data pointer (which already includes a view's offset). {@code a} must stay reachable while the window
     * is used: the window does not own the memory.
     */
    static ByteBuffer window(INDArray a, long byteOffset, int length) {
        if (ByteOrder.nativeOrder() != ByteOrder.LITTLE_ENDIAN) {
            // Files are little-endian and we copy native memory byte for byte; ND4J ships no big-endian backend.
            throw new UnsupportedOperationException("hgkd tensor IO needs a little-endian platform");
        }
        BytePointer p = new BytePointer(a.data().addressPointer()).getPointer(byteOffset);
        p.capacity(length).limit(length).position(0);
        return p.asByteBuffer().order(ByteOrder.LITTLE_ENDIAN);
    }

    /**
     * Fills the first {@code byteLength} bytes of {@code dst} (row-major, freshly allocated) from {@code src}, whose
     * elements are {@code width} bytes wide in {@code order}. Little-endian data goes straight into native memory;
     * big-endian data is swapped through a heap buffer by NIO's bulk copies.
     *
     * @throws EOFException when {@code src} ends first
     */
    static void fill(ReadableByteChannel src, INDArray dst, long byteLength, int width, ByteOrder order, int window)
            throws IOException {
        boolean swap = order != ByteOrder.LITTLE_ENDIAN && width > 1;
        // Keep windows a multiple of the element width so that no element straddles two windows.
        int step = window - window % width;
        ByteBuffer heap = null;
        for (long done = 0; done < byteLength; ) {
            int len = (int) Math.min(step, byteLength - done);
            ByteBuffer w = window(dst, done, len);
            if (!swap) {
                readFully(src, w);
            } else {
                if (heap == null || heap.capacity() < len) {
                    heap = ByteBuffer.allocate(len);
                }
                heap.clear().limit(len);
                readFully(src, heap);
                heap.flip();
                swapInto(heap.order(order), w, width);
            }
            done += len;
        }
        Nd4j.getAffinityManager().tagLocation(dst, AffinityManager.Location.HOST);
    }

    /** Copies elements of {@code width} bytes from {@code src} (in its order) to {@code dst} (in its order). */
    private static void swapInto(ByteBuffer src, ByteBuffer dst, int width) {
        switch (width) {
            case 2 -> dst.asShortBuffer().put(src.asShortBuffer());
            case 4 -> dst.asIntBuffer().put(src.asIntBuffer());
            case 8 -> dst.asLongBuffer().put(src.asLongBuffer());
            default -> throw new IllegalArgumentException("element width " + width);
        }
    }

    /** Writes the first {@code byteLength} bytes of the row-major contiguous {@code src} to {@code out}. */
    static void drain(INDArray src, long byteLength, WritableByteChannel out, int window) throws IOException {
        for (long done = 0; done < byteLength; ) {
            int len = (int) Math.min(window, byteLength - done);
            ByteBuffer w = window(src, done, len);
            while (w.hasRemaining()) {
                out.write(w);
            }
            done += len;
        }
    }

    /** Reads until {@code dst} is full. */
    static void readFully(ReadableByteChannel ch, ByteBuffer dst) throws IOException {
        while (dst.hasRemaining()) {
            if (ch.read(dst) < 0) {
                throw new EOFException();
            }
        }
    }

    /** Writes all of {@code src}. */
    static void writeFully(WritableByteChannel ch, ByteBuffer src) throws IOException {
        while (src.hasRemaining()) {
            ch.write(src);
        }
    }

    /** The body of an atomic write: fills the channel of the temporary file. */
    interface Body {
        void writeTo(FileChannel ch) throws IOException;
    }

    /**
     * Writes {@code file} through a temporary file in the same directory that is synced, then renamed over it: a crash
     * or an exception at any point leaves either the old file or the complete new one, never a partial one. The
     * temporary file is removed on failure.
     */
    static void atomicWrite(Path file, Body body) throws IOException {
        Path target = file.toAbsolutePath();
        Path dir = target.getParent();
        Path tmp = null;
        FileChannel ch = null;
        // Our own random name with CREATE_NEW rather than Files.createTempFile, which would give the final file
        // mode 0600 instead of the usual umask-based permissions.
        for (int attempt = 0; ch == null; attempt++) {
            tmp = dir.resolve("." + target.getFileName() + "." + Long.toHexString(ThreadLocalRandom.current().nextLong())
                    + ".tmp");
            try {
                ch = FileChannel.open(tmp, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE);
            } catch (FileAlreadyExistsException e) {
                if (attempt >= 10) {
                    throw e;
                }
            }
        }
        boolean done = false;
        try {
            try (FileChannel c = ch) {
                body.writeTo(c);
                // The data must be on disk before the rename makes it visible under the final name.
                c.force(true);
            }
            try {
                Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE);
            } catch (AtomicMoveNotSupportedException e) {
                Files.move(tmp, target, StandardCopyOption.REPLACE_EXISTING);
            }
            done = true;
        } finally {
            if (!done) {
                try {
                    Files.deleteIfExists(tmp);
                } catch (IOException suppressed) {
                    // The original failure matters more; a stray hidden .tmp file is harmless.
                }
            }
        }
    }
}
