package io.hgkd.train.finetune;

import io.hgkd.core.optim.ParamGroups;
import io.hgkd.models.resnet.ResNetConfig;
import java.util.Objects;
import java.util.function.ToIntFunction;

/**
 * Maps a ResNet parameter name (timm/torchvision names: {@code conv1.weight}, {@code bn1.bias},
 * {@code layer3.4.conv2.weight}, {@code fc.weight}) to its layer id for layer-wise learning-rate decay, where
 * parameter {@code n} gets {@code lr_scale^(N + 1 - id(n))} ({@link ParamGroups.LayerDecay}).
 *
 * <p>Two rules:
 * <ul>
 *   <li>{@link Rule#SPARK}: SparK's {@code resnets_get_layer_id_and_scale_exp}
 *       ({@code downstream_imagenet/models/__init__.py}). Stages 2 and 3 are cut into chunks of {@code blk2} and
 *       {@code blk3} blocks, chosen by the stage-2/stage-3 block counts: (4, 6) R50 and (4, 23) R101 use (2, 3);
 *       (8, 36) R152 and (24, 36) R200 use (4, 4); (30, 48) uses (5, 6). With {@code N2 = ceil(L2 / blk2)} and
 *       {@code N3 = ceil(L3 / blk3)}, {@code N = 2 + N2 + N3}; ids are: stem (everything not in a stage or fc) 0,
 *       layer1 1, layer2 block b {@code 2 + b / blk2}, layer3 block b {@code 2 + N2 + b / blk3}, layer4 N, fc
 *       N + 1. R50: N = 6 (layer2 -> 2,2,3,3; layer3 -> 4,4,4,5,5,5), R101: N = 12, R152: N = 13. Any other
 *       layout is rejected, as SparK raises NotImplementedError.</li>
 *   <li>{@link Rule#STAGES}: hgkd's own choice for ResNet-18/34 (method.md §5 q14): stem 0, layer{@code s} s, fc 5,
 *       N = 4. SparK has no entry for R18's (2, 2) layout. Note that R34's (4, 6) layout equals R50's, so SparK's
 *       code would give R34 the R50 map; {@link #spark(ResNetConfig)} reproduces that when wanted, while
 *       {@link #forConfig(ResNetConfig)} uses STAGES for every BasicBlock net so R18 and R34 are treated alike.</li>
 * </ul>
 *
 * @param rule      which rule
 * @param blk2      stage-2 chunk size (1 under STAGES)
 * @param blk3      stage-3 chunk size (1 under STAGES)
 * @param n2        number of stage-2 chunks (1 under STAGES)
 * @param n3        number of stage-3 chunks (1 under STAGES)
 */
public record ResNetLayerIds(Rule rule, int blk2, int blk3, int n2, int n3) implements ToIntFunction<String> {

    /** The two layer-id rules; see the class comment. */
    public enum Rule {
        /** SparK's chunked map for Bottleneck nets (R50/101/152/200). */
        SPARK,
        /** One id per stage (stem 0, stages 1..4, fc 5): hgkd's choice for R18/R34. */
        STAGES
    }

    /** Validates the chunking. */
    public ResNetLayerIds {
        Objects.requireNonNull(rule, "rule");
        if (blk2 < 1 || blk3 < 1 || n2 < 1 || n3 < 1) {
            throw new IllegalArgumentException("ResNetLayerIds chunk sizes and counts must be >= 1, got blk2=" + blk2
                    + ", blk3=" + blk3 + ", n2=" + n2 + ", n3=" + n3);
        }
        if (rule == Rule.STAGES && (blk2 != 1 || blk3 != 1 || n2 != 1 || n3 != 1)) {
            throw new IllegalArgumentException("the STAGES rule has one chunk per stage; use ResNetLayerIds.stages()");
        }
    }

    /** hgkd's per-stage rule (N = 4), independent of block counts. */
    public static ResNetLayerIds stages() {
        return new ResNetLayerIds(Rule.STAGES, 1, 1, 1, 1);
    }

    /**
     * SparK's rule for the stage layout of {@code config}.
     *
     * @throws IllegalArgumentException for layouts SparK has no entry for (e.g. R18's (2, 2, 2, 2))
     */
    public static ResNetLayerIds spark(ResNetConfig config) {
        int[] l = config.layers();
        int l2 = l[1];
        int l3 = l[2];
        int blk2;
        int blk3;
        if (l2 == 4 && (l3 == 6 || l3 == 23)) {
            blk2 = 2;
            blk3 = 3;
        } else if ((l2 == 8 || l2 == 24) && l3 == 36) {
            blk2 = 4;
            blk3 = 4;
        } else if (l2 == 30 && l3 == 48) {
            blk2 = 5;
            blk3 = 6;
        } else {
            throw new IllegalArgumentException("SparK defines no layer ids for a ResNet with " + l2 + " stage-2 and "
                    + l3 + " stage-3 blocks (it knows (4,6), (4,23), (8,36), (24,36), (30,48)); use"
                    + " ResNetLayerIds.stages()");
        }
        // SparK: ceil(L / blk - 1e-5), i.e. an exact integer ceiling
        return new ResNetLayerIds(Rule.SPARK, blk2, blk3, ceilDiv(l2, blk2), ceilDiv(l3, blk3));
    }

    /** The default for {@code config}: {@link Rule#STAGES} for BasicBlock nets (R18/34), SparK's otherwise. */
    public static ResNetLayerIds forConfig(ResNetConfig config) {
        return config.block() == ResNetConfig.Block.BASIC ? stages() : spark(config);
    }

    /** Number of layers N (ids run from 0 to N + 1): 6 for R50, 12 for R101, 13 for R152, 4 under STAGES. */
    public int numLayers() {
        return rule == Rule.STAGES ? 4 : 2 + n2 + n3;
    }

    /** {@link #numLayers()} of {@link #forConfig(ResNetConfig)}. */
    public static int numLayers(ResNetConfig config) {
        return forConfig(config).numLayers();
    }

    /**
     * The layer id of a parameter name.
     *
     * @throws IllegalArgumentException when a {@code layer<s>.<b>.} name has an unparsable stage or block
     */
    public int layerId(String name) {
        Objects.requireNonNull(name, "name");
        int n = numLayers();
        if (name.startsWith("fc.")) {
            return n + 1;
        }
        if (!name.startsWith("layer")) {
            return 0; // stem: conv1, bn1 (SparK sends every non-stage, non-fc name here)
        }
        String[] parts = name.split("\\.");
        int stage;
        int block;
        try {
            stage = Integer.parseInt(parts[0].substring(5));
            block = parts.length > 1 ? Integer.parseInt(parts[1]) : -1;
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("cannot read stage and block from ResNet parameter name '" + name
                    + "' (expected layer<s>.<b>.…)", e);
        }
        if (stage < 1 || stage > 4 || block < 0) {
            throw new IllegalArgumentException("ResNet parameter name '" + name
                    + "' does not name a block of layer1..layer4");
        }
        if (rule == Rule.STAGES) {
            return stage;
        }
        return switch (stage) {
            case 1 -> 1;
            case 2 -> 2 + block / blk2;
            case 3 -> 2 + n2 + block / blk3;
            default -> n;
        };
    }

    @Override
    public int applyAsInt(String name) {
        return layerId(name);
    }

    /** The {@link ParamGroups.LayerDecay} with this map: {@code lr_scale^(N + 1 - id)}. */
    public ParamGroups.LayerDecay layerDecay(double lrScale) {
        return new ParamGroups.LayerDecay(lrScale, numLayers(), this);
    }

    private static int ceilDiv(int a, int b) {
        return (a + b - 1) / b;
    }
}
