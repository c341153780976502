package io.hgkd.train.preview;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;

import java.awt.image.BufferedImage;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/** Grid layout, the mask columns, the reconstruction paste and the PCA colours of a hand-made preview. */
class PreviewGridTest {
    static final int N = 3;
    static final int SIDE = 8;          // cell 96 = 12 x 8
    static final int SCALE = 12;

    /** Image i: pixel value i*64 + y*8 + x (so each row has its own range); cell (0, 1) masked in every image. */
    static Preview preview(boolean withRec, boolean withFeatures) {
        INDArray images = Nd4j.create(DataType.FLOAT, N, 1, SIDE, SIDE);
        INDArray rec = Nd4j.create(DataType.FLOAT, N, 1, SIDE, SIDE);
        for (int i = 0; i < N; i++) {
            for (int y = 0; y < SIDE; y++) {
                for (int x = 0; x < SIDE; x++) {
                    images.putScalar(new long[] {i, 0, y, x}, i * 64 + y * 8 + x);
                    rec.putScalar(new long[] {i, 0, y, x}, i * 64); // the row's minimum: black
                }
            }
        }
        boolean[][][] visible = new boolean[N][2][2];
        for (boolean[][] v : visible) {
            v[0][0] = true;
            v[1][0] = true;
            v[1][1] = true;
        }
        INDArray teacher = null;
        INDArray student = null;
        if (withFeatures) {
            // 2x2 grid, D = 4: token t of image i is the corner pattern of FeaturePcaTest
            double[][] corners = FeaturePcaTest.corners();
            teacher = Nd4j.create(DataType.FLOAT, N, 4, 4);
            for (int i = 0; i < N; i++) {
                for (int t = 0; t < 4; t++) {
                    for (int j = 0; j < 4; j++) {
                        teacher.putScalar(new long[] {i, t, j}, corners[(i * 4 + t) % 8][j]);
                    }
                }
            }
            student = teacher.dup();
            student.putScalar(new long[] {0, 0, 0}, 40); // far outside the teacher's range: clamped red
        }
        return new Preview(images, visible, withRec ? rec : null, student, teacher);
    }

    @Test
    void layoutHasAHeaderAndOneRowPerImage() {
        Preview p = preview(true, true);
        assertEquals(List.of("input", "mask", "masked", "reconstruction", "student feat", "teacher feat"),
                PreviewGrid.columns(p));
        BufferedImage img = PreviewGrid.render(p);
        int cell = SIDE * SCALE;
        assertEquals(cell, PreviewGrid.cellSize(SIDE));
        assertEquals(6 * cell + 7 * PreviewGrid.PAD, img.getWidth());
        assertEquals(PreviewGrid.HEADER + N * cell + (N + 1) * PreviewGrid.PAD, img.getHeight());

        BufferedImage plain = PreviewGrid.render(preview(false, false));
        assertEquals(3 * cell + 4 * PreviewGrid.PAD, plain.getWidth());
        assertEquals(224, PreviewGrid.cellSize(224));
        assertEquals(100, PreviewGrid.cellSize(50));
    }

    /** Colour at pixel (y, x) of the image (not the cell) in column {@code col} of row {@code row}. */
    static int at(BufferedImage img, int row, int col, int y, int x) {
        int cell = SIDE * SCALE;
        int y0 = PreviewGrid.HEADER + PreviewGrid.PAD + row * (cell + PreviewGrid.PAD);
        int x0 = PreviewGrid.PAD + col * (cell + PreviewGrid.PAD);
        return img.getRGB(x0 + x * SCALE + SCALE / 2, y0 + y * SCALE + SCALE / 2) & 0xFFFFFF;
    }

    static int grey(int v) {
        return v << 16 | v << 8 | v;
    }

    @Test
    void pixelsMaskAndReconstructionColumns() {
        BufferedImage img = PreviewGrid.render(preview(true, false));
        for (int row = 0; row < N; row++) {
            // input: per-row min (black) to max (white)
            assertEquals(grey(0), at(img, row, 0, 0, 0));
            assertEquals(grey(255), at(img, row, 0, 7, 7));
            assertEquals(grey((int) Math.round(255 * 9 / 63.0)), at(img, row, 0, 1, 1));
            // mask: cell (0, 1) = pixels y < 4, x >= 4 masked
            assertEquals(0xFFFFFF, at(img, row, 1, 0, 0));
            assertEquals(0x202020, at(img, row, 1, 0, 5));
            // masked input: grey in the masked cell, the input elsewhere
            assertEquals(PreviewGrid.MASKED_GREY, at(img, row, 2, 3, 7));
            assertEquals(at(img, row, 0, 5, 5), at(img, row, 2, 5, 5));
            // reconstruction: the prediction (black) in the masked cell, the input in visible cells
            assertEquals(grey(0), at(img, row, 3, 3, 7));
            assertEquals(at(img, row, 0, 2, 2), at(img, row, 3, 2, 2));
        }
    }

    @Test
    void featureColumnsUseTheTeachersPca() {
        Preview p = preview(false, true);
        BufferedImage img = PreviewGrid.render(p);
        double[][] corners = FeaturePcaTest.corners();
        double[][] teacherRows = new double[N * 4][];
        for (int k = 0; k < teacherRows.length; k++) {
            teacherRows[k] = corners[k % 8];
        }
        FeaturePca pca = FeaturePca.fit(teacherRows); // fit on the teacher features of all rows, as the grid does
        for (int row = 0; row < N; row++) {
            for (int t = 0; t < 4; t++) {
                int y = (t / 2) * 4 + 1;
                int x = (t % 2) * 4 + 2;
                int expected = pca.rgb(corners[(row * 4 + t) % 8]);
                assertEquals(expected, at(img, row, 4, y, x), "teacher row " + row + " token " + t);
                if (row != 0 || t != 0) {
                    assertEquals(expected, at(img, row, 3, y, x), "student row " + row + " token " + t);
                }
            }
        }
        // image 0 token 0: the student's first coordinate 40 is clamped to full red; the teacher's is not
        assertEquals(0xFF, at(img, 0, 3, 0, 0) >> 16);
        assertNotEquals(at(img, 0, 4, 0, 0), at(img, 0, 3, 0, 0));
    }
}
