package io.hgkd.train.data;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Path;
import java.util.Locale;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * The resampler, crops and gray conversion against torchvision 0.14 on PIL 9.4 (src-test-data/images/manifest.json,
 * written by tools/data/make_image_fixtures.py). Inputs and references are PNGs, so decoding is exact and any
 * difference is the resampling's.
 */
class ResamplerParityTest {

    @Test
    void matchesTorchvisionOnPilImages() throws Exception {
        JsonNode manifest = new ObjectMapper().readTree(TestImages.fixture("manifest.json").toFile());
        ByteImage src = ImageDecoder.decode(TestImages.fixture(manifest.get("source").asText()), 3);
        int cases = 0;
        for (JsonNode c : manifest.get("cases")) {
            String name = c.get("name").asText();
            String op = c.get("op").asText();
            ByteImage ours = switch (op) {
                case "resize_shorter_center_crop" -> CenterCrop.of(c.get("crop").asInt()).apply(
                        new ResizeShorter(c.get("resize").asInt(), interp(c)).apply(src, null), null);
                case "resized_crop" -> crop(src, c);
                case "gray_resized_crop" -> crop(src.toChannels(1), c);
                case "center_crop" -> new CenterCrop(c.get("crop").get(0).asInt(), c.get("crop").get(1).asInt())
                        .apply(src, null);
                case "to_gray" -> src.toChannels(1);
                default -> throw new AssertionError("unknown op " + op + " in manifest");
            };
            Path refFile = TestImages.fixture(name);
            int refChannels = op.startsWith("gray") || op.equals("to_gray") ? 1 : 3;
            ByteImage ref = ImageDecoder.decode(refFile, refChannels);
            double mean = TestImages.meanAbsDiff(ours, ref);
            int max = TestImages.maxAbsDiff(ours, ref);
            System.out.printf(Locale.ROOT, "%-28s %s: mean |diff| %.4f, max %d (levels of 255)%n", name, ours, mean,
                    max);
            assertEquals(0, max, name + ": differs from torchvision by up to " + max + " levels (mean " + mean + ")");
            cases++;
        }
        assertTrue(cases >= 8, "manifest lists " + cases + " cases");
    }

    private static Interpolation interp(JsonNode c) {
        return Interpolation.valueOf(c.get("interp").asText().toUpperCase(Locale.ROOT));
    }

    private static ByteImage crop(ByteImage src, JsonNode c) {
        JsonNode box = c.get("box");
        JsonNode size = c.get("size");
        return Resampler.resizeCrop(src, box.get(0).asInt(), box.get(1).asInt(), box.get(2).asInt(),
                box.get(3).asInt(), size.get(0).asInt(), size.get(1).asInt(), interp(c));
    }

    @Test
    void randomResizedCropUsesTheSameResampling() throws Exception {
        // The transform is crop-then-resize: equal to resizeCrop on the box it draws.
        ByteImage src = ImageDecoder.decode(TestImages.fixture("photo.png"), 3);
        RandomResizedCrop rrc = RandomResizedCrop.spark(48);
        RandomResizedCrop.Box box = rrc.sample(src.height(), src.width(), new SplittableRandom(5));
        ByteImage viaTransform = rrc.apply(src, new SplittableRandom(5));
        ByteImage direct = Resampler.resizeCrop(src, box.top(), box.left(), box.height(), box.width(), 48, 48,
                Interpolation.BICUBIC);
        assertEquals(direct, viaTransform);
        assertEquals(direct, Resampler.resize(src.crop(box.top(), box.left(), box.height(), box.width()), 48, 48,
                Interpolation.BICUBIC));
    }
}
