package io.hgkd.train.preview;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.hgkd.train.loop.EpochEvent;
import io.hgkd.train.loop.RunInfo;
import java.awt.image.BufferedImage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.api.ndarray.INDArray;

/** The listener asks for the fixed images once and writes one PNG per epoch. */
class PreviewListenerTest {

    @Test
    void writesOnePicturePerEpochOfTheFixedImages(@TempDir Path dir) throws Exception {
        int[] imageCalls = {0};
        Previewable job = new Previewable() {
            @Override
            public INDArray previewImages(int n) {
                imageCalls[0]++;
                assertEquals(2, n);
                return PreviewGridTest.preview(true, true).images().get(
                        org.nd4j.linalg.indexing.NDArrayIndex.interval(0, 2)).dup();
            }

            @Override
            public Preview preview(INDArray images) {
                Preview p = PreviewGridTest.preview(true, true);
                assertEquals(2, images.size(0));
                return p;
            }
        };
        PreviewListener l = new PreviewListener(job, 2);
        l.onRunStart(RunInfo.fresh("test", 2, 1, 1, 1, 1, 1, dir));
        l.onEpochEnd(new EpochEvent(0, 1, Map.of(), Map.of(), 1, 1));
        l.onEpochEnd(new EpochEvent(1, 2, Map.of(), Map.of(), 1, 1));
        assertEquals(1, imageCalls[0]);
        for (int e = 0; e < 2; e++) {
            Path f = PreviewListener.file(dir, e);
            assertEquals(dir.resolve("previews").resolve("epoch-000" + (e + 1) + ".png"), f);
            assertTrue(Files.isRegularFile(f));
            BufferedImage img = ImageIO.read(f.toFile());
            assertEquals(PreviewGrid.render(PreviewGridTest.preview(true, true)).getWidth(), img.getWidth());
        }
        try (var s = Files.list(dir.resolve("previews"))) {
            assertEquals(2, s.count(), "no temporary files left");
        }
    }
}
