package io.hgkd.train.data;

import java.awt.image.BufferedImage;
import java.awt.image.ColorModel;
import java.awt.image.ComponentColorModel;
import java.awt.image.ComponentSampleModel;
import java.awt.image.DataBuffer;
import java.awt.image.DataBufferByte;
import java.awt.image.DataBufferUShort;
import java.awt.image.IndexColorModel;
import java.awt.image.Raster;
import java.awt.color.ColorSpace;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import javax.imageio.ImageIO;
import javax.imageio.ImageReader;
import javax.imageio.event.IIOReadWarningListener;
import javax.imageio.stream.ImageInputStream;
import javax.imageio.stream.MemoryCacheImageInputStream;

/**
 * Decodes JPEG (baseline, progressive, CMYK and YCCK through the TwelveMonkeys plugin, which its jar registers with
 * ImageIO), PNG, BMP and GIF (first frame) files into {@link ByteImage}s, on any thread.
 *
 * <p>Conversions follow what torchvision's default loader ({@code PIL.Image.open(f).convert("RGB")}) produces:
 * <ul>
 *   <li>sample values are taken as stored; colour profiles of RGB and gray images are not applied (PIL ignores
 *       them too). CMYK and YCCK JPEGs are converted to RGB by TwelveMonkeys, with the embedded ICC profile when
 *       there is one, which PIL does not do: their colours can differ from PIL's;</li>
 *   <li>alpha is dropped, not composited: a transparent pixel keeps its stored colour, as in PIL's RGBA to RGB;</li>
 *   <li>palette images are expanded through the palette; 16-bit samples keep their high byte;</li>
 *   <li>a grayscale file gives 1 channel, replicated to 3 when 3 are requested; an RGB file asked for 1 channel
 *       gives PIL's {@code convert("L")} luminance.</li>
 * </ul>
 *
 * <p>Every failure is a {@link BadImageException} naming the file: empty files, unknown formats (such as text with
 * an image extension), corrupt data, and truncated files. A truncated JPEG counts as bad even where the decoder
 * could return the rows it got (PIL raises "image file is truncated" for these as well), because a half-grey image
 * is a worse training sample than none.
 */
public final class ImageDecoder {

    static {
        // No disk cache for ImageIO streams: decoding works from memory, and temp files would only slow it down.
        ImageIO.setUseCache(false);
        // Register plugins visible to this class's loader in case ImageIO was first used with another context loader.
        ImageIO.scanForPlugins();
    }

    private ImageDecoder() {
    }

    /**
     * Reads and decodes a file into an image with {@code channels} (1 or 3) channels.
     *
     * @throws BadImageException if the file cannot be read or decoded; the message names the file
     */
    public static ByteImage decode(Path file, int channels) throws BadImageException {
        checkChannels(channels);
        byte[] bytes;
        try {
            bytes = Files.readAllBytes(file);
        } catch (NoSuchFileException e) {
            throw new BadImageException(file.toString(), "file not found", e);
        } catch (IOException | OutOfMemoryError e) {
            throw new BadImageException(file.toString(), "cannot read: " + e, e);
        }
        return decode(bytes, file.toString(), channels);
    }

    /**
     * Decodes the bytes of an image file; {@code name} is used in error messages.
     *
     * @throws BadImageException if the bytes are not a complete image in a supported format
     */
    public static ByteImage decode(byte[] bytes, String name, int channels) throws BadImageException {
        checkChannels(channels);
        if (bytes.length == 0) {
            throw new BadImageException(name, "empty file");
        }
        BufferedImage image = read(bytes, name);
        return convert(image, name, channels);
    }

    private static void checkChannels(int channels) {
        if (channels != 1 && channels != 3) {
            throw new IllegalArgumentException("channels must be 1 or 3, got " + channels);
        }
    }

    private static BufferedImage read(byte[] bytes, String name) throws BadImageException {
        ImageReader reader = null;
        Warnings warnings = new Warnings();
        try (ImageInputStream in = new MemoryCacheImageInputStream(new ByteArrayInputStream(bytes))) {
            Iterator<ImageReader> readers = ImageIO.getImageReaders(in);
            if (!readers.hasNext()) {
                throw new BadImageException(name, "not an image in a supported format (JPEG, PNG, BMP, GIF); "
                        + bytes.length + " bytes starting with " + head(bytes));
            }
            reader = readers.next();
            reader.setInput(in, true, true);
            reader.addIIOReadWarningListener(warnings);
            BufferedImage image = reader.read(0, reader.getDefaultReadParam());
            if (warnings.truncated()) {
                throw new BadImageException(name, "truncated " + format(reader) + " (" + warnings.all + ")");
            }
            if (image == null || image.getWidth() < 1 || image.getHeight() < 1) {
                throw new BadImageException(name, "decoded to an empty image");
            }
            return image;
        } catch (BadImageException e) {
            throw e;
        } catch (IOException | RuntimeException | OutOfMemoryError e) {
            // ImageIO plugins signal damaged data with IIOException, EOFException and, for some corruptions,
            // runtime exceptions (index out of bounds, illegal state); all mean "this file is bad".
            String what = reader != null ? format(reader) : "image";
            throw new BadImageException(name, "corrupt or truncated " + what + ": " + message(e), e);
        } finally {
            if (reader != null) {
                reader.dispose();
            }
        }
    }

    private static String format(ImageReader reader) {
        try {
            return reader.getFormatName().toUpperCase(Locale.ROOT);
        } catch (IOException e) {
            return "image";
        }
    }

    private static String message(Throwable e) {
        StringBuilder sb = new StringBuilder(e.getClass().getSimpleName());
        if (e.getMessage() != null) {
            sb.append(": ").append(e.getMessage());
        }
        if (e.getCause() != null && e.getCause() != e) {
            sb.append(" (caused by ").append(e.getCause().getClass().getSimpleName());
            if (e.getCause().getMessage() != null) {
                sb.append(": ").append(e.getCause().getMessage());
            }
            sb.append(')');
        }
        return sb.toString();
    }

    private static String head(byte[] bytes) {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < Math.min(8, bytes.length); i++) {
            sb.append(String.format("%02x", bytes[i] & 0xFF));
        }
        return sb.toString();
    }

    /** Collects decoder warnings; some of them mean the data ended early. */
    private static final class Warnings implements IIOReadWarningListener {
        final List<String> all = new ArrayList<>();

        @Override
        public void warningOccurred(ImageReader source, String warning) {
            all.add(warning);
        }

        boolean truncated() {
            for (String w : all) {
                String s = w.toLowerCase(Locale.ROOT);
                if (s.contains("premature end") || s.contains("truncated") || s.contains("unexpected end")) {
                    return true;
                }
            }
            return false;
        }
    }

    // ---- BufferedImage -> ByteImage ----------------------------------------------------------------------------

    static ByteImage convert(BufferedImage image, String name, int channels) {
        int w = image.getWidth();
        int h = image.getHeight();
        ColorModel cm = image.getColorModel();
        Raster raster = image.getRaster();
        ByteImage out = null;
        if (cm instanceof IndexColorModel icm) {
            out = fromPalette(raster, icm, w, h);
        } else if (cm instanceof ComponentColorModel && raster.getSampleModel() instanceof ComponentSampleModel sm
                && raster.getParent() == null) {
            int type = cm.getColorSpace().getType();
            int colors = cm.getNumColorComponents();
            boolean rgb = type == ColorSpace.TYPE_RGB && colors == 3;
            boolean gray = type == ColorSpace.TYPE_GRAY && colors == 1;
            if (rgb || gray) {
                DataBuffer db = raster.getDataBuffer();
                if (db instanceof DataBufferByte bb) {
                    out = fromComponents(bb.getBankData(), null, sm, db.getOffsets(), colors, w, h);
                } else if (db instanceof DataBufferUShort ub) {
                    out = fromComponents(null, ub.getBankData(), sm, db.getOffsets(), colors, w, h);
                }
            }
        }
        if (out == null) {
            out = fromRgb(image, w, h);
        }
        return out.toChannels(channels);
    }

    /** Reads the first {@code colors} bands (the colour ones; alpha comes after) straight from the data buffer. */
    private static ByteImage fromComponents(byte[][] bytes, short[][] shorts, ComponentSampleModel sm,
            int[] bufferOffsets, int colors, int w, int h) {
        int[] bandOffsets = sm.getBandOffsets();
        int[] banks = sm.getBankIndices();
        int pixelStride = sm.getPixelStride();
        int scanline = sm.getScanlineStride();
        byte[] out = new byte[w * h * colors];
        for (int c = 0; c < colors; c++) {
            int bank = banks[c];
            int base = bufferOffsets[bank] + bandOffsets[c];
            if (bytes != null) {
                byte[] src = bytes[bank];
                for (int y = 0; y < h; y++) {
                    int p = base + y * scanline;
                    int o = y * w * colors + c;
                    for (int x = 0; x < w; x++, p += pixelStride, o += colors) {
                        out[o] = src[p];
                    }
                }
            } else {
                short[] src = shorts[bank];
                for (int y = 0; y < h; y++) {
                    int p = base + y * scanline;
                    int o = y * w * colors + c;
                    for (int x = 0; x < w; x++, p += pixelStride, o += colors) {
                        out[o] = (byte) ((src[p] & 0xFFFF) >>> 8);
                    }
                }
            }
        }
        return new ByteImage(colors, h, w, out);
    }

    /** Expands palette indices; a palette whose entries are all gray gives a 1-channel image, as PIL's "L". */
    private static ByteImage fromPalette(Raster raster, IndexColorModel icm, int w, int h) {
        int size = icm.getMapSize();
        byte[] r = new byte[size];
        byte[] g = new byte[size];
        byte[] b = new byte[size];
        icm.getReds(r);
        icm.getGreens(g);
        icm.getBlues(b);
        boolean gray = true;
        for (int i = 0; i < size && gray; i++) {
            gray = r[i] == g[i] && g[i] == b[i];
        }
        int c = gray ? 1 : 3;
        byte[] out = new byte[w * h * c];
        int[] row = new int[w];
        for (int y = 0; y < h; y++) {
            raster.getSamples(0, y, w, 1, 0, row);
            int o = y * w * c;
            for (int x = 0; x < w; x++) {
                int i = Math.min(row[x], size - 1);
                if (gray) {
                    out[o + x] = r[i];
                } else {
                    out[o + 3 * x] = r[i];
                    out[o + 3 * x + 1] = g[i];
                    out[o + 3 * x + 2] = b[i];
                }
            }
        }
        return new ByteImage(c, h, w, out);
    }

    /** Any other layout, through the colour model's sRGB conversion, one row at a time. */
    private static ByteImage fromRgb(BufferedImage image, int w, int h) {
        byte[] out = new byte[w * h * 3];
        int[] row = new int[w];
        for (int y = 0; y < h; y++) {
            image.getRGB(0, y, w, 1, row, 0, w);
            int o = y * w * 3;
            for (int x = 0; x < w; x++) {
                int argb = row[x];
                out[o + 3 * x] = (byte) (argb >> 16);
                out[o + 3 * x + 1] = (byte) (argb >> 8);
                out[o + 3 * x + 2] = (byte) argb;
            }
        }
        return new ByteImage(3, h, w, out);
    }
}
