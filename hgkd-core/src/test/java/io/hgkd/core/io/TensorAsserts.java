package io.hgkd.core.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.function.Executable;
import org.nd4j.linalg.api.ndarray.INDArray;

/** Bit-exact comparisons: ND4J's {@code INDArray.equals} tolerates an epsilon on floating types. */
final class TensorAsserts {
    private TensorAsserts() {
    }

    /** The logical row-major contents of {@code a} as little-endian bytes. */
    static byte[] rawBytes(INDArray a) {
        INDArray c = TensorBuffers.rowMajor(a);
        try {
            long n = a.length() * a.dataType().width();
            byte[] out = new byte[(int) n];
            if (n > 0) {
                TensorBuffers.window(c, 0, (int) n).get(out);
            }
            return out;
        } finally {
            TensorBuffers.release(c, a);
        }
    }

    /** Same type, same shape, same bits. */
    static void assertBitIdentical(INDArray expected, INDArray actual, String what) {
        assertEquals(expected.dataType(), actual.dataType(), what + ": data type");
        assertArrayEquals(expected.shape(), actual.shape(), what + ": shape " + Arrays.toString(actual.shape()));
        assertArrayEquals(rawBytes(expected), rawBytes(actual), what + ": bytes");
    }

    /** Runs {@code call}, expects a {@link TensorFormatException} naming {@code file} and containing each part. */
    static TensorFormatException assertRejected(Path file, Executable call, String... parts) {
        try {
            call.execute();
        } catch (TensorFormatException e) {
            String m = e.getMessage();
            assertTrue(m.startsWith(file.toString() + ": "), "message should start with the file: " + m);
            for (String p : parts) {
                assertTrue(m.contains(p), "message should contain '" + p + "': " + m);
            }
            assertEquals(file, e.file());
            return e;
        } catch (Throwable t) {
            fail("expected TensorFormatException, got " + t, t);
        }
        return fail("expected TensorFormatException containing " + Arrays.toString(parts));
    }

    /** The names of the entries of {@code dir}, sorted. */
    static List<String> listing(Path dir) throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            return s.map(p -> p.getFileName().toString()).sorted().toList();
        }
    }
}
