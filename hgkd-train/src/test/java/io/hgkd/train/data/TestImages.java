package io.hgkd.train.data;

import io.hgkd.core.testing.Fixtures;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Iterator;
import java.util.Random;
import javax.imageio.IIOImage;
import javax.imageio.ImageIO;
import javax.imageio.ImageWriteParam;
import javax.imageio.ImageWriter;
import javax.imageio.stream.MemoryCacheImageOutputStream;

/** Images made in the tests, and the committed ones under {@code src-test-data/images}. */
final class TestImages {
    private TestImages() {
    }

    /** A committed fixture from {@code src-test-data/images} (made by tools/data/make_image_fixtures.py). */
    static Path fixture(String name) {
        return Fixtures.file("images/" + name).toPath();
    }

    /** A smooth RGB test pattern with some noise, deterministic for a seed. */
    static BufferedImage rgb(int w, int h, long seed) {
        Random r = new Random(seed);
        BufferedImage img = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
        double fx = 3 + r.nextInt(5);
        double fy = 3 + r.nextInt(5);
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
                int red = clamp(255.0 * x / w + r.nextGaussian() * 4);
                int green = clamp(255.0 * y / h + r.nextGaussian() * 4);
                int blue = clamp(128 + 100 * Math.sin(x / fx) * Math.cos(y / fy));
                img.setRGB(x, y, (red << 16) | (green << 8) | blue);
            }
        }
        return img;
    }

    /** A grayscale gradient. */
    static BufferedImage gray(int w, int h) {
        BufferedImage img = new BufferedImage(w, h, BufferedImage.TYPE_BYTE_GRAY);
        byte[] px = ((java.awt.image.DataBufferByte) img.getRaster().getDataBuffer()).getData();
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
                px[y * w + x] = (byte) ((x * 7 + y * 3) & 0xFF);
            }
        }
        return img;
    }

    /** An RGBA image whose left half is fully transparent (its stored colour is still red). */
    static BufferedImage rgba(int w, int h) {
        BufferedImage img = new BufferedImage(w, h, BufferedImage.TYPE_INT_ARGB);
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
                int alpha = x < w / 2 ? 0 : 255;
                img.setRGB(x, y, (alpha << 24) | 0xFF0000 | ((y * 4) & 0xFF));
            }
        }
        return img;
    }

    static int clamp(double v) {
        return (int) Math.max(0, Math.min(255, Math.round(v)));
    }

    /** Encodes with ImageIO ("png", "bmp", "gif", "jpeg"). */
    static byte[] encode(BufferedImage img, String format) {
        try {
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            BufferedImage src = img;
            if (format.equals("jpeg") || format.equals("bmp")) {
                // JPEG and BMP writers take no alpha: draw onto an opaque RGB image first.
                if (img.getColorModel().hasAlpha() || img.getType() == BufferedImage.TYPE_INT_RGB) {
                    src = new BufferedImage(img.getWidth(), img.getHeight(), BufferedImage.TYPE_3BYTE_BGR);
                    src.getGraphics().drawImage(img, 0, 0, null);
                }
            }
            if (format.equals("jpeg")) {
                Iterator<ImageWriter> it = ImageIO.getImageWritersByFormatName("jpeg");
                ImageWriter w = it.next();
                ImageWriteParam p = w.getDefaultWriteParam();
                p.setCompressionMode(ImageWriteParam.MODE_EXPLICIT);
                p.setCompressionQuality(0.9f);
                try (MemoryCacheImageOutputStream ios = new MemoryCacheImageOutputStream(out)) {
                    w.setOutput(ios);
                    w.write(null, new IIOImage(src, null, null), p);
                } finally {
                    w.dispose();
                }
            } else if (!ImageIO.write(src, format, out)) {
                throw new IllegalStateException("no ImageIO writer for " + format);
            }
            return out.toByteArray();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static void write(Path file, byte[] bytes) {
        try {
            Files.createDirectories(file.getParent());
            Files.write(file, bytes);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Mean absolute difference over all samples; shapes must match. */
    static double meanAbsDiff(ByteImage a, ByteImage b) {
        checkSameShape(a, b);
        long sum = 0;
        for (int i = 0; i < a.pixels().length; i++) {
            sum += Math.abs((a.pixels()[i] & 0xFF) - (b.pixels()[i] & 0xFF));
        }
        return (double) sum / a.pixels().length;
    }

    /** Largest absolute difference; shapes must match. */
    static int maxAbsDiff(ByteImage a, ByteImage b) {
        checkSameShape(a, b);
        int max = 0;
        for (int i = 0; i < a.pixels().length; i++) {
            max = Math.max(max, Math.abs((a.pixels()[i] & 0xFF) - (b.pixels()[i] & 0xFF)));
        }
        return max;
    }

    private static void checkSameShape(ByteImage a, ByteImage b) {
        if (a.channels() != b.channels() || a.height() != b.height() || a.width() != b.width()) {
            throw new AssertionError("shapes differ: " + a + " vs " + b);
        }
    }
}
