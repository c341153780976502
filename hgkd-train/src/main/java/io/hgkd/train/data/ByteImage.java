package io.hgkd.train.data;

import java.util.Objects;

/**
 * An 8-bit image with 1 (grayscale) or 3 (RGB) channels, stored row-major and interleaved ({@code HWC}), the layout
 * PIL and ImageIO use. This compact form (one byte per sample) lives between decoding and the final conversion to a
 * normalised float tensor, so geometric transforms run on a quarter of the memory and round like PIL does.
 *
 * <p>The pixel array is shared, not copied: transforms never modify their input and always return a new image.
 *
 * @param channels 1 or 3
 * @param height   rows, at least 1
 * @param width    columns, at least 1
 * @param pixels   {@code height * width * channels} unsigned samples
 */
public record ByteImage(int channels, int height, int width, byte[] pixels) {

    /** Validates the shape against the array length. */
    public ByteImage {
        if (channels != 1 && channels != 3) {
            throw new IllegalArgumentException("channels must be 1 or 3, got " + channels);
        }
        if (height < 1 || width < 1) {
            throw new IllegalArgumentException("image size must be positive, got " + height + "x" + width);
        }
        Objects.requireNonNull(pixels, "pixels");
        if ((long) height * width * channels != pixels.length) {
            throw new IllegalArgumentException("pixels has " + pixels.length + " bytes, expected " + height + "x"
                    + width + "x" + channels);
        }
    }

    /** A black image. */
    public static ByteImage zeros(int channels, int height, int width) {
        return new ByteImage(channels, height, width, new byte[Math.multiplyExact(Math.multiplyExact(height, width),
                channels)]);
    }

    /** The sample at row {@code y}, column {@code x}, channel {@code c}, in 0..255. */
    public int get(int y, int x, int c) {
        return pixels[(y * width + x) * channels + c] & 0xFF;
    }

    /** The rectangle of {@code h} rows and {@code w} columns starting at ({@code top}, {@code left}), copied. */
    public ByteImage crop(int top, int left, int h, int w) {
        if (top < 0 || left < 0 || h < 1 || w < 1 || top + h > height || left + w > width) {
            throw new IllegalArgumentException("crop (top " + top + ", left " + left + ", " + h + "x" + w
                    + ") is outside the " + height + "x" + width + " image");
        }
        byte[] out = new byte[h * w * channels];
        int rowBytes = w * channels;
        for (int y = 0; y < h; y++) {
            System.arraycopy(pixels, ((top + y) * width + left) * channels, out, y * rowBytes, rowBytes);
        }
        return new ByteImage(channels, h, w, out);
    }

    /** The image mirrored left to right. */
    public ByteImage flipHorizontal() {
        byte[] out = new byte[pixels.length];
        for (int y = 0; y < height; y++) {
            int row = y * width * channels;
            for (int x = 0; x < width; x++) {
                System.arraycopy(pixels, row + x * channels, out, row + (width - 1 - x) * channels, channels);
            }
        }
        return new ByteImage(channels, height, width, out);
    }

    /**
     * This image with {@code target} channels: gray is replicated to RGB, and RGB becomes luminance with PIL's
     * {@code convert("L")} weights (ITU-R 601-2, {@code (19595 R + 38470 G + 7471 B + 32768) >> 16}).
     */
    public ByteImage toChannels(int target) {
        if (target == channels) {
            return this;
        }
        int n = height * width;
        if (target == 3) {
            byte[] out = new byte[n * 3];
            for (int i = 0; i < n; i++) {
                byte v = pixels[i];
                out[3 * i] = v;
                out[3 * i + 1] = v;
                out[3 * i + 2] = v;
            }
            return new ByteImage(3, height, width, out);
        }
        if (target == 1) {
            byte[] out = new byte[n];
            for (int i = 0; i < n; i++) {
                out[i] = luminance(pixels[3 * i] & 0xFF, pixels[3 * i + 1] & 0xFF, pixels[3 * i + 2] & 0xFF);
            }
            return new ByteImage(1, height, width, out);
        }
        throw new IllegalArgumentException("channels must be 1 or 3, got " + target);
    }

    static byte luminance(int r, int g, int b) {
        return (byte) ((r * 19595 + g * 38470 + b * 7471 + 0x8000) >>> 16);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof ByteImage b && b.channels == channels && b.height == height && b.width == width
                && java.util.Arrays.equals(b.pixels, pixels);
    }

    @Override
    public int hashCode() {
        return Objects.hash(channels, height, width, java.util.Arrays.hashCode(pixels));
    }

    @Override
    public String toString() {
        return "ByteImage[" + channels + "x" + height + "x" + width + "]";
    }
}
