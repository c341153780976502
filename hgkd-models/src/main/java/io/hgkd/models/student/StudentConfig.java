package io.hgkd.models.student;

import io.hgkd.models.resnet.ResNetConfig;

/**
 * Immutable configuration of the SparK student ({@link SparkStudent}), validated when built.
 *
 * @param encoder      the sparse ResNet encoder; must have {@code numClasses == 0} (SparK builds it headless)
 * @param inputSize    square input size; a multiple of the encoder's downsample ratio (the mask grid is
 *                     {@code inputSize / downsample}, SparK's {@code fmap})
 * @param decoderWidth LightDecoder width d_0 (768 in SparK); the decoder has {@code n = log2(downsample)} UNet blocks
 *                     with widths {@code decoderWidth / 2^i}, so it must be divisible by {@code 2^n}
 * @param pixelHead    whether to build SparK's pixel head {@code dense_decoder.proj} (1x1 conv to the input channels)
 * @param teacherPatch teacher patch size P_t: kernel and stride of the feature head (ignored when teacherDim is 0)
 * @param teacherDim   teacher width D_t of the feature head; 0 = no feature head
 */
public record StudentConfig(ResNetConfig encoder, int inputSize, int decoderWidth, boolean pixelHead, int teacherPatch,
                            int teacherDim) {
    /** SparK's decoder width. */
    public static final int DEFAULT_DECODER_WIDTH = 768;

    /** Validates the combination. */
    public StudentConfig {
        if (encoder == null) {
            throw new IllegalArgumentException("StudentConfig needs an encoder config");
        }
        if (encoder.numClasses() != 0) {
            throw new IllegalArgumentException("the student's encoder must be headless (numClasses 0, as SparK builds"
                    + " it), got numClasses " + encoder.numClasses() + "; use encoder.withNumClasses(0)");
        }
        int r = encoder.downsampleRatio();
        if (inputSize < r || inputSize % r != 0) {
            throw new IllegalArgumentException("student inputSize " + inputSize + " must be a positive multiple of the"
                    + " encoder's downsample ratio " + r + " (" + encoder.stem() + " stem)");
        }
        int blocks = Integer.numberOfTrailingZeros(r);
        if (decoderWidth < (1 << blocks) || decoderWidth % (1 << blocks) != 0) {
            throw new IllegalArgumentException("decoderWidth " + decoderWidth + " must be a positive multiple of 2^"
                    + blocks + " = " + (1 << blocks) + " (the decoder halves it in each of its " + blocks
                    + " blocks)");
        }
        if (teacherDim < 0 || teacherPatch < 0) {
            throw new IllegalArgumentException("teacherDim and teacherPatch must be >= 0, got " + teacherDim + ", "
                    + teacherPatch);
        }
        if (teacherDim > 0 && (teacherPatch < 1 || inputSize % teacherPatch != 0)) {
            throw new IllegalArgumentException("the feature head needs a teacher patch that divides inputSize "
                    + inputSize + ", got teacherPatch " + teacherPatch);
        }
        if (!pixelHead && teacherDim == 0) {
            throw new IllegalArgumentException("the student needs at least one head: enable pixelHead or set"
                    + " teacherDim > 0");
        }
    }

    /** SparK's student: decoder width 768, pixel head, no feature head. */
    public static StudentConfig spark(ResNetConfig encoder, int inputSize) {
        return new StudentConfig(encoder, inputSize, DEFAULT_DECODER_WIDTH, true, 0, 0);
    }

    /** The H-GKD student: decoder width 768, no pixel head, a feature head to a teacher of width D_t, patch P_t. */
    public static StudentConfig hgkd(ResNetConfig encoder, int inputSize, int teacherPatch, int teacherDim) {
        return new StudentConfig(encoder, inputSize, DEFAULT_DECODER_WIDTH, false, teacherPatch, teacherDim);
    }

    /** A copy with {@code decoderWidth} replaced (validated). */
    public StudentConfig withDecoderWidth(int v) {
        return new StudentConfig(encoder, inputSize, v, pixelHead, teacherPatch, teacherDim);
    }

    /** A copy with {@code pixelHead} replaced (validated). */
    public StudentConfig withPixelHead(boolean v) {
        return new StudentConfig(encoder, inputSize, decoderWidth, v, teacherPatch, teacherDim);
    }

    /** A copy with the feature head for a teacher of patch {@code patch} and width {@code dim} (validated). */
    public StudentConfig withTeacher(int patch, int dim) {
        return new StudentConfig(encoder, inputSize, decoderWidth, pixelHead, patch, dim);
    }

    /** A copy with {@code inputSize} replaced (validated). */
    public StudentConfig withInputSize(int v) {
        return new StudentConfig(encoder, v, decoderWidth, pixelHead, teacherPatch, teacherDim);
    }

    /** Side of the mask grid: {@code inputSize / downsample} (SparK's {@code fmap_h}). */
    public int maskGrid() {
        return inputSize / encoder.downsampleRatio();
    }

    /** Number of UNet blocks: {@code log2(downsample)} (5 for the ImageNet stem, 3 for the small stem). */
    public int decoderBlocks() {
        return Integer.numberOfTrailingZeros(encoder.downsampleRatio());
    }

    /** Channels of the decoder output that the heads read: {@code decoderWidth / 2^blocks}. */
    public int decoderOutWidth() {
        return decoderWidth >> decoderBlocks();
    }

    /** Side of the feature head's output grid, {@code inputSize / teacherPatch} (0 without a feature head). */
    public int teacherGrid() {
        return teacherDim > 0 ? inputSize / teacherPatch : 0;
    }
}
