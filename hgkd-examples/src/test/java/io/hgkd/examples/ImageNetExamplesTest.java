package io.hgkd.examples;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.hgkd.core.io.SafeTensors;
import io.hgkd.models.vit.VisionTransformer;
import io.hgkd.models.vit.VitConfig;
import java.awt.image.BufferedImage;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * The ImageNet examples parse, print their real-scale defaults, and (shrunk with --set to a 64 px toy with the
 * ResNet-50 layout at base width 4 on a tiny folder in ImageNet layout) pretrain from an MAE-style teacher file, export, fine-tune from that export, and refuse a
 * finished run on --resume.
 */
class ImageNetExamplesTest {
    @TempDir
    Path dir;

    record Run(int code, String out, String err) {
    }

    static Run run(ImageNetRun command, String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int code = ImageNetRun.execute(command, args, new PrintWriter(out), new PrintWriter(err));
        return new Run(code, out.toString(), err.toString());
    }

    /** root/{train,val}/{a,b}/*.png with random 72x80 RGB images. */
    Path imagenet() throws Exception {
        Path root = dir.resolve("imagenet");
        Random r = new Random(3);
        for (String split : List.of("train", "val")) {
            for (String cls : List.of("a", "b")) {
                Path d = Files.createDirectories(root.resolve(split).resolve(cls));
                for (int i = 0; i < (split.equals("train") ? 4 : 2); i++) {
                    BufferedImage img = new BufferedImage(80, 72, BufferedImage.TYPE_INT_RGB);
                    for (int y = 0; y < 72; y++) {
                        for (int x = 0; x < 80; x++) {
                            img.setRGB(x, y, r.nextInt(0x1000000));
                        }
                    }
                    ImageIO.write(img, "png", d.resolve(i + ".png").toFile());
                }
            }
        }
        return root;
    }

    static final List<String> SMALL_TEACHER = List.of("job.teacher.imgSize=64", "job.teacher.embedDim=32",
            "job.teacher.depth=1", "job.teacher.numHeads=2");

    static String[] args(Object... parts) {
        List<String> a = new ArrayList<>();
        for (Object p : parts) {
            if (p instanceof List<?> l) {
                for (Object s : l) {
                    a.add("--set");
                    a.add(s.toString());
                }
            } else {
                a.add(p.toString());
            }
        }
        return a.toArray(new String[0]);
    }

    @Test
    void printsTheRealScaleDefaults() throws Exception {
        Path data = imagenet();
        Run p = run(new ImageNetPretrain(), args(data, "--teacher", "t.safetensors", "-o", dir.resolve("x"),
                "--print-config"));
        assertEquals(0, p.code(), p.err());
        JsonNode c = new ObjectMapper().readTree(p.out());
        assertEquals("[3,4,6,3]", c.at("/job/student/encoder/layers").toString());
        assertEquals(768, c.at("/job/teacher/embedDim").asInt());
        assertEquals(224, c.at("/job/data/imageSize").asInt());
        assertEquals(128 * 32, c.at("/job/data/batchSize").asInt() * c.at("/trainer/accumSteps").asInt());
        assertEquals("LAMB", c.at("/trainer/optimizer").asText());
        assertEquals(data.toAbsolutePath().toString(), c.at("/job/data/path").asText());
        assertTrue(c.at("/job/teacherWeights").asText().endsWith("t.safetensors"));

        // the config checks mixup's class count against the folder's (1000 for ImageNet, 2 here)
        Run f = run(new ImageNetFinetune(), args(data, "-o", dir.resolve("y"), "--print-config",
                List.of("job.mixup.numClasses=2")));
        assertEquals(0, f.code(), f.err());
        JsonNode fc = new ObjectMapper().readTree(f.out());
        assertEquals("LAMB_FINETUNE", fc.at("/trainer/optimizer").asText());
        assertEquals(0.7, fc.at("/job/layerDecay").asDouble());
        assertEquals(2048, fc.at("/job/data/batchSize").asInt() * fc.at("/trainer/accumSteps").asInt());
        assertTrue(fc.at("/job/encoderWeights").isNull());

        Run pth = run(new ImageNetPretrain(), args(data, "--teacher", "mae_pretrain_vit_base.pth", "-o",
                dir.resolve("z")));
        assertEquals(2, pth.code());
        assertTrue(pth.err().contains("tools/pth_to_safetensors.py"), pth.err());
    }

    @Test
    void pretrainsExportsAndFinetunesATinyFolder() throws Exception {
        Path data = imagenet();
        // an MAE-style teacher file: 'model.' prefix and a decoder key, as tools/pth_to_safetensors.py writes them
        VitConfig vc = VitConfig.vitTinyPatch16().withImgSize(64, 16).withDepth(1).withEmbedDim(32, 2)
                .withNumClasses(0);
        Map<String, INDArray> teacher = new LinkedHashMap<>();
        new VisionTransformer(vc).stateDict().forEach((k, v) -> teacher.put("model." + k, v));
        teacher.put("model.decoder_embed.weight", Nd4j.zeros(4, 4));
        Path teacherFile = dir.resolve("mae_tiny.safetensors");
        SafeTensors.write(teacherFile, teacher, Map.of());

        Path pre = dir.resolve("pretrain");
        List<String> shrink = new ArrayList<>(SMALL_TEACHER);
        shrink.addAll(List.of("trainer.epochs=1", "trainer.warmupEpochs=0", "trainer.accumSteps=1",
                "job.student.encoder.baseWidth=4", "job.student.inputSize=64",
                "job.student.decoderWidth=32", "job.student.teacherDim=32", "job.loss.queueSize=16",
                "job.data.imageSize=64", "job.data.batchSize=2", "job.data.workers=1", "job.teacherChunk=0"));
        Run p = run(new ImageNetPretrain(), args(data, "--teacher", teacherFile, "-o", pre, shrink));
        assertEquals(0, p.code(), p.err());
        assertTrue(p.out().contains("distill: completed after 1 epochs, 4 steps"), p.out());
        assertTrue(Files.isRegularFile(pre.resolve("config.json")));
        assertTrue(Files.isRegularFile(pre.resolve("previews").resolve("epoch-0001.png")));
        Path encoder = pre.resolve("student_encoder.safetensors");
        assertTrue(Files.isRegularFile(encoder), p.out());

        Run again = run(new ImageNetPretrain(), args(data, "--teacher", teacherFile, "-o", pre, "--resume", shrink));
        assertEquals(1, again.code());
        assertTrue(again.err().contains("is the end of the run"), again.err());

        Path ft = dir.resolve("finetune");
        Run f = run(new ImageNetFinetune(), args(data, "--encoder", encoder, "-o", ft, List.of("trainer.epochs=1",
                "trainer.warmupEpochs=0", "trainer.accumSteps=1", "job.model.baseWidth=4", "job.mixup.numClasses=2", "job.data.imageSize=64", "job.data.batchSize=2",
                "job.data.workers=1")));
        assertEquals(0, f.code(), f.err());
        assertTrue(f.out().contains("finetune: completed after 1 epochs, 4 steps"), f.out());
        JsonNode saved = new ObjectMapper().readTree(ft.resolve("config.json").toFile());
        assertEquals(2, saved.at("/job/model/numClasses").asInt(), "classes read from the folders");
        assertEquals(encoder.toAbsolutePath().toString(), saved.at("/job/encoderWeights").asText());
    }
}
