package io.hgkd.core.io;

import static io.hgkd.core.io.TensorAsserts.assertBitIdentical;
import static io.hgkd.core.io.TensorAsserts.rawBytes;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.nd4j.linalg.indexing.NDArrayIndex.interval;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.Channels;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/** The byte-moving helpers, with windows small enough to exercise the chunking used for tensors over 2 GiB. */
class TensorBuffersTest {
    @Test
    void fillAndDrainInSmallWindows() throws IOException {
        INDArray src = Nd4j.randn(DataType.DOUBLE, 37);
        byte[] bytes = rawBytes(src);
        for (int window : new int[] {8, 12, 13, 100, 1 << 20}) {
            INDArray dst = TensorBuffers.allocate(DataType.DOUBLE, new long[] {37});
            TensorBuffers.fill(Channels.newChannel(new ByteArrayInputStream(bytes)), dst, bytes.length, 8,
                    ByteOrder.LITTLE_ENDIAN, window);
            assertBitIdentical(src, dst, "window " + window);
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            TensorBuffers.drain(dst, bytes.length, Channels.newChannel(out), window);
            assertArrayEquals(bytes, out.toByteArray(), "drain window " + window);
        }
    }

    @Test
    void fillSwapsBigEndianData() throws IOException {
        int[] values = {1, -2, Integer.MAX_VALUE, Integer.MIN_VALUE, 0x01020304};
        ByteBuffer be = ByteBuffer.allocate(4 * values.length).order(ByteOrder.BIG_ENDIAN);
        for (int v : values) {
            be.putInt(v);
        }
        INDArray dst = TensorBuffers.allocate(DataType.INT32, new long[] {values.length});
        TensorBuffers.fill(Channels.newChannel(new ByteArrayInputStream(be.array())), dst, be.capacity(), 4,
                ByteOrder.BIG_ENDIAN, 8);
        assertArrayEquals(values, dst.toIntVector());
    }

    @Test
    void fillReportsEndOfInput() {
        INDArray dst = TensorBuffers.allocate(DataType.FLOAT, new long[] {4});
        assertThrows(EOFException.class, () -> TensorBuffers.fill(
                Channels.newChannel(new ByteArrayInputStream(new byte[10])), dst, 16, 4, ByteOrder.LITTLE_ENDIAN, 8));
    }

    @Test
    void contiguityFollowsStridesNotOrdering() {
        INDArray grid = Nd4j.arange(12).castTo(DataType.FLOAT).reshape(3, 4);
        assertTrue(TensorBuffers.isRowMajorContiguous(grid));
        assertTrue(TensorBuffers.isRowMajorContiguous(grid.getRow(1)));
        assertTrue(TensorBuffers.isRowMajorContiguous(grid.get(interval(1, 3), interval(0, 4))));
        assertTrue(TensorBuffers.isRowMajorContiguous(Nd4j.scalar(1f)));
        assertFalse(TensorBuffers.isRowMajorContiguous(grid.transpose()));
        assertFalse(TensorBuffers.isRowMajorContiguous(grid.get(interval(0, 3), interval(1, 3))));
        assertFalse(TensorBuffers.isRowMajorContiguous(grid.dup('f')));
        // A row view is written from its own offset, not from the start of the shared buffer.
        assertArrayEquals(new float[] {4, 5, 6, 7}, floats(rawBytes(grid.getRow(1))));
    }

    private static float[] floats(byte[] b) {
        float[] out = new float[b.length / 4];
        ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer().get(out);
        return out;
    }

    @Test
    void halfConversionMatchesNd4jForAllBitPatterns() {
        // All 65536 half patterns, converted by ND4J's own HALF->FLOAT cast as the independent reference.
        INDArray halves = TensorBuffers.allocate(DataType.FLOAT16, new long[] {65536});
        ByteBuffer w = TensorBuffers.window(halves, 0, 2 * 65536);
        for (int i = 0; i < 65536; i++) {
            w.putShort((short) i);
        }
        float[] nd4j = halves.castTo(DataType.FLOAT).toFloatVector();
        for (int i = 0; i < 65536; i++) {
            float mine = SafeTensors.halfToFloat((short) i);
            if (Float.isNaN(nd4j[i])) {
                assertTrue(Float.isNaN(mine), "pattern " + Integer.toHexString(i));
            } else {
                assertEquals(Float.floatToRawIntBits(nd4j[i]), Float.floatToRawIntBits(mine),
                        "pattern " + Integer.toHexString(i));
            }
        }
        // NaN payloads are kept the way numpy keeps them.
        assertEquals(0x7fc00000, Float.floatToRawIntBits(SafeTensors.halfToFloat((short) 0x7e00)));
        assertEquals(0xff802000, Float.floatToRawIntBits(SafeTensors.halfToFloat((short) 0xfc01)));
    }

    @Test
    void bf16ConversionIsTheUpperHalfOfTheFloat() {
        assertEquals(1f, SafeTensors.bf16ToFloat((short) 0x3f80));
        assertEquals(-3.140625f, SafeTensors.bf16ToFloat((short) 0xc049));
        assertEquals(0xff800000, Float.floatToRawIntBits(SafeTensors.bf16ToFloat((short) 0xff80)));
    }
}
