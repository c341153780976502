package io.hgkd.train.finetune;

import java.util.Objects;
import org.apache.commons.math3.distribution.BetaDistribution;
import org.apache.commons.math3.random.MersenneTwister;
import org.apache.commons.math3.random.RandomGenerator;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.INDArrayIndex;
import org.nd4j.linalg.indexing.NDArrayIndex;

/**
 * SparK's {@code BatchMixup} ({@code downstream_imagenet/mixup.py}, timm's {@code Mixup} in {@code 'batch'} mode):
 * every sample {@code i} of a batch of B is mixed with sample {@code B - 1 - i} of the same batch (the batch
 * "flipped"), with one lambda and one mode for the whole batch.
 *
 * <ul>
 *   <li>With probability {@link Config#prob()} the batch is mixed; then, when both alphas are positive, cutmix is
 *       chosen with probability {@link Config#switchProb()} and mixup otherwise. Lambda is drawn from
 *       Beta(alpha, alpha) of the chosen mode.</li>
 *   <li>Mixup: {@code x_i = lam x_i + (1 - lam) x_{B-1-i}}.</li>
 *   <li>Cutmix: a box from {@link CutmixBox#of} (timm's {@code rand_bbox}: side {@code int(H sqrt(1 - lam))} by
 *       {@code int(W sqrt(1 - lam))} around a uniform centre, clipped to the image) is pasted from the flipped
 *       batch, and (with {@link Config#correctLam()}) lambda becomes {@code 1 - boxArea / (H W)}.</li>
 *   <li>Targets: {@code lam * smooth(y_i) + (1 - lam) * smooth(y_{B-1-i})} with smoothed one-hot rows
 *       ({@code off = s / K}, {@code on = 1 - s + s / K}).</li>
 *   <li>An odd batch first gets its first sample prepended (SparK's fix), so the result has B + 1 rows.</li>
 * </ul>
 * Inputs are not modified. The random draws come from one seeded generator, so a sequence of calls is reproducible;
 * {@link #mixup} and {@link #cutmix} take lambda (and the box centre) explicitly for exact tests.
 */
public final class BatchMixup {

    /**
     * Mixup settings, SparK's names in brackets.
     *
     * @param mixupAlpha     Beta parameter of mixup lambda, 0 = mixup off [mixup_alpha]
     * @param cutmixAlpha    Beta parameter of cutmix lambda, 0 = cutmix off [cutmix_alpha]
     * @param prob           probability that a batch is mixed at all [prob]
     * @param switchProb     probability of cutmix when both are on [switch_prob]
     * @param labelSmoothing label smoothing s in [0, 1) [label_smoothing]
     * @param numClasses     K &gt;= 1 [num_classes]
     * @param correctLam     replace cutmix lambda by the clipped box's area fraction [correct_lam]
     */
    public record Config(double mixupAlpha, double cutmixAlpha, double prob, double switchProb, double labelSmoothing,
                         int numClasses, boolean correctLam) {
        /** Validates the values. */
        public Config {
            if (!(mixupAlpha >= 0) || !(cutmixAlpha >= 0) || Double.isInfinite(mixupAlpha)
                    || Double.isInfinite(cutmixAlpha)) {
                throw new IllegalArgumentException("mixup alphas must be finite and >= 0, got mixup " + mixupAlpha
                        + ", cutmix " + cutmixAlpha);
            }
            if (mixupAlpha == 0 && cutmixAlpha == 0) {
                throw new IllegalArgumentException("BatchMixup needs mixupAlpha > 0 or cutmixAlpha > 0 (to switch"
                        + " mixing off, do not use BatchMixup)");
            }
            if (!(prob >= 0 && prob <= 1) || !(switchProb >= 0 && switchProb <= 1)) {
                throw new IllegalArgumentException("mixup prob and switchProb must be in [0, 1], got " + prob + ", "
                        + switchProb);
            }
            if (!(labelSmoothing >= 0 && labelSmoothing < 1)) {
                throw new IllegalArgumentException("label smoothing must be in [0, 1), got " + labelSmoothing);
            }
            if (numClasses < 1) {
                throw new IllegalArgumentException("numClasses must be >= 1, got " + numClasses);
            }
        }

        /**
         * SparK's fine-tuning values for ResNets: mixup 0.1, cutmix 1.0, prob 1, switch 0.5, smoothing 0.1, lambda
         * correction on.
         */
        public static Config spark(int numClasses) {
            return new Config(0.1, 1.0, 1.0, 0.5, 0.1, numClasses, true);
        }
    }

    /**
     * A cutmix box: rows {@code [yl, yh)} and columns {@code [xl, xh)}.
     *
     * @param yl first row
     * @param yh row after the last
     * @param xl first column
     * @param xh column after the last
     */
    public record CutmixBox(int yl, int yh, int xl, int xh) {
        /** Validates the order. */
        public CutmixBox {
            if (yl < 0 || xl < 0 || yh < yl || xh < xl) {
                throw new IllegalArgumentException("invalid cutmix box rows [" + yl + ", " + yh + "), columns [" + xl
                        + ", " + xh + ")");
            }
        }

        /**
         * timm's {@code rand_bbox} (margin 0) for a given centre: {@code cut_h = int(H sqrt(1 - lam))},
         * {@code cut_w = int(W sqrt(1 - lam))}, rows {@code clip(cy -+ cut_h / 2, 0, H)} (integer halves), and the
         * same for columns.
         *
         * @param h   image height
         * @param w   image width
         * @param lam lambda in [0, 1]
         * @param cy  centre row in [0, H) (timm draws it uniformly)
         * @param cx  centre column in [0, W)
         */
        public static CutmixBox of(int h, int w, double lam, int cy, int cx) {
            if (h < 1 || w < 1 || !(lam >= 0 && lam <= 1) || cy < 0 || cy >= h || cx < 0 || cx >= w) {
                throw new IllegalArgumentException("cutmix box needs H, W >= 1, lam in [0, 1] and a centre inside the"
                        + " image, got H=" + h + ", W=" + w + ", lam=" + lam + ", centre=(" + cy + ", " + cx + ")");
            }
            double ratio = Math.sqrt(1 - lam);
            int cutH = (int) (h * ratio);
            int cutW = (int) (w * ratio);
            return new CutmixBox(clip(cy - cutH / 2, h), clip(cy + cutH / 2, h), clip(cx - cutW / 2, w),
                    clip(cx + cutW / 2, w));
        }

        private static int clip(int v, int max) {
            return Math.max(0, Math.min(max, v));
        }

        /** Number of pixels in the box. */
        public long area() {
            return (long) (yh - yl) * (xh - xl);
        }

        /** timm's corrected lambda {@code 1 - area / (H W)}. */
        public double correctedLambda(int h, int w) {
            return 1.0 - area() / (double) ((long) h * w);
        }
    }

    /**
     * One mixed batch.
     *
     * @param images  mixed images (B', C, H, W), B' = B or B + 1 for an odd B
     * @param targets soft targets (B', K) in the images' dtype
     * @param labels  the B' hard labels the targets were built from (after the odd-batch fix)
     * @param lambda  the weight of each sample's own image and label (1 = not mixed)
     * @param box     the cutmix box, or null for mixup or no mixing
     */
    public record Result(INDArray images, INDArray targets, int[] labels, double lambda, CutmixBox box) {
        /** Validates and copies the labels. */
        public Result {
            Objects.requireNonNull(images, "images");
            Objects.requireNonNull(targets, "targets");
            labels = labels.clone();
        }

        /** Whether cutmix was applied. */
        public boolean cutmix() {
            return box != null;
        }

        @Override
        public int[] labels() {
            return labels.clone();
        }
    }

    private final Config config;
    private final RandomGenerator rng;

    /**
     * @param config settings
     * @param seed   seed of the mixing decisions, lambdas and box centres
     */
    public BatchMixup(Config config, long seed) {
        this.config = Objects.requireNonNull(config, "config");
        this.rng = new MersenneTwister(seed);
    }

    /** The settings. */
    public Config config() {
        return config;
    }

    /**
     * Mixes a batch with random draws, as SparK's {@code __call__}.
     *
     * @param images (B, C, H, W)
     * @param labels B class indices in [0, K)
     */
    public Result apply(INDArray images, int[] labels) {
        check(images, labels);
        if (!(rng.nextDouble() < config.prob())) {
            return unmixed(images, labels);
        }
        boolean useCutmix;
        double alpha;
        if (config.mixupAlpha() > 0 && config.cutmixAlpha() > 0) {
            useCutmix = rng.nextDouble() < config.switchProb();
            alpha = useCutmix ? config.cutmixAlpha() : config.mixupAlpha();
        } else {
            useCutmix = config.mixupAlpha() == 0;
            alpha = useCutmix ? config.cutmixAlpha() : config.mixupAlpha();
        }
        double lam = new BetaDistribution(rng, alpha, alpha).sample();
        if (lam == 1.0) {
            return unmixed(images, labels); // SparK returns early for lambda exactly 1
        }
        if (useCutmix) {
            int h = (int) images.size(2);
            int w = (int) images.size(3);
            return cutmix(images, labels, lam, rng.nextInt(h), rng.nextInt(w));
        }
        return mixup(images, labels, lam);
    }

    /**
     * Mixup with a given lambda: {@code x_i = lam x_i + (1 - lam) x_{B-1-i}}.
     *
     * @param lam lambda in [0, 1]
     */
    public Result mixup(INDArray images, int[] labels, double lam) {
        check(images, labels);
        checkLambda(lam);
        int[] y = evenLabels(labels);
        INDArray x = evenImages(images);
        int b = y.length;
        INDArray out = x.ulike();
        for (int i = 0; i < b; i++) {
            // the same operation order as SparK: lam * x_i + ((1 - lam) * x_flip)
            out.slice(i).assign(x.slice(i).mul(lam).addi(x.slice(b - 1 - i).mul(1.0 - lam)));
        }
        return new Result(out, targets(y, config.numClasses(), lam, config.labelSmoothing(), x.dataType()), y, lam,
                null);
    }

    /**
     * Cutmix with a given lambda and box centre; the box is {@link CutmixBox#of}, and lambda is corrected to the
     * box's area when {@link Config#correctLam()}.
     *
     * @param lam lambda in [0, 1] before correction
     * @param cy  box centre row in [0, H)
     * @param cx  box centre column in [0, W)
     */
    public Result cutmix(INDArray images, int[] labels, double lam, int cy, int cx) {
        check(images, labels);
        checkLambda(lam);
        int h = (int) images.size(2);
        int w = (int) images.size(3);
        CutmixBox box = CutmixBox.of(h, w, lam, cy, cx);
        double finalLam = config.correctLam() ? box.correctedLambda(h, w) : lam;
        int[] y = evenLabels(labels);
        INDArray x = evenImages(images);
        int b = y.length;
        INDArray out = x.dup();
        if (box.area() > 0) {
            INDArrayIndex rows = NDArrayIndex.interval(box.yl(), box.yh());
            INDArrayIndex cols = NDArrayIndex.interval(box.xl(), box.xh());
            for (int i = 0; i < b; i++) {
                out.get(NDArrayIndex.point(i), NDArrayIndex.all(), rows, cols)
                        .assign(x.get(NDArrayIndex.point(b - 1 - i), NDArrayIndex.all(), rows, cols));
            }
        }
        return new Result(out, targets(y, config.numClasses(), finalLam, config.labelSmoothing(), x.dataType()), y,
                finalLam, box);
    }

    /**
     * SparK's {@code mixup_target}: {@code lam * smooth(onehot(y)) + (1 - lam) * smooth(onehot(flip(y)))} with
     * {@code off = s / K} and {@code on = 1 - s + s / K}. With {@code lam = 1} this is plain label smoothing.
     *
     * @param labels    B class indices in [0, K)
     * @param numClasses K
     * @param lam       lambda in [0, 1]
     * @param smoothing s in [0, 1)
     * @param type      floating-point type of the result
     * @return (B, K)
     */
    public static INDArray targets(int[] labels, int numClasses, double lam, double smoothing, DataType type) {
        checkLabels(labels, numClasses);
        if (!(lam >= 0 && lam <= 1) || !(smoothing >= 0 && smoothing < 1)) {
            throw new IllegalArgumentException("mixup targets need lam in [0, 1] and smoothing in [0, 1), got lam="
                    + lam + ", smoothing=" + smoothing);
        }
        double off = smoothing / numClasses;
        double on = 1.0 - smoothing + off;
        int b = labels.length;
        double[][] t = new double[b][numClasses];
        for (int i = 0; i < b; i++) {
            for (int k = 0; k < numClasses; k++) {
                double a = labels[i] == k ? on : off;
                double c = labels[b - 1 - i] == k ? on : off;
                t[i][k] = a * lam + c * (1.0 - lam);
            }
        }
        return Nd4j.createFromArray(t).castTo(type);
    }

    private Result unmixed(INDArray images, int[] labels) {
        int[] y = evenLabels(labels);
        INDArray x = evenImages(images);
        return new Result(x == images ? images.dup() : x, targets(y, config.numClasses(), 1.0,
                config.labelSmoothing(), images.dataType()), y, 1.0, null);
    }

    private void check(INDArray images, int[] labels) {
        Objects.requireNonNull(images, "images");
        Objects.requireNonNull(labels, "labels");
        if (images.rank() != 4 || !images.dataType().isFPType()) {
            throw new IllegalArgumentException("BatchMixup needs floating-point (B, C, H, W) images, got rank "
                    + images.rank() + " " + images.dataType());
        }
        if (images.size(0) != labels.length || labels.length == 0) {
            throw new IllegalArgumentException("BatchMixup got " + images.size(0) + " images and " + labels.length
                    + " labels (need the same, non-zero number)");
        }
        checkLabels(labels, config.numClasses());
    }

    private static void checkLabels(int[] labels, int numClasses) {
        for (int i = 0; i < labels.length; i++) {
            if (labels[i] < 0 || labels[i] >= numClasses) {
                throw new IllegalArgumentException("label " + labels[i] + " at position " + i + " is outside [0, "
                        + numClasses + ")");
            }
        }
    }

    private static void checkLambda(double lam) {
        if (!(lam >= 0 && lam <= 1)) {
            throw new IllegalArgumentException("mixup lambda must be in [0, 1], got " + lam);
        }
    }

    /** SparK: an odd batch gets its first sample prepended so every sample has a distinct partner. */
    private static int[] evenLabels(int[] labels) {
        if (labels.length % 2 == 0) {
            return labels.clone();
        }
        int[] y = new int[labels.length + 1];
        y[0] = labels[0];
        System.arraycopy(labels, 0, y, 1, labels.length);
        return y;
    }

    private static INDArray evenImages(INDArray x) {
        if (x.size(0) % 2 == 0) {
            return x;
        }
        return Nd4j.concat(0, x.get(NDArrayIndex.interval(0, 1)), x);
    }
}
