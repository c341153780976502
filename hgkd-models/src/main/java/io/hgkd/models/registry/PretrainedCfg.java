package io.hgkd.models.registry;

import java.util.Arrays;

/**
 * Data defaults of a model, as timm's {@code pretrained_cfg}: input size (C, H, W), normalisation, resize interpolation
 * and evaluation crop fraction. The training jobs read mean/std from here unless a config overrides them.
 */
public record PretrainedCfg(int[] inputSize, double[] mean, double[] std, String interpolation, double cropPct) {
    /** ImageNet mean, the constants MAE, SparK and timm use. */
    public static final double[] IMAGENET_MEAN = {0.485, 0.456, 0.406};
    /** ImageNet std. */
    public static final double[] IMAGENET_STD = {0.229, 0.224, 0.225};

    public PretrainedCfg {
        if (inputSize.length != 3 || Arrays.stream(inputSize).anyMatch(v -> v <= 0)) {
            throw new IllegalArgumentException("inputSize must be (C, H, W) with positive sizes, got "
                    + Arrays.toString(inputSize));
        }
        if (mean.length != inputSize[0] || std.length != inputSize[0]) {
            throw new IllegalArgumentException("mean/std need one value per input channel (" + inputSize[0] + "), got "
                    + mean.length + "/" + std.length);
        }
        if (!(cropPct > 0 && cropPct <= 1)) {
            throw new IllegalArgumentException("cropPct must be in (0, 1], got " + cropPct);
        }
        inputSize = inputSize.clone();
        mean = mean.clone();
        std = std.clone();
    }

    /**
     * ImageNet normalisation for {@code channels} input channels: the RGB constants for 3, their mean for other counts
     * (a grayscale or multi-band input; documented so nobody is surprised).
     */
    static PretrainedCfg imagenet(int channels, int size, String interpolation, double cropPct) {
        double[] mean = new double[channels];
        double[] std = new double[channels];
        for (int c = 0; c < channels; c++) {
            mean[c] = channels == 3 ? IMAGENET_MEAN[c] : Arrays.stream(IMAGENET_MEAN).average().orElseThrow();
            std[c] = channels == 3 ? IMAGENET_STD[c] : Arrays.stream(IMAGENET_STD).average().orElseThrow();
        }
        return new PretrainedCfg(new int[] {channels, size, size}, mean, std, interpolation, cropPct);
    }

    @Override
    public int[] inputSize() {
        return inputSize.clone();
    }

    @Override
    public double[] mean() {
        return mean.clone();
    }

    @Override
    public double[] std() {
        return std.clone();
    }

    @Override
    public String toString() {
        return "PretrainedCfg[inputSize=" + Arrays.toString(inputSize) + ", mean=" + Arrays.toString(mean) + ", std="
                + Arrays.toString(std) + ", interpolation=" + interpolation + ", cropPct=" + cropPct + "]";
    }
}
