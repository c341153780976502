package io.hgkd.train.data;

import java.util.random.RandomGenerator;

/**
 * The centred {@code height x width} rectangle, as torchvision's {@code CenterCrop}: the offset is
 * {@code round((H - height) / 2)} with ties to even, and an image smaller than the crop is first padded with black
 * (the extra pixel of an odd padding goes to the right/bottom).
 *
 * @param height crop rows
 * @param width  crop columns
 */
public record CenterCrop(int height, int width) implements ImageTransform {

    /** Validates the size. */
    public CenterCrop {
        if (height < 1 || width < 1) {
            throw new IllegalArgumentException("crop size must be positive, got " + height + "x" + width);
        }
    }

    /** A square crop. */
    public static CenterCrop of(int size) {
        return new CenterCrop(size, size);
    }

    @Override
    public ByteImage apply(ByteImage image, RandomGenerator rng) {
        if (width > image.width() || height > image.height()) {
            int dw = Math.max(0, width - image.width());
            int dh = Math.max(0, height - image.height());
            image = new Pad(dh / 2, (dh + 1) / 2, dw / 2, (dw + 1) / 2).apply(image, rng);
            if (image.width() == width && image.height() == height) {
                return image;
            }
        }
        int top = (int) Math.rint((image.height() - height) / 2.0);
        int left = (int) Math.rint((image.width() - width) / 2.0);
        if (top == 0 && left == 0 && height == image.height() && width == image.width()) {
            return image;
        }
        return image.crop(top, left, height, width);
    }
}
