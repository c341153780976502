package io.hgkd.train.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class TransformsTest {

    private static ByteImage ramp(int channels, int h, int w) {
        byte[] px = new byte[channels * h * w];
        for (int i = 0; i < px.length; i++) {
            px[i] = (byte) (i * 31 + i / 7);
        }
        return new ByteImage(channels, h, w, px);
    }

    @Test
    void randomResizedCropDrawsAreaAndRatioInRange() {
        RandomResizedCrop rrc = RandomResizedCrop.spark(224);
        SplittableRandom rng = new SplittableRandom(1);
        // Square, so that boxes of either orientation fit for most areas.
        int h = 500;
        int w = 500;
        double minArea = 1;
        double maxArea = 0;
        double minRatio = 10;
        double maxRatio = 0;
        int n = 20000;
        double sumLogRatio = 0;
        for (int i = 0; i < n; i++) {
            RandomResizedCrop.Box b = rrc.sample(h, w, rng);
            assertTrue(b.top() >= 0 && b.left() >= 0 && b.top() + b.height() <= h && b.left() + b.width() <= w);
            if (b.fallback()) {
                continue;
            }
            double area = (double) b.height() * b.width() / (h * w);
            double ratio = (double) b.width() / b.height();
            minArea = Math.min(minArea, area);
            maxArea = Math.max(maxArea, area);
            minRatio = Math.min(minRatio, ratio);
            maxRatio = Math.max(maxRatio, ratio);
            sumLogRatio += Math.log(ratio);
        }
        // Rounding the sides to integers moves area and ratio by well under 1 %.
        assertTrue(minArea > 0.67 * 0.99 && minArea < 0.69, "min area fraction " + minArea);
        assertTrue(maxArea <= 1.0 && maxArea > 0.97, "max area fraction " + maxArea);
        assertTrue(minRatio > 0.75 * 0.99 && minRatio < 0.78, "min ratio " + minRatio);
        assertTrue(maxRatio < 4.0 / 3.0 * 1.01 && maxRatio > 1.28, "max ratio " + maxRatio);
        // The log ratio is drawn uniformly on a symmetric range and a square image favours neither orientation.
        assertEquals(0.0, sumLogRatio / n, 0.01);

        // A 4:3 landscape image: tall boxes of large area do not fit and are redrawn, all boxes stay inside.
        for (int i = 0; i < 2000; i++) {
            RandomResizedCrop.Box b = rrc.sample(375, 500, rng);
            assertTrue(b.top() >= 0 && b.left() >= 0 && b.top() + b.height() <= 375 && b.left() + b.width() <= 500);
            assertTrue((double) b.width() / b.height() >= 0.75 * 0.99);
        }
    }

    @Test
    void randomResizedCropAreaIsUniformOnSquareImages() {
        // On a large square image every draw with area <= 0.75 fits: the area fraction is uniform on [0.08, 0.75].
        RandomResizedCrop rrc = RandomResizedCrop.of(32);
        SplittableRandom rng = new SplittableRandom(2);
        int[] bins = new int[4];
        int counted = 0;
        for (int i = 0; i < 40000; i++) {
            RandomResizedCrop.Box b = rrc.sample(1000, 1000, rng);
            double a = b.height() * (double) b.width() / 1e6;
            if (a <= 0.6) {
                bins[(int) Math.min(3, (a - 0.08) / 0.13)]++;
                counted++;
            }
        }
        for (int bin : bins) {
            assertEquals(0.25, (double) bin / counted, 0.02, java.util.Arrays.toString(bins));
        }
    }

    @Test
    void randomResizedCropFallsBackToACentredClampedBox() {
        // A 10x1000 strip: no 3/4..4/3 box of >= 90 % area fits, so all 10 attempts fail.
        RandomResizedCrop rrc = new RandomResizedCrop(8, 8, 0.9, 1.0, 0.75, 4.0 / 3.0, Interpolation.BILINEAR);
        RandomResizedCrop.Box wide = rrc.sample(10, 1000, new SplittableRandom(3));
        assertTrue(wide.fallback());
        // in_ratio 100 > 4/3: h = 10, w = round(10 * 4/3) = 13, centred.
        assertEquals(new RandomResizedCrop.Box(0, (1000 - 13) / 2, 10, 13, true), wide);
        RandomResizedCrop.Box tall = rrc.sample(1000, 10, new SplittableRandom(3));
        // in_ratio 0.01 < 3/4: w = 10, h = round(10 / 0.75) = 13.
        assertEquals(new RandomResizedCrop.Box((1000 - 13) / 2, 0, 13, 10, true), tall);
        // Ratio range containing the image's: the whole image.
        RandomResizedCrop loose = new RandomResizedCrop(8, 8, 1.0, 1.0, 0.5, 200, Interpolation.BILINEAR);
        assertEquals(0, loose.sample(10, 1000, new SplittableRandom(4)).top());
        ByteImage out = rrc.apply(ramp(3, 10, 1000), new SplittableRandom(3));
        assertEquals(8, out.height());
        assertEquals(8, out.width());
    }

    @Test
    void randomResizedCropIsDeterministicForAGenerator() {
        ByteImage img = ramp(3, 60, 80);
        RandomResizedCrop rrc = RandomResizedCrop.spark(24);
        assertEquals(rrc.apply(img, new SplittableRandom(7)), rrc.apply(img, new SplittableRandom(7)));
        assertNotEquals(rrc.apply(img, new SplittableRandom(7)), rrc.apply(img, new SplittableRandom(8)));
        assertThrows(IllegalArgumentException.class,
                () -> new RandomResizedCrop(8, 8, 0.5, 0.4, 1, 1, Interpolation.BICUBIC));
        assertThrows(IllegalArgumentException.class,
                () -> new RandomResizedCrop(8, 8, 0.5, 1, 0, 1, Interpolation.BICUBIC));
    }

    @Test
    void flipMirrorsWithTheGivenProbability() {
        ByteImage img = ramp(3, 4, 5);
        ByteImage flipped = new RandomHorizontalFlip(1.0).apply(img, new SplittableRandom(1));
        for (int y = 0; y < 4; y++) {
            for (int x = 0; x < 5; x++) {
                for (int c = 0; c < 3; c++) {
                    assertEquals(img.get(y, x, c), flipped.get(y, 4 - x, c));
                }
            }
        }
        assertEquals(img, flipped.flipHorizontal());
        assertSame(img, new RandomHorizontalFlip(0.0).apply(img, new SplittableRandom(1)));
        SplittableRandom rng = new SplittableRandom(2);
        int n = 0;
        for (int i = 0; i < 4000; i++) {
            if (RandomHorizontalFlip.half().apply(img, rng) != img) {
                n++;
            }
        }
        assertEquals(0.5, n / 4000.0, 0.03);
        assertThrows(IllegalArgumentException.class, () -> new RandomHorizontalFlip(1.5));
    }

    @Test
    void resizeShorterAndCenterCropGeometry() {
        ResizeShorter r = new ResizeShorter(235, Interpolation.BICUBIC);
        // torchvision: long side int(235 * long / short), truncated.
        assertArrayEquals(new int[] {235, 313}, r.outputSize(375, 500));
        assertArrayEquals(new int[] {313, 235}, r.outputSize(500, 375));
        assertArrayEquals(new int[] {235, 235}, r.outputSize(90, 90));
        assertArrayEquals(new int[] {235, 783}, r.outputSize(3, 10));
        ByteImage img = ramp(3, 375, 500);
        ByteImage out = r.apply(img, null);
        assertEquals(235, out.height());
        assertEquals(313, out.width());
        assertSame(img, new ResizeShorter(375, Interpolation.BILINEAR).apply(img, null));

        ByteImage small = ramp(1, 7, 9);
        ByteImage cc = new CenterCrop(4, 4).apply(small, null);
        // top = round(3 / 2) = 2 (ties to even), left = round(5 / 2) = 2.
        assertEquals(small.crop(2, 2, 4, 4), cc);
        ByteImage padded = new CenterCrop(9, 12).apply(small, null);
        // Pad 1 left, 2 right, 1 top, 1 bottom; the original sits at (1, 1).
        assertEquals(0, padded.get(0, 0, 0));
        assertEquals(small.get(0, 0, 0), padded.get(1, 1, 0));
        assertEquals(small.get(6, 8, 0), padded.get(7, 9, 0));
        assertEquals(0, padded.get(8, 11, 0));
        assertEquals(0, padded.get(4, 10, 0));

        Pipeline eval = Pipeline.imagenetEval(224);
        assertEquals(new ResizeShorter(235, Interpolation.BICUBIC), eval.transforms().get(0));
        Sample s = eval.apply(img, 3, null);
        assertEquals("3x224x224", s.shape());
        assertEquals(3, s.label());
    }

    @Test
    void resizeAndPadMakeFashionMnist32() {
        ByteImage digit = ramp(1, 28, 28);
        ByteImage padded = Pad.uniform(2).apply(digit, null);
        assertEquals(32, padded.height());
        assertEquals(digit.get(0, 0, 0), padded.get(2, 2, 0));
        assertEquals(0, padded.get(1, 2, 0));
        ByteImage up = new Resize(32, 32, Interpolation.BILINEAR).apply(digit, null);
        assertEquals(32, up.width());
        Sample s = Pipeline.of(3, FashionMnist.NORMALIZE, Pad.uniform(2)).apply(digit, 5, null);
        assertEquals("3x32x32", s.shape());
        // Replicated channels normalise identically.
        assertEquals(s.data()[2 * 32 + 2], s.data()[1024 + 2 * 32 + 2]);
    }

    @Test
    void channelConversions() {
        ByteImage gray = ramp(1, 3, 4);
        ByteImage rgb = new ToChannels(3).apply(gray, null);
        assertEquals(gray, rgb.toChannels(1));
        ByteImage color = new ByteImage(3, 1, 2, new byte[] {(byte) 255, 0, 0, 10, 20, 30});
        ByteImage l = color.toChannels(1);
        assertEquals((255 * 19595 + 0x8000) >> 16, l.get(0, 0, 0));
        assertEquals((10 * 19595 + 20 * 38470 + 30 * 7471 + 0x8000) >> 16, l.get(0, 1, 0));
        assertThrows(IllegalArgumentException.class, () -> new ToChannels(2));
    }

    @Test
    void normalizeMatchesToTensorThenNormalize() {
        ByteImage img = new ByteImage(3, 1, 2, new byte[] {0, (byte) 128, (byte) 255, 10, 20, 30});
        float[] t = Normalize.IMAGENET.apply(img);
        float[] m = {0.485f, 0.456f, 0.406f};
        float[] s = {0.229f, 0.224f, 0.225f};
        // CHW: channel 0 holds pixel 0 then pixel 1.
        assertEquals((0f / 255f - m[0]) / s[0], t[0]);
        assertEquals((10f / 255f - m[0]) / s[0], t[1]);
        assertEquals((128f / 255f - m[1]) / s[1], t[2]);
        assertEquals((255f / 255f - m[2]) / s[2], t[4]);
        assertEquals((30f / 255f - m[2]) / s[2], t[5]);
        assertEquals(-2.117904f, t[0], 1e-6f);
        float[] plain = Normalize.NONE.apply(img);
        assertEquals(1.0f, plain[4]);
        assertThrows(IllegalArgumentException.class, () -> new Normalize(new float[] {0, 0}, new float[] {1, 1}));
        assertThrows(IllegalArgumentException.class, () -> Normalize.of(0f, 0f));
        assertThrows(IllegalArgumentException.class, () -> Normalize.IMAGENET.apply(ramp(1, 2, 2)));
    }

    @Test
    void sparkPretrainPipeline() {
        Pipeline p = Pipeline.sparkPretrain(32);
        ByteImage img = ramp(1, 50, 70);
        Sample a = p.apply(img, 1, new SplittableRandom(11));
        Sample b = p.apply(img, 1, new SplittableRandom(11));
        assertEquals("3x32x32", a.shape());
        assertArrayEquals(a.data(), b.data());
        assertFalse(java.util.Arrays.equals(a.data(), p.apply(img, 1, new SplittableRandom(12)).data()));
        assertEquals(new RandomResizedCrop(32, 32, 0.67, 1.0, 0.75, 4.0 / 3.0, Interpolation.BICUBIC),
                p.transforms().get(0));
    }
}
