package io.hgkd.models.checkpoint;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.hgkd.core.nn.LoadReport;
import io.hgkd.core.nn.Module;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;

/** Load reports and strict mode on a tiny hand-built module; the key-transform hook; pos_embed resampling. */
class LoadPlanTest {
    /** {@code weight} [2, 3], {@code bias} [2], {@code norm.weight} [2]. */
    static final class Tiny extends Module {
        final Norm norm;

        Tiny() {
            registerParameter("weight", Nd4j.zeros(DataType.FLOAT, 2, 3), false);
            registerParameter("bias", Nd4j.zeros(DataType.FLOAT, 2), true);
            norm = registerModule("norm", new Norm());
        }

        @Override
        public INDArray forward(INDArray x) {
            return x.mmul(param("weight").data().transpose()).addiRowVector(param("bias").data());
        }

        @Override
        public INDArray backward(INDArray g) {
            return g.mmul(param("weight").data());
        }
    }

    /** A child with one parameter. */
    static final class Norm extends Module {
        Norm() {
            registerParameter("weight", Nd4j.ones(DataType.FLOAT, 2), true);
        }

        @Override
        public INDArray forward(INDArray x) {
            return x.mulRowVector(param("weight").data());
        }

        @Override
        public INDArray backward(INDArray g) {
            return g.mulRowVector(param("weight").data());
        }
    }

    private static Map<String, INDArray> good() {
        Map<String, INDArray> sd = new LinkedHashMap<>();
        sd.put("weight", Nd4j.createFromArray(new float[][] {{1, 2, 3}, {4, 5, 6}}));
        sd.put("bias", Nd4j.createFromArray(0.5f, -0.5f));
        sd.put("norm.weight", Nd4j.createFromArray(2f, 3f));
        return sd;
    }

    @Test
    void aMatchingStateDictLoadsAndIsClean() {
        Tiny m = new Tiny();
        Map<String, INDArray> sd = StateDicts.addPrefix(good(), "module.");
        sd.put("module.bias", sd.get("module.bias").castTo(DataType.FLOAT16));
        LoadReport r = LoadPlan.standard().loadInto(m, sd, true);
        assertTrue(r.isClean(), r.toString());
        assertEquals(good().get("weight"), m.stateDict().get("weight"));
        assertEquals(-0.5f, m.stateDict().get("bias").getFloat(1));
        assertEquals(3f, m.stateDict().get("norm.weight").getFloat(1));
    }

    private static Map<String, INDArray> bad() {
        Map<String, INDArray> sd = good();
        sd.remove("bias"); // missing
        sd.put("weight", Nd4j.ones(DataType.FLOAT, 3, 2)); // wrong shape
        sd.put("head.weight", Nd4j.ones(DataType.FLOAT, 1)); // unexpected
        return sd;
    }

    @Test
    void strictModeNamesMissingUnexpectedAndWrongShapeKeysAndLoadsNothing() {
        Tiny m = new Tiny();
        CheckpointMismatchException e = assertThrows(CheckpointMismatchException.class,
                () -> LoadPlan.standard().loadInto(m, bad(), true));
        String msg = e.getMessage();
        assertTrue(msg.startsWith("state dict does not match Tiny (strict load; nothing was loaded):"), msg);
        assertTrue(msg.contains("1 missing: bias"), msg);
        assertTrue(msg.contains("1 unexpected: head.weight"), msg);
        assertTrue(msg.contains("1 wrong shape: weight: expected [2, 3], got [3, 2]"), msg);
        assertEquals(List.of("bias"), e.report().missing());
        assertEquals(List.of("head.weight"), e.report().unexpected());
        assertEquals(List.of("weight: expected [2, 3], got [3, 2]"), e.report().wrongShape());
        assertEquals(1f, m.stateDict().get("norm.weight").getFloat(0), "strict failure copies nothing");
    }

    @Test
    void nonStrictModeLoadsWhatMatchesAndReportsTheRest() {
        Tiny m = new Tiny();
        LoadReport r = LoadPlan.standard().loadInto(m, bad(), false);
        assertEquals(List.of("bias"), r.missing());
        assertEquals(List.of("head.weight"), r.unexpected());
        assertEquals(List.of("weight: expected [2, 3], got [3, 2]"), r.wrongShape());
        assertEquals(2f, m.stateDict().get("norm.weight").getFloat(0), "the matching key was loaded");
        assertEquals(0f, m.stateDict().get("weight").getFloat(0), "the wrong-shape key was not");
        assertEquals(1, LoadReports.matched(r, 3));
        assertEquals("1 missing: bias\n1 unexpected: head.weight\n1 wrong shape: weight: expected [2, 3], got [3, 2]",
                LoadReports.format(r, 20));
    }

    @Test
    void ignoredPrefixesAndMaeDecoderAreDroppedBeforeComparing() {
        Map<String, INDArray> sd = good();
        sd.put("head.weight", Nd4j.ones(1));
        sd.put("head", Nd4j.ones(1));
        sd.put("header.x", Nd4j.ones(1));
        sd.put("decoder_embed.weight", Nd4j.ones(1));
        sd.put("mask_token", Nd4j.ones(1));
        LoadPlan.Prepared p = LoadPlan.vitEncoder().withIgnored("head").prepare(sd);
        assertEquals(List.of("weight", "bias", "norm.weight", "header.x"), new ArrayList<>(p.state().keySet()));
        assertEquals(List.of("head.weight", "head", "decoder_embed.weight", "mask_token"), p.dropped());
    }

    @Test
    void selectionFindsTheSparkEncoderBehindModuleNextToOptimizerState() {
        Map<String, INDArray> sd = new LinkedHashMap<>();
        good().forEach((k, v) -> sd.put("module.sparse_encoder.sp_cnn." + k, v));
        sd.put("module.dense_decoder.proj.bias", Nd4j.ones(3));
        sd.put("optimizer.state.0.exp_avg", Nd4j.ones(3));
        LoadPlan.Prepared p = LoadPlan.sparkEncoder().prepare(sd);
        assertEquals("module.sparse_encoder.sp_cnn.", p.removedPrefix());
        assertEquals(List.of("weight", "bias", "norm.weight"), new ArrayList<>(p.state().keySet()));
        assertEquals(List.of("module.dense_decoder.proj.bias", "optimizer.state.0.exp_avg"), p.dropped());
        assertTrue(LoadPlan.sparkEncoder().loadInto(new Tiny(), sd, true).isClean());

        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> LoadPlan.sparkEncoder().prepare(good()));
        assertTrue(e.getMessage().startsWith("no key is under 'sparse_encoder.sp_cnn.'"), e.getMessage());
        assertTrue(e.getMessage().contains("top-level prefixes: weight (1), bias (1), norm (1)"), e.getMessage());
    }

    @Test
    void exactPlanKeepsKeysAndDtypes() {
        Map<String, INDArray> sd = StateDicts.addPrefix(good(), "model.");
        sd.put("model.bias", sd.get("model.bias").castTo(DataType.FLOAT16));
        LoadPlan.Prepared p = LoadPlan.exact().prepare(sd);
        assertEquals(sd.keySet(), p.state().keySet());
        assertEquals(DataType.FLOAT16, p.state().get("model.bias").dataType());
        assertEquals(DataType.FLOAT, LoadPlan.standard().prepare(sd).state().get("bias").dataType());
    }

    @Test
    void transformsSeeEveryCommonKeyWithTheTargetShapeAndMayReplaceIt() {
        List<String> seen = new ArrayList<>();
        KeyTransform reshape = (key, src, target) -> {
            seen.add(key + " " + java.util.Arrays.toString(target));
            return key.equals("weight") && src.length() == 6 ? src.reshape('c', target) : src;
        };
        Map<String, INDArray> sd = good();
        sd.put("weight", Nd4j.createFromArray(1f, 2f, 3f, 4f, 5f, 6f)); // flattened, like an old patch-embed weight
        sd.put("extra", Nd4j.ones(1));
        Tiny m = new Tiny();
        LoadReport r = LoadPlan.standard().withIgnored("extra").withTransform(reshape).loadInto(m, sd, true);
        assertTrue(r.isClean(), r.toString());
        assertEquals(List.of("weight [2, 3]", "bias [2]", "norm.weight [2]"), seen);
        assertEquals(6f, m.stateDict().get("weight").getFloat(1, 2));

        LoadPlan.Prepared p = LoadPlan.standard().withTransform(reshape)
                .prepare(sd, StateDicts.shapes(new Tiny().stateDict()));
        assertEquals(List.of("weight: [6] -> [2, 3]"), p.transformed());
        assertSame(sd.get("bias"), p.state().get("bias"));
    }

    /** Nearest-neighbour upsampling of a [1, D, g, g] grid by an integer factor: easy to check by hand. */
    /** Table-level nearest resampling: prefix rows copied, grid token (r, c) from old (r * oh / nh, c * ow / nw). */
    private static INDArray nearest(INDArray table, int prefix, int[] oldGrid, int[] newGrid) {
        long d = table.size(2);
        INDArray out = Nd4j.create(DataType.FLOAT, 1, prefix + (long) newGrid[0] * newGrid[1], d);
        for (int c = 0; c < d; c++) {
            for (int p = 0; p < prefix; p++) {
                out.putScalar(new long[] {0, p, c}, table.getFloat(0, p, c));
            }
            for (int y = 0; y < newGrid[0]; y++) {
                for (int x = 0; x < newGrid[1]; x++) {
                    int src = (y * oldGrid[0] / newGrid[0]) * oldGrid[1] + x * oldGrid[1] / newGrid[1];
                    out.putScalar(new long[] {0, prefix + (long) y * newGrid[1] + x, c}, table.getFloat(0, prefix + src, c));
                }
            }
        }
        return out;
    }

    @Test
    void posEmbedResampleKeepsClsAndMapsTheRowMajorGrid() {
        int d = 3;
        // Token n (after cls) has values 100 * n + channel; cls has -1 - channel.
        INDArray src = Nd4j.create(DataType.FLOAT, 1, 5, d);
        for (int c = 0; c < d; c++) {
            src.putScalar(new long[] {0, 0, c}, -1 - c);
            for (int n = 0; n < 4; n++) {
                src.putScalar(new long[] {0, 1 + n, c}, 100 * n + c);
            }
        }
        PosEmbedResample t = new PosEmbedResample(LoadPlanTest::nearest);
        INDArray out = t.apply("pos_embed", src, new long[] {1, 17, d});
        assertArrayEquals(new long[] {1, 17, d}, out.shape());
        for (int c = 0; c < d; c++) {
            assertEquals(-1 - c, out.getFloat(0, 0, c), "cls token kept");
            for (int r = 0; r < 4; r++) {
                for (int col = 0; col < 4; col++) {
                    int old = (r / 2) * 2 + col / 2; // source token at row r/2, column col/2
                    assertEquals(100 * old + c, out.getFloat(0, 1 + r * 4 + col, c), "token " + r + "," + col);
                }
            }
        }
        // Not applicable: same shape, other keys, other widths.
        assertSame(src, t.apply("pos_embed", src, new long[] {1, 5, d}));
        assertSame(src, t.apply("decoder_pos_embed", src, new long[] {1, 17, d}));
        assertSame(src, t.apply("pos_embed", src, new long[] {1, 17, d + 1}));
        assertArrayEquals(new long[] {1, 17, d}, t.apply("encoder.pos_embed", src, new long[] {1, 17, d}).shape());

        PosEmbedResample noCls = new PosEmbedResample(LoadPlanTest::nearest, 0);
        INDArray grid = src.get(NDArrayIndex.all(), NDArrayIndex.interval(1, 5), NDArrayIndex.all()).dup();
        INDArray noClsOut = noCls.apply("pos_embed", grid, new long[] {1, 16, d});
        assertArrayEquals(new long[] {1, 16, d}, noClsOut.shape());
        assertEquals(100 * 3 + 1, noClsOut.getFloat(0, 15, 1), "no prefix: the last token comes from the last cell");
    }

    @Test
    void posEmbedResampleRejectsNonSquareGridsAndBadResizeResults() {
        INDArray src = Nd4j.zeros(DataType.FLOAT, 1, 5, 2);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> new PosEmbedResample(LoadPlanTest::nearest).apply("pos_embed", src, new long[] {1, 13, 2}));
        assertTrue(e.getMessage().contains("pos_embed: cannot resample"), e.getMessage());
        assertTrue(e.getMessage().contains("module shape [1, 13, 2] has 13 tokens"), e.getMessage());
        IllegalArgumentException e2 = assertThrows(IllegalArgumentException.class,
                () -> new PosEmbedResample((t, p, o, n) -> t).apply("pos_embed", src, new long[] {1, 10, 2}));
        assertTrue(e2.getMessage().contains("the resampler returned [1, 5, 2]"), e2.getMessage());
    }

    @Test
    void posEmbedResamplePlugsIntoALoadPlan() {
        Map<String, long[]> target = new LinkedHashMap<>();
        target.put("cls_token", new long[] {1, 1, 4});
        target.put("pos_embed", new long[] {1, 17, 4});
        ShapeModule vit = ShapeModule.of(target);
        Map<String, INDArray> sd = new LinkedHashMap<>();
        sd.put("model.cls_token", Nd4j.ones(DataType.FLOAT, 1, 1, 4));
        sd.put("model.pos_embed", Nd4j.ones(DataType.FLOAT16, 1, 5, 4));
        sd.put("model.decoder_pos_embed", Nd4j.ones(DataType.FLOAT, 1, 5, 2));
        LoadPlan plan = LoadPlan.vitEncoder().withTransform(new PosEmbedResample(LoadPlanTest::nearest));
        assertTrue(plan.loadInto(vit, sd, true).isClean());
        assertEquals(17 * 4, vit.stateDict().get("pos_embed").sumNumber().intValue());

        CheckpointMismatchException e = assertThrows(CheckpointMismatchException.class,
                () -> LoadPlan.vitEncoder().loadInto(ShapeModule.of(target), sd, true));
        assertTrue(e.getMessage().contains("(removed prefix 'model.'; dropped 1 keys: model.decoder_pos_embed)"),
                e.getMessage());
        assertTrue(e.getMessage().contains("1 wrong shape: pos_embed: expected [1, 17, 4], got [1, 5, 4]"),
                e.getMessage());
    }
}
