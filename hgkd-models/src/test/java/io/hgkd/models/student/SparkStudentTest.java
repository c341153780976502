package io.hgkd.models.student;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.hgkd.core.io.SafeTensors;
import io.hgkd.core.nn.LoadReport;
import io.hgkd.core.sparse.ActiveMask;
import io.hgkd.core.testing.TestData;
import io.hgkd.models.ModelFixtures;
import io.hgkd.models.resnet.ResNet;
import io.hgkd.models.resnet.ResNetConfig;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/** Student structure (SparK names and shapes), initialisation, export, sparsity invariants and validation. */
class SparkStudentTest {
    private static final ResNetConfig R18 = ResNetConfig.resnet18().withNumClasses(0);

    private static long[] shape(Map<String, INDArray> s, String k) {
        INDArray a = s.get(k);
        assertTrue(a != null, "missing key " + k);
        return a.shape();
    }

    @Test
    void sparkNamesAndShapesForResnet18At224() {
        // method.md §1.5: ResNet-18 student, decoder width 768, ViT-B/16 teacher
        SparkStudent s = new SparkStudent(new StudentConfig(R18, 224, 768, true, 16, 768));
        Map<String, INDArray> st = s.stateDict();
        assertArrayEquals(new long[] {768, 512, 1, 1}, shape(st, "densify_projs.0.weight"));
        assertArrayEquals(new long[] {384, 256, 3, 3}, shape(st, "densify_projs.1.weight"));
        assertArrayEquals(new long[] {192, 128, 3, 3}, shape(st, "densify_projs.2.weight"));
        assertArrayEquals(new long[] {96, 64, 3, 3}, shape(st, "densify_projs.3.weight"));
        assertArrayEquals(new long[] {96}, shape(st, "densify_projs.3.bias"));
        assertArrayEquals(new long[] {1, 512, 1, 1}, shape(st, "mask_tokens.0"));
        assertArrayEquals(new long[] {1, 64, 1, 1}, shape(st, "mask_tokens.3"));
        assertArrayEquals(new long[] {256}, shape(st, "densify_norms.1.running_var"));
        assertArrayEquals(new long[] {}, shape(st, "densify_norms.1.num_batches_tracked"));
        assertArrayEquals(new long[] {768, 768, 4, 4}, shape(st, "dense_decoder.dec.0.up_sample.weight"));
        assertArrayEquals(new long[] {384, 768, 3, 3}, shape(st, "dense_decoder.dec.0.conv.3.weight"));
        assertArrayEquals(new long[] {24, 48, 3, 3}, shape(st, "dense_decoder.dec.4.conv.3.weight"));
        assertArrayEquals(new long[] {24}, shape(st, "dense_decoder.dec.4.conv.4.running_mean"));
        assertArrayEquals(new long[] {3, 24, 1, 1}, shape(st, "dense_decoder.proj.weight"));
        assertArrayEquals(new long[] {768, 24, 16, 16}, shape(st, "feature_head.weight"));
        assertArrayEquals(new long[] {64, 3, 7, 7}, shape(st, "sparse_encoder.sp_cnn.conv1.weight"));
        assertFalse(st.keySet().stream().anyMatch(k -> k.contains("dec.5") || k.contains("sp_cnn.fc")));
        assertEquals(5, s.decoder().blocks().size());
        assertEquals(14, s.config().teacherGrid());
        assertEquals(7, s.config().maskGrid());

        // SparK's initialisation
        assertTrue(s.namedParameters().get("mask_tokens.2").noWeightDecay());
        assertTrue(st.get("mask_tokens.0").amaxNumber().doubleValue() <= 0.02);
        assertEquals(0.02, st.get("dense_decoder.dec.0.conv.0.weight").stdNumber().doubleValue(), 0.002);
        assertEquals(0.02, st.get("feature_head.weight").stdNumber().doubleValue(), 0.002);
        assertEquals(0.0, st.get("feature_head.bias").amaxNumber().doubleValue());
        assertEquals(0.0, st.get("dense_decoder.proj.bias").amaxNumber().doubleValue());
        assertEquals(0.0, st.get("dense_decoder.dec.1.up_sample.bias").amaxNumber().doubleValue());
        double convT = Math.sqrt(2.0 / (384 * 16)); // kaiming fan_out of [Cin, Cout, 4, 4] = Cin * 16
        assertEquals(convT, st.get("dense_decoder.dec.1.up_sample.weight").stdNumber().doubleValue(), 0.03 * convT);
        double proj = 1 / Math.sqrt(256 * 9); // PyTorch default: U(±1/sqrt(fan_in)) for weight and bias
        assertTrue(st.get("densify_projs.1.weight").amaxNumber().doubleValue() <= proj);
        assertTrue(st.get("densify_projs.1.bias").amaxNumber().doubleValue() <= proj);
        assertTrue(st.get("densify_projs.1.bias").amaxNumber().doubleValue() > 0);
        assertEquals(1.0, st.get("densify_norms.0.weight").minNumber().doubleValue());
        assertEquals(1.0, st.get("dense_decoder.dec.3.conv.4.weight").minNumber().doubleValue());
        assertEquals(0.0, st.get("sparse_encoder.sp_cnn.layer2.1.bn2.weight").amaxNumber().doubleValue(),
                "the encoder keeps timm's zero_init_last");
    }

    @Test
    void exportedEncoderIsATorchvisionResnetStateDict(@TempDir Path dir) throws Exception {
        SparkStudent s = new SparkStudent(new StudentConfig(ResNetConfig.resnet50().withNumClasses(0), 64, 32, false,
                16, 8));
        Map<String, long[]> tv = ModelFixtures.keys("torchvision_resnet50_keys.txt");
        List<String> tvNoFc = new ArrayList<>(tv.keySet());
        tvNoFc.removeIf(k -> k.startsWith("fc."));
        Map<String, INDArray> exported = EncoderExport.stateDict(s);
        assertEquals(tvNoFc, new ArrayList<>(exported.keySet()), "torchvision's keys minus fc.*, in order");
        exported.forEach((k, v) -> assertArrayEquals(tv.get(k), v.shape(), k));

        // the same check PyTorch's load_state_dict(strict=False) makes: only fc.* missing
        ResNet dense = new ResNet(ResNetConfig.resnet50());
        LoadReport r = dense.loadStateDict(exported, false);
        assertEquals(List.of("fc.weight", "fc.bias"), r.missing());
        assertEquals(List.of(), r.unexpected());
        assertEquals(List.of(), r.wrongShape());
        assertEquals(exported.get("layer3.4.conv2.weight"), dense.stateDict().get("layer3.4.conv2.weight"));

        // a snapshot, not live views
        INDArray before = exported.get("conv1.weight").dup();
        s.encoder().stateDict().get("conv1.weight").addi(1);
        assertEquals(before, exported.get("conv1.weight"));

        Path f = dir.resolve("encoder.safetensors");
        EncoderExport.writeSafetensors(s, f);
        Map<String, INDArray> back = SafeTensors.read(f);
        assertEquals(tvNoFc, new ArrayList<>(back.keySet()));
        assertEquals(s.encoder().stateDict().get("layer4.2.bn3.running_var"), back.get("layer4.2.bn3.running_var"));
        assertEquals(DataType.LONG, back.get("bn1.num_batches_tracked").dataType());
    }

    @Test
    void sparkCheckpointMapsOneToOne() {
        StudentConfig cfg = new StudentConfig(R18.withBaseWidth(8), 64, 32, true, 0, 0);
        SparkStudent a = new SparkStudent(cfg);
        // a SparK-layout state dict: the student's keys plus SparK's three unused buffers
        Map<String, INDArray> spark = new LinkedHashMap<>();
        spark.put("imn_m", Nd4j.zeros(DataType.FLOAT, 1, 3, 1, 1));
        spark.put("imn_s", Nd4j.zeros(DataType.FLOAT, 1, 3, 1, 1));
        spark.put("norm_black", Nd4j.zeros(DataType.FLOAT, 1, 3, 64, 64));
        a.stateDict().forEach((k, v) -> spark.put(k, v.dup().addi(1)));
        SparkStudent b = new SparkStudent(cfg);
        LoadReport r = b.loadStateDict(spark, false);
        assertEquals(new ArrayList<>(SparkStudent.SPARK_UNUSED_BUFFERS).stream().sorted().toList(),
                r.unexpected().stream().sorted().toList());
        assertTrue(r.missing().isEmpty() && r.wrongShape().isEmpty());
        spark.keySet().removeAll(SparkStudent.SPARK_UNUSED_BUFFERS);
        assertTrue(new SparkStudent(cfg).loadStateDict(spark, true).isClean());
    }

    private static StudentConfig tinySmall() {
        return new StudentConfig(R18.withStem(ResNetConfig.Stem.SMALL).withBaseWidth(4).withInChans(1), 32, 16, true,
                4, 6);
    }

    @Test
    void sparseInvariantsAndShapes() {
        SparkStudent s = new SparkStudent(tinySmall());
        SparkStudent t = new SparkStudent(tinySmall());
        t.loadStateDict(s.stateDict(), true);
        ActiveMask m = ActiveMask.of(new boolean[][] {
                {true, false, false, true, false, true, false, false, true, true, false, false, false, true, false,
                        false},
                {false, true, true, false, true, false, false, true, false, false, true, true, false, false, true,
                        false}}, 4, 4);
        INDArray x = TestData.randn(1, 2, 1, 32, 32).castTo(DataType.FLOAT);
        INDArray garbage = TestData.randn(2, 2, 1, 32, 32).castTo(DataType.FLOAT).muli(50)
                .muli(m.at(32, 32).rsub(1.0));
        StudentOutput a = s.forward(x, m);
        StudentOutput b = t.forward(x.add(garbage), m);
        assertArrayEquals(new long[] {2, 1, 32, 32}, a.pixels().shape());
        assertArrayEquals(new long[] {2, 6, 8, 8}, a.features().shape());
        assertEquals(a.pixels(), b.pixels(), "masked pixels leaked into the output");
        assertEquals(a.features(), b.features());
        INDArray gx = s.backward(Nd4j.onesLike(a.pixels()), Nd4j.onesLike(a.features()));
        assertEquals(0.0, gx.mul(m.at(32, 32).rsub(1.0)).amaxNumber().doubleValue());
        assertTrue(gx.amaxNumber().doubleValue() > 0);
        assertTrue(s.namedParameters().get("mask_tokens.0").grad().amaxNumber().doubleValue() > 0,
                "mask tokens learn from masked positions");

        // dense mode: no mask, no tokens, every pixel gets a gradient
        s.zeroGrad();
        StudentOutput d = s.forward(x, null);
        INDArray gd = s.backward(null, Nd4j.onesLike(d.features()));
        assertEquals(0.0, s.namedParameters().get("mask_tokens.0").grad().amaxNumber().doubleValue());
        assertTrue(gd.mul(m.at(32, 32).rsub(1.0)).amaxNumber().doubleValue() > 0);
        assertArrayEquals(d.features().shape(), s.forward(x).shape(), "Module forward = dense features");
    }

    @Test
    void headsAreOptional() {
        StudentConfig pixelsOnly = StudentConfig.spark(R18.withStem(ResNetConfig.Stem.SMALL).withBaseWidth(4), 16)
                .withDecoderWidth(8);
        SparkStudent p = new SparkStudent(pixelsOnly);
        assertFalse(p.stateDict().keySet().stream().anyMatch(k -> k.startsWith("feature_head")));
        INDArray x = TestData.randn(3, 2, 3, 16, 16).castTo(DataType.FLOAT);
        StudentOutput o = p.forward(x, ActiveMask.allActive(2, 2, 2));
        assertNull(o.features());
        p.backward(Nd4j.onesLike(o.pixels()), null);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> p.backward(null, Nd4j.ones(2, 4, 4, 4)));
        assertTrue(e.getMessage().contains("teacherDim=0"), e.getMessage());

        StudentConfig featOnly = StudentConfig.hgkd(R18.withStem(ResNetConfig.Stem.SMALL).withBaseWidth(4), 16, 4, 5)
                .withDecoderWidth(8);
        SparkStudent f = new SparkStudent(featOnly);
        assertFalse(f.stateDict().keySet().stream().anyMatch(k -> k.startsWith("dense_decoder.proj")));
        StudentOutput of = f.forward(x, ActiveMask.allActive(2, 2, 2));
        assertNull(of.pixels());
        assertArrayEquals(new long[] {2, 5, 4, 4}, of.features().shape());
        assertThrows(IllegalArgumentException.class, () -> f.backward(null, null));
    }

    @Test
    void validationNamesTheProblem() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> StudentConfig.spark(ResNetConfig.resnet18(), 224));
        assertTrue(e.getMessage().contains("numClasses"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> StudentConfig.spark(R18, 200));
        assertTrue(e.getMessage().contains("multiple of the encoder's downsample ratio 32"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> StudentConfig.spark(R18, 224).withDecoderWidth(100));
        assertTrue(e.getMessage().contains("2^5"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> StudentConfig.hgkd(R18, 224, 15, 768));
        assertTrue(e.getMessage().contains("teacherPatch 15"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> StudentConfig.spark(R18, 224).withPixelHead(false));
        assertEquals(14, StudentConfig.hgkd(R18, 224, 16, 768).teacherGrid());
        assertEquals(16, StudentConfig.hgkd(R18, 224, 14, 1280).teacherGrid());

        SparkStudent s = new SparkStudent(tinySmall());
        e = assertThrows(IllegalArgumentException.class, () -> s.forward(Nd4j.zeros(DataType.FLOAT, 1, 1, 16, 16),
                null));
        assertTrue(e.getMessage().contains("32x32"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> s.forward(Nd4j.zeros(DataType.FLOAT, 1, 1, 32, 32),
                ActiveMask.allActive(1, 2, 2)));
        assertTrue(e.getMessage().contains("4x4 mask grid"), e.getMessage());
    }
}
