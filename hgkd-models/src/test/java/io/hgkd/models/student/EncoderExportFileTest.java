package io.hgkd.models.student;

import static org.junit.jupiter.api.Assertions.assertTrue;

import io.hgkd.core.io.Npz;
import io.hgkd.core.sparse.ActiveMask;
import io.hgkd.core.testing.TestData;
import io.hgkd.models.resnet.ResNet;
import io.hgkd.models.resnet.ResNetConfig;
import io.hgkd.core.mim.MaskGenerator;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * Writes an exported ResNet-50 student encoder and its Java features for {@code tools/reference/export_check.py},
 * which loads the file into torchvision's {@code resnet50} and compares. Runs only with
 * {@code -Dhgkd.exportDir=DIR} (the comparison needs PyTorch, which CI does not have).
 */
class EncoderExportFileTest {
    @Test
    void writeExportedEncoderAndFeatures() throws Exception {
        String dir = System.getProperty("hgkd.exportDir");
        Assumptions.assumeTrue(dir != null, "set -Dhgkd.exportDir=DIR to write the export check files");
        Path out = Path.of(dir);
        Files.createDirectories(out);
        ResNetConfig enc = ResNetConfig.resnet50().withNumClasses(0).withZeroInitLast(false);
        SparkStudent student = new SparkStudent(StudentConfig.hgkd(enc, 64, 16, 32));
        // one sparse training forward moves every BN's running statistics away from (0, 1)
        student.train(true);
        ActiveMask mask = new MaskGenerator(0.6, 1).next(2, 2, 2);
        student.forward(TestData.randn(3, 2, 3, 64, 64).castTo(DataType.FLOAT), mask);
        EncoderExport.writeSafetensors(student, out.resolve("encoder.safetensors"));
        ResNet r = student.encoder();
        r.eval();
        INDArray x = TestData.randn(4, 2, 3, 96, 96).castTo(DataType.FLOAT);
        List<INDArray> f = r.features(x, null);
        Map<String, INDArray> feats = new LinkedHashMap<>();
        for (int i = 0; i < f.size(); i++) {
            feats.put("layer" + (i + 1), f.get(i).dup());
        }
        Npz.writeNpy(out.resolve("x.npy"), x);
        Npz.write(out.resolve("features.npz"), feats);
        assertTrue(Files.size(out.resolve("encoder.safetensors")) > 90_000_000L);
    }
}
