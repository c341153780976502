package io.hgkd.train.data;

import java.util.random.RandomGenerator;

/**
 * A crop of random area and aspect ratio, resized to {@code height x width}: torchvision's
 * {@code RandomResizedCrop} with its sampling procedure. Up to 10 times: draw the area fraction uniformly from
 * {@code scale} and the aspect ratio (width / height) log-uniformly from {@code ratio}, round the side lengths to
 * the nearest integer (ties to even, as Python's {@code round}), and accept the box if it fits, at a uniform
 * position. If no attempt fits, fall back to the largest centred box whose aspect ratio is clamped into
 * {@code ratio}. The resize is {@link Resampler}'s PIL-equivalent filter.
 *
 * @param height        output rows
 * @param width         output columns
 * @param scaleMin      smallest area fraction, in (0, 1]
 * @param scaleMax      largest area fraction, at least {@code scaleMin}
 * @param ratioMin      smallest width/height ratio, positive
 * @param ratioMax      largest width/height ratio, at least {@code ratioMin}
 * @param interpolation resampling filter
 */
public record RandomResizedCrop(int height, int width, double scaleMin, double scaleMax, double ratioMin,
        double ratioMax, Interpolation interpolation) implements ImageTransform {

    /** Attempts before the centre-crop fallback, as in torchvision. */
    public static final int ATTEMPTS = 10;

    /** Validates the ranges. */
    public RandomResizedCrop {
        if (height < 1 || width < 1) {
            throw new IllegalArgumentException("output size must be positive, got " + height + "x" + width);
        }
        if (!(scaleMin > 0 && scaleMin <= scaleMax)) {
            throw new IllegalArgumentException("scale must satisfy 0 < min <= max, got (" + scaleMin + ", "
                    + scaleMax + ")");
        }
        if (!(ratioMin > 0 && ratioMin <= ratioMax)) {
            throw new IllegalArgumentException("ratio must satisfy 0 < min <= max, got (" + ratioMin + ", "
                    + ratioMax + ")");
        }
        if (interpolation == null) {
            throw new IllegalArgumentException("interpolation must not be null");
        }
    }

    /** torchvision's defaults: scale (0.08, 1), ratio (3/4, 4/3), bilinear. */
    public static RandomResizedCrop of(int size) {
        return new RandomResizedCrop(size, size, 0.08, 1.0, 3.0 / 4.0, 4.0 / 3.0, Interpolation.BILINEAR);
    }

    /** SparK's pretraining crop: scale (0.67, 1), ratio (3/4, 4/3), bicubic. */
    public static RandomResizedCrop spark(int size) {
        return new RandomResizedCrop(size, size, 0.67, 1.0, 3.0 / 4.0, 4.0 / 3.0, Interpolation.BICUBIC);
    }

    /**
     * A crop rectangle.
     *
     * @param fallback true if no random attempt fitted and the centred fallback was used
     */
    public record Box(int top, int left, int height, int width, boolean fallback) {
    }

    /** Draws the crop rectangle for an image of {@code imageHeight x imageWidth}. */
    public Box sample(int imageHeight, int imageWidth, RandomGenerator rng) {
        double area = (double) imageHeight * imageWidth;
        double logMin = Math.log(ratioMin);
        double logMax = Math.log(ratioMax);
        for (int attempt = 0; attempt < ATTEMPTS; attempt++) {
            double target = area * uniform(rng, scaleMin, scaleMax);
            double aspect = Math.exp(uniform(rng, logMin, logMax));
            int w = (int) Math.rint(Math.sqrt(target * aspect));
            int h = (int) Math.rint(Math.sqrt(target / aspect));
            if (w > 0 && w <= imageWidth && h > 0 && h <= imageHeight) {
                int top = rng.nextInt(imageHeight - h + 1);
                int left = rng.nextInt(imageWidth - w + 1);
                return new Box(top, left, h, w, false);
            }
        }
        double inRatio = (double) imageWidth / imageHeight;
        int w;
        int h;
        if (inRatio < ratioMin) {
            w = imageWidth;
            h = (int) Math.rint(w / ratioMin);
        } else if (inRatio > ratioMax) {
            h = imageHeight;
            w = (int) Math.rint(h * ratioMax);
        } else {
            w = imageWidth;
            h = imageHeight;
        }
        return new Box((imageHeight - h) / 2, (imageWidth - w) / 2, h, w, true);
    }

    private static double uniform(RandomGenerator rng, double lo, double hi) {
        return lo == hi ? lo : rng.nextDouble(lo, hi);
    }

    @Override
    public ByteImage apply(ByteImage image, RandomGenerator rng) {
        Box b = sample(image.height(), image.width(), rng);
        return Resampler.resizeCrop(image, b.top(), b.left(), b.height(), b.width(), height, width, interpolation);
    }
}
