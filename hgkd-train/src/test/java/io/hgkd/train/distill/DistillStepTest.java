package io.hgkd.train.distill;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.hgkd.core.nn.Parameter;
import io.hgkd.core.sparse.ActiveMask;
import io.hgkd.core.testing.TestData;
import io.hgkd.models.resnet.ResNetConfig;
import io.hgkd.models.student.SparkStudent;
import io.hgkd.models.student.StudentConfig;
import io.hgkd.models.vit.VisionTransformer;
import io.hgkd.models.vit.VitConfig;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

/** One full step on tiny models: teacher (ViT, 16 px, patch 4, D 8) into a small-stem ResNet student. */
class DistillStepTest {
    private static final int D = 8;

    private static VisionTransformer teacher() {
        VitConfig c = VitConfig.vitTinyPatch16().withImgSize(16, 4).withInChans(3).withEmbedDim(D, 2).withDepth(2)
                .withMlpRatio(2.0).withNumClasses(0);
        return new VisionTransformer(c).freeze();
    }

    private static SparkStudent student() {
        ResNetConfig enc = new ResNetConfig(ResNetConfig.Block.BASIC, new int[] {1, 1, 1, 1}, 3, 0,
                ResNetConfig.Stem.SMALL, 2, 0.0, false, 3);
        return new SparkStudent(new StudentConfig(enc, 16, 8, true, 4, D));
    }

    private static ActiveMask mask(int grid) {
        // 2 samples; each has visible and masked cells
        boolean[][] a = new boolean[2][grid * grid];
        for (int i = 0; i < grid * grid; i++) {
            a[0][i] = i % 2 == 0;
            a[1][i] = i % 3 == 1;
        }
        return ActiveMask.of(a, grid, grid);
    }

    private static void assertGradients(SparkStudent s, boolean pixelHead) {
        for (Map.Entry<String, Parameter> e : s.namedParameters().entrySet()) {
            boolean proj = e.getKey().startsWith("dense_decoder.proj.");
            Parameter p = e.getValue();
            if (proj && !pixelHead) {
                assertTrue(!p.hasGrad() || p.grad().amaxNumber().doubleValue() == 0, e.getKey() + " has a gradient");
                continue;
            }
            assertTrue(p.hasGrad(), e.getKey() + " has no gradient");
            double norm = p.grad().norm2Number().doubleValue();
            assertTrue(norm > 0 && Double.isFinite(norm), e.getKey() + " gradient norm " + norm);
        }
    }

    @Test
    void defaultStepGivesEveryFeaturePathParameterAGradientAndAdvancesTheQueue() {
        VisionTransformer t = teacher();
        SparkStudent s = student();
        DistillConfig cfg = DistillConfig.defaults().withQueue(8, 1);
        DistillLoss loss = new DistillLoss(cfg, D);
        INDArray before = loss.queue().queue().dup();
        INDArray x = TestData.randn(11, 2, 3, 16, 16).castTo(DataType.FLOAT);
        LossTerms terms = new DistillStep(t, s, loss).run(x, mask(s.config().maskGrid()));
        assertTrue(terms.isFinite(), terms.toString());
        assertTrue(terms.feat() > 0 && terms.sim() > 0, terms.toString());
        assertEquals(0.0, terms.pix());
        assertEquals(terms.feat() + terms.sim(), terms.total(), 1e-9);
        assertGradients(s, false);
        t.parameters().forEach(p -> assertFalse(p.hasGrad() && p.grad().amaxNumber().doubleValue() != 0));
        // z_t of this batch went into rows 0 and 1; the rest is untouched
        assertEquals(2, loss.queue().pointer());
        assertFalse(before.getRow(0).equalsWithEps(loss.queue().queue().getRow(0), 1e-6));
        assertEquals(before.getRow(2), loss.queue().queue().getRow(2));
    }

    @Test
    void allThreeTermsAndABlockTarget() {
        VisionTransformer t = teacher();
        SparkStudent s = student();
        DistillConfig cfg = DistillConfig.defaults().withQueue(8, 1).withWeights(1, 0.5, 2).withTeacherBlock(0)
                .withFeatureLoss(DistillConfig.FeatureLossKind.COSINE).withSimTemperature(0.1);
        DistillLoss loss = new DistillLoss(cfg, D);
        INDArray x = TestData.randn(12, 2, 3, 16, 16).castTo(DataType.FLOAT);
        LossTerms terms = new DistillStep(t, s, loss).run(x, mask(s.config().maskGrid()));
        assertTrue(terms.feat() > 0 && terms.sim() > 0 && terms.pix() > 0, terms.toString());
        assertEquals(terms.feat() + 0.5 * terms.sim() + 2 * terms.pix(), terms.total(), 1e-9);
        assertGradients(s, true);
    }

    @Test
    void teacherChunksGiveTheSameTargets() {
        VisionTransformer t = teacher();
        SparkStudent s = student();
        DistillLoss loss = new DistillLoss(DistillConfig.defaults().withQueue(8, 1), D);
        INDArray x = TestData.randn(14, 5, 3, 16, 16).castTo(DataType.FLOAT);
        TeacherTargets whole = new DistillStep(t, s, loss).teacherTargets(x);
        TeacherTargets chunked = new DistillStep(t, s, loss, 2).teacherTargets(x);
        assertArrayEquals(new long[] {5, 16, D}, whole.tokens().shape());
        assertTrue(whole.tokens().equalsWithEps(chunked.tokens(), 1e-5));
        assertTrue(whole.embedding().equalsWithEps(chunked.embedding(), 1e-6));
        // normalised targets: zero mean, unit variance per token
        assertEquals(0.0, whole.tokens().mean(2).amaxNumber().doubleValue(), 1e-5);
        assertThrows(IllegalArgumentException.class, () -> new DistillStep(t, s, loss, -1));
    }

    @Test
    void repeatedStepsWithPlainSgdLowerTheLoss() {
        // the step's gradients point downhill: a few SGD steps on one batch reduce the feature and total loss.
        // K = 64 > 15 steps x 2 images, so the queue keeps random rows (with K = 8 it soon holds only copies of
        // this batch's two embeddings, and L_sim was observed to sit at 1: a_t then has almost no variance).
        VisionTransformer t = teacher();
        SparkStudent s = student();
        DistillLoss loss = new DistillLoss(DistillConfig.defaults().withQueue(64, 1), D);
        DistillStep step = new DistillStep(t, s, loss);
        INDArray x = TestData.randn(15, 2, 3, 16, 16).castTo(DataType.FLOAT);
        ActiveMask m = mask(s.config().maskGrid());
        LossTerms first = null, last = null;
        for (int i = 0; i < 15; i++) {
            s.zeroGrad();
            last = step.run(x, m);
            if (first == null) {
                first = last;
            }
            for (Parameter p : s.parameters()) {
                if (p.hasGrad()) {
                    p.data().subi(p.grad().mul(0.05));
                }
            }
        }
        assertTrue(last.feat() < 0.9 * first.feat(), first + " -> " + last);
        assertTrue(last.sim() < first.sim(), first + " -> " + last);
        assertTrue(last.total() < first.total(), first + " -> " + last);
    }

    @Test
    void sparkOnlyNeedsNoTeacherAndNoQueue() {
        SparkStudent s = student();
        DistillLoss loss = new DistillLoss(DistillConfig.sparkOnly(), D);
        assertNull(loss.queue());
        INDArray x = TestData.randn(13, 2, 3, 16, 16).castTo(DataType.FLOAT);
        LossTerms terms = new DistillStep(null, s, loss).run(x, mask(s.config().maskGrid()));
        assertTrue(terms.pix() > 0 && terms.feat() == 0 && terms.sim() == 0, terms.toString());
    }

    @Test
    void rejectsAnUnfrozenOrMismatchedTeacher() {
        SparkStudent s = student();
        DistillLoss loss = new DistillLoss(DistillConfig.defaults().withQueue(8, 1), D);
        VisionTransformer live = teacher().setGradEnabled(true);
        assertThrows(IllegalArgumentException.class, () -> new DistillStep(live, s, loss));
        assertThrows(IllegalArgumentException.class, () -> new DistillStep(null, s, loss));
        VisionTransformer wide = new VisionTransformer(VitConfig.vitTinyPatch16().withImgSize(16, 4).withInChans(3)
                .withEmbedDim(12, 2).withDepth(1).withNumClasses(0)).freeze();
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> new DistillStep(wide, s, loss));
        assertTrue(e.getMessage().contains("dim 12"), e.getMessage());
        DistillLoss withPix = new DistillLoss(DistillConfig.defaults().withQueue(8, 1).withWeights(1, 1, 1), D);
        SparkStudent noPixelHead = new SparkStudent(student().config().withPixelHead(false));
        e = assertThrows(IllegalArgumentException.class, () -> new DistillStep(teacher(), noPixelHead, withPix));
        assertTrue(e.getMessage().contains("pixel head"), e.getMessage());
        DistillLoss deep = new DistillLoss(DistillConfig.defaults().withQueue(8, 1).withTeacherBlock(5), D);
        assertThrows(IllegalArgumentException.class, () -> new DistillStep(teacher(), s, deep));
    }

    @Test
    void configValidation() {
        DistillConfig d = DistillConfig.defaults();
        assertEquals(-1, d.teacherBlock());
        assertTrue(d.normalizeTargets() && d.usesSim() && d.usesTeacher());
        assertEquals(1e-6, d.targetEps());
        assertEquals(0.0, d.pixWeight());
        assertEquals(65536, d.queueSize());
        assertThrows(IllegalArgumentException.class, () -> d.withTeacherBlock(-2));
        assertThrows(IllegalArgumentException.class, () -> d.withWeights(-1, 1, 0));
        assertThrows(IllegalArgumentException.class, () -> d.withWeights(Double.NaN, 1, 0));
        assertThrows(IllegalArgumentException.class, () -> d.withWeights(0, 0, 0));
        assertThrows(IllegalArgumentException.class, () -> d.withWeights(0, 1, 0).withSimEnabled(false));
        assertThrows(IllegalArgumentException.class, () -> d.withQueue(1, 0));
        assertThrows(IllegalArgumentException.class, () -> d.withSimTemperature(-0.1));
        assertFalse(d.withSimEnabled(false).usesSim());
    }

    @Test
    void featureLossRejectsMismatchedShapes() {
        FeatureLoss f = new FeatureLoss(DistillConfig.FeatureLossKind.MSE, DistillConfig.Positions.MASKED);
        INDArray s = TestData.randn(1, 2, 8, 4, 4);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> f.forward(s, TestData.randn(2, 2, 16, 6), TestData.randn(3, 2, 16)));
        assertTrue(e.getMessage().contains("[2, 16, 6]") || e.getMessage().contains("2, 16, 6"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> f.forward(s, TestData.randn(2, 2, 16, 8), null));
        assertThrows(IllegalStateException.class,
                () -> new FeatureLoss(DistillConfig.FeatureLossKind.MSE, DistillConfig.Positions.ALL).backward());
    }
}
