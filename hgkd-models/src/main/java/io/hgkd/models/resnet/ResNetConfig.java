package io.hgkd.models.resnet;

import java.util.Arrays;

/**
 * Immutable configuration of a timm/torchvision ResNet, validated when built.
 *
 * @param block        residual block type: {@link Block#BASIC} (ResNet-18/34) or {@link Block#BOTTLENECK} (50/101/152)
 * @param layers       number of blocks in each of the four stages ({@code layer1..layer4})
 * @param inChans      input channels (3 for RGB, 1 for grey images)
 * @param numClasses   classifier outputs; 0 builds no {@code fc} and {@link ResNet#forward} returns pooled features
 * @param stem         {@link Stem#IMAGENET} (7x7 s2 conv + 3x3 s2 max pool, downsample 32) or {@link Stem#SMALL}
 *                     (3x3 s1 conv, no pool, downsample 8) for small images
 * @param baseWidth    channels of the stem and of the first stage's 3x3 convs (64 in timm; 32 = "half width")
 * @param dropPathRate stochastic-depth rate of the last block; block k of n gets {@code rate * k / (n - 1)} (timm)
 * @param zeroInitLast whether the last BN of every residual branch starts with weight 0 (timm's default)
 * @param seed         seed of the weight initialisation and of drop-path sampling
 */
public record ResNetConfig(Block block, int[] layers, int inChans, int numClasses, Stem stem, int baseWidth,
                           double dropPathRate, boolean zeroInitLast, long seed) {

    /** Residual block type. */
    public enum Block {
        /** Two 3x3 convs, expansion 1 (ResNet-18/34). */
        BASIC(1),
        /** 1x1, 3x3 (with the stride), 1x1 convs, expansion 4 (ResNet-50/101/152). */
        BOTTLENECK(4);

        private final int expansion;

        Block(int expansion) {
            this.expansion = expansion;
        }

        /** Output channels of a block relative to its planes. */
        public int expansion() {
            return expansion;
        }
    }

    /** Stem type. */
    public enum Stem {
        /** conv1 7x7 stride 2 pad 3, bn1, ReLU, max pool 3x3 stride 2 pad 1: total downsample 32. */
        IMAGENET(32),
        /** conv1 3x3 stride 1 pad 1, bn1, ReLU, no pool: total downsample 8 (CIFAR/Fashion-MNIST-sized inputs). */
        SMALL(8);

        private final int downsample;

        Stem(int downsample) {
            this.downsample = downsample;
        }

        /** Ratio between the input size and the last stage's feature map size. */
        public int downsample() {
            return downsample;
        }
    }

    /** Validates and defensively copies {@code layers}. */
    public ResNetConfig {
        if (block == null || stem == null) {
            throw new IllegalArgumentException("ResNetConfig needs a block and a stem, got block=" + block + ", stem="
                    + stem);
        }
        if (layers == null || layers.length != 4 || Arrays.stream(layers).anyMatch(n -> n < 1)) {
            throw new IllegalArgumentException("ResNetConfig layers must be four positive block counts, got "
                    + Arrays.toString(layers));
        }
        if (inChans < 1) {
            throw new IllegalArgumentException("ResNetConfig inChans must be >= 1, got " + inChans);
        }
        if (numClasses < 0) {
            throw new IllegalArgumentException("ResNetConfig numClasses must be >= 0 (0 = no fc), got " + numClasses);
        }
        if (baseWidth < 1) {
            throw new IllegalArgumentException("ResNetConfig baseWidth must be >= 1, got " + baseWidth);
        }
        if (!(dropPathRate >= 0 && dropPathRate < 1)) {
            throw new IllegalArgumentException("ResNetConfig dropPathRate must be in [0, 1), got " + dropPathRate);
        }
        layers = layers.clone();
    }

    private static ResNetConfig named(Block block, int... layers) {
        return new ResNetConfig(block, layers, 3, 1000, Stem.IMAGENET, 64, 0.0, true, 0L);
    }

    /** timm/torchvision {@code resnet18}: BasicBlock, layers (2, 2, 2, 2). */
    public static ResNetConfig resnet18() {
        return named(Block.BASIC, 2, 2, 2, 2);
    }

    /** timm/torchvision {@code resnet34}: BasicBlock, layers (3, 4, 6, 3). */
    public static ResNetConfig resnet34() {
        return named(Block.BASIC, 3, 4, 6, 3);
    }

    /** timm/torchvision {@code resnet50}: Bottleneck, layers (3, 4, 6, 3). */
    public static ResNetConfig resnet50() {
        return named(Block.BOTTLENECK, 3, 4, 6, 3);
    }

    /** timm/torchvision {@code resnet101}: Bottleneck, layers (3, 4, 23, 3). */
    public static ResNetConfig resnet101() {
        return named(Block.BOTTLENECK, 3, 4, 23, 3);
    }

    /** timm/torchvision {@code resnet152}: Bottleneck, layers (3, 8, 36, 3). */
    public static ResNetConfig resnet152() {
        return named(Block.BOTTLENECK, 3, 8, 36, 3);
    }

    /**
     * A named variant: {@code resnet18}, {@code resnet34}, {@code resnet50}, {@code resnet101} or {@code resnet152}.
     */
    public static ResNetConfig byName(String name) {
        return switch (name) {
            case "resnet18" -> resnet18();
            case "resnet34" -> resnet34();
            case "resnet50" -> resnet50();
            case "resnet101" -> resnet101();
            case "resnet152" -> resnet152();
            default -> throw new IllegalArgumentException("unknown ResNet variant '" + name
                    + "'; known: resnet18, resnet34, resnet50, resnet101, resnet152");
        };
    }

    /** The four stage layouts (a copy). */
    @Override
    public int[] layers() {
        return layers.clone();
    }

    /** Total number of residual blocks. */
    public int depthBlocks() {
        return Arrays.stream(layers).sum();
    }

    /** Ratio between the input size and the last feature map (32 or 8). */
    public int downsampleRatio() {
        return stem.downsample();
    }

    /** Output channels of the four stages: {@code baseWidth * 2^i * expansion}. */
    public int[] featureChannels() {
        int[] c = new int[4];
        for (int i = 0; i < 4; i++) {
            c[i] = baseWidth * (1 << i) * block.expansion();
        }
        return c;
    }

    /** A copy with {@code inChans} replaced (validated). */
    public ResNetConfig withInChans(int v) {
        return new ResNetConfig(block, layers, v, numClasses, stem, baseWidth, dropPathRate, zeroInitLast, seed);
    }

    /** A copy with {@code numClasses} replaced (validated). */
    public ResNetConfig withNumClasses(int v) {
        return new ResNetConfig(block, layers, inChans, v, stem, baseWidth, dropPathRate, zeroInitLast, seed);
    }

    /** A copy with {@code stem} replaced (validated). */
    public ResNetConfig withStem(Stem v) {
        return new ResNetConfig(block, layers, inChans, numClasses, v, baseWidth, dropPathRate, zeroInitLast, seed);
    }

    /** A copy with {@code baseWidth} replaced (validated). */
    public ResNetConfig withBaseWidth(int v) {
        return new ResNetConfig(block, layers, inChans, numClasses, stem, v, dropPathRate, zeroInitLast, seed);
    }

    /** A copy with {@code dropPathRate} replaced (validated). */
    public ResNetConfig withDropPathRate(double v) {
        return new ResNetConfig(block, layers, inChans, numClasses, stem, baseWidth, v, zeroInitLast, seed);
    }

    /** A copy with {@code zeroInitLast} replaced (validated). */
    public ResNetConfig withZeroInitLast(boolean v) {
        return new ResNetConfig(block, layers, inChans, numClasses, stem, baseWidth, dropPathRate, v, seed);
    }

    /** A copy with {@code seed} replaced (validated). */
    public ResNetConfig withSeed(long v) {
        return new ResNetConfig(block, layers, inChans, numClasses, stem, baseWidth, dropPathRate, zeroInitLast, v);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof ResNetConfig c && block == c.block && Arrays.equals(layers, c.layers)
                && inChans == c.inChans && numClasses == c.numClasses && stem == c.stem && baseWidth == c.baseWidth
                && Double.compare(dropPathRate, c.dropPathRate) == 0 && zeroInitLast == c.zeroInitLast
                && seed == c.seed;
    }

    @Override
    public int hashCode() {
        return Arrays.hashCode(layers) * 31 + java.util.Objects.hash(block, inChans, numClasses, stem, baseWidth,
                dropPathRate, zeroInitLast, seed);
    }

    @Override
    public String toString() {
        return "ResNetConfig[block=" + block + ", layers=" + Arrays.toString(layers) + ", inChans=" + inChans
                + ", numClasses=" + numClasses + ", stem=" + stem + ", baseWidth=" + baseWidth + ", dropPathRate="
                + dropPathRate + ", zeroInitLast=" + zeroInitLast + ", seed=" + seed + "]";
    }
}
