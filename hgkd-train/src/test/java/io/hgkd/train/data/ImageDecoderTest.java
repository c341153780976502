package io.hgkd.train.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Locale;
import java.util.Random;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ImageDecoderTest {

    /** What ImageIO's own reader makes of the bytes, as RGB (the reference for lossless formats). */
    private static int rgbAt(byte[] file, int x, int y) throws IOException {
        return ImageIO.read(new ByteArrayInputStream(file)).getRGB(x, y) & 0xFFFFFF;
    }

    private static int rgbOf(ByteImage im, int y, int x) {
        return (im.get(y, x, 0) << 16) | (im.get(y, x, 1) << 8) | im.get(y, x, 2);
    }

    @Test
    void losslessFormatsDecodeExactly() throws IOException {
        BufferedImage src = TestImages.rgb(37, 23, 1);
        for (String format : new String[] {"png", "bmp"}) {
            byte[] bytes = TestImages.encode(src, format);
            ByteImage im = ImageDecoder.decode(bytes, "x." + format, 3);
            assertEquals(3, im.channels());
            assertEquals(23, im.height());
            assertEquals(37, im.width());
            for (int y = 0; y < 23; y++) {
                for (int x = 0; x < 37; x++) {
                    assertEquals(src.getRGB(x, y) & 0xFFFFFF, rgbOf(im, y, x), format + " at " + x + "," + y);
                }
            }
        }
    }

    @Test
    void gifFirstFrameThroughThePalette() throws IOException {
        byte[] gif = TestImages.encode(TestImages.rgb(20, 10, 2), "gif");
        ByteImage im = ImageDecoder.decode(gif, "x.gif", 3);
        assertEquals(10, im.height());
        for (int y = 0; y < 10; y++) {
            for (int x = 0; x < 20; x++) {
                assertEquals(rgbAt(gif, x, y), rgbOf(im, y, x));
            }
        }
    }

    @Test
    void grayscaleKeptOrReplicated() throws IOException {
        BufferedImage g = TestImages.gray(16, 9);
        byte[] png = TestImages.encode(g, "png");
        ByteImage one = ImageDecoder.decode(png, "g.png", 1);
        ByteImage three = ImageDecoder.decode(png, "g.png", 3);
        assertEquals(1, one.channels());
        assertEquals(3, three.channels());
        byte[] expected = ((java.awt.image.DataBufferByte) g.getRaster().getDataBuffer()).getData();
        assertArrayEquals(expected, one.pixels());
        for (int i = 0; i < 16 * 9; i++) {
            for (int c = 0; c < 3; c++) {
                assertEquals(expected[i], three.pixels()[3 * i + c]);
            }
        }
    }

    @Test
    void rgbAskedForOneChannelGivesPilLuminance() throws IOException {
        BufferedImage src = TestImages.rgb(8, 8, 3);
        ByteImage gray = ImageDecoder.decode(TestImages.encode(src, "png"), "c.png", 1);
        int rgb = src.getRGB(5, 2);
        int r = (rgb >> 16) & 0xFF;
        int g = (rgb >> 8) & 0xFF;
        int b = rgb & 0xFF;
        assertEquals((r * 19595 + g * 38470 + b * 7471 + 0x8000) >> 16, gray.get(2, 5, 0));
    }

    @Test
    void alphaIsDroppedNotComposited() throws IOException {
        ByteImage im = ImageDecoder.decode(TestImages.encode(TestImages.rgba(8, 8), "png"), "a.png", 3);
        // The transparent left half keeps its stored red, as PIL's RGBA -> RGB does.
        assertEquals(255, im.get(3, 1, 0));
        assertEquals(0, im.get(3, 1, 1));
        assertEquals(12, im.get(3, 1, 2));
        assertEquals(255, im.get(3, 6, 0));
    }

    @Test
    void cmykJpegDecodesToItsColours() throws IOException {
        // Quadrants written by PIL as CMYK: white, cyan, red (M+Y), black.
        ByteImage im = ImageDecoder.decode(TestImages.fixture("cmyk.jpg"), 3);
        assertEquals(32, im.height());
        assertEquals(48, im.width());
        int[][] expected = {{255, 255, 255}, {0, 255, 255}, {255, 0, 0}, {0, 0, 0}};
        int[][] at = {{8, 12}, {8, 36}, {24, 12}, {24, 36}};
        for (int q = 0; q < 4; q++) {
            for (int c = 0; c < 3; c++) {
                int v = im.get(at[q][0], at[q][1], c);
                assertTrue(Math.abs(v - expected[q][c]) <= 8, "quadrant " + q + " channel " + c + ": " + v);
            }
        }
        ByteImage pil = ImageDecoder.decode(TestImages.fixture("cmyk_pil.png"), 3);
        double diff = TestImages.meanAbsDiff(im, pil);
        System.out.printf(Locale.ROOT, "CMYK JPEG vs PIL: mean |diff| %.3f levels%n", diff);
        assertTrue(diff < 2.0, "mean difference to PIL " + diff);
    }

    @Test
    void jpegsDecodeCloseToPil() throws IOException {
        // Different IDCT/upsampling implementations (JDK libjpeg 6b vs libjpeg-turbo in PIL) differ by a level or so.
        for (String name : new String[] {"progressive", "photo_q90"}) {
            ByteImage ours = ImageDecoder.decode(TestImages.fixture(name + ".jpg"), 3);
            ByteImage pil = ImageDecoder.decode(TestImages.fixture(name + "_pil.png"), 3);
            double mean = TestImages.meanAbsDiff(ours, pil);
            int max = TestImages.maxAbsDiff(ours, pil);
            System.out.printf(Locale.ROOT, "%s.jpg vs PIL: mean |diff| %.3f, max %d levels%n", name, mean, max);
            assertTrue(mean < 1.0, name + ": mean difference " + mean);
            assertTrue(max <= 16, name + ": max difference " + max);
        }
    }

    @Test
    void badFilesNameTheFileAndSayWhy(@TempDir Path dir) throws IOException {
        byte[] png = TestImages.encode(TestImages.rgb(64, 48, 4), "png");
        byte[] jpg = TestImages.encode(TestImages.rgb(64, 48, 4), "jpeg");
        byte[] corrupt = new byte[3000];
        new Random(9).nextBytes(corrupt);
        System.arraycopy(new byte[] {(byte) 0xFF, (byte) 0xD8, (byte) 0xFF, (byte) 0xE0}, 0, corrupt, 0, 4);
        Object[][] cases = {
            {"empty.jpg", new byte[0], "empty file"},
            {"text.jpg", "not an image\n".getBytes(), "not an image in a supported format"},
            {"corrupt.jpg", corrupt, "corrupt"},
            {"truncated.png", Arrays.copyOf(png, png.length / 2), "truncated"},
            {"truncated.jpg", Arrays.copyOf(jpg, jpg.length * 2 / 3), "truncated"},
        };
        for (Object[] c : cases) {
            Path f = dir.resolve((String) c[0]);
            Files.write(f, (byte[]) c[1]);
            BadImageException e = assertThrows(BadImageException.class, () -> ImageDecoder.decode(f, 3),
                    (String) c[0]);
            assertEquals(f.toString(), e.file());
            assertTrue(e.getMessage().startsWith(f.toString()), e.getMessage());
            assertTrue(e.reason().contains((String) c[2]), c[0] + ": " + e.reason());
        }
        BadImageException missing = assertThrows(BadImageException.class,
                () -> ImageDecoder.decode(dir.resolve("gone.png"), 3));
        assertTrue(missing.getMessage().contains("gone.png"));
    }

    @Test
    void rejectsBadChannelCounts() {
        assertThrows(IllegalArgumentException.class, () -> ImageDecoder.decode(new byte[1], "x", 2));
    }
}
