package io.hgkd.examples.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.hgkd.core.io.Npz;
import io.hgkd.core.io.SafeTensors;
import io.hgkd.core.testing.DetRandom;
import io.hgkd.core.testing.Fixtures;
import io.hgkd.core.testing.Parity;
import io.hgkd.models.ModelFixtures;
import io.hgkd.models.vit.VisionTransformer;
import io.hgkd.models.vit.VitConfig;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * {@code hgkd forward} end to end: weights written to a safetensors file, the input to an .npy, the CLI run, its output
 * compared with PyTorch's (torchvision ResNet-18/50 and a timm-named ViT; references from
 * {@code tools/reference/make_resnet_fixtures.py} and {@code make_vit_fixtures.py} with DetRandom weights).
 */
class ForwardCommandTest {
    @TempDir
    Path dir;

    private static String[] run(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int code = Hgkd.execute(args, new PrintWriter(out), new PrintWriter(err));
        assertEquals(0, code, "hgkd " + String.join(" ", args) + " failed:\n" + err);
        return new String[] {out.toString(), err.toString()};
    }

    private Path torchvisionWeights(String keys) throws Exception {
        Path w = dir.resolve(keys + ".safetensors");
        SafeTensors.write(w, ModelFixtures.detState(ModelFixtures.keys(keys)));
        return w;
    }

    @Test
    void torchvisionResnet18Logits() throws Exception {
        Fixtures.Case c = ModelFixtures.load("tv_resnet18_eval");
        Path x = dir.resolve("x.npy");
        Npz.writeNpy(x, ModelFixtures.input("tv_resnet18_eval", 2, 3, 64, 64));
        Path y = dir.resolve("y.npy");
        run("forward", "--model", "resnet18", "--num-classes", "10", "--strict", "--weights",
                torchvisionWeights("tv_resnet18_keys.txt").toString(), "--input", x.toString(), "--output", y.toString());
        ModelFixtures.forward(c, "logits", Npz.readNpy(y));
    }

    @Test
    void torchvisionResnet50LogitsAndFeatures() throws Exception {
        Fixtures.Case c = ModelFixtures.load("tv_resnet50_eval");
        Path x = dir.resolve("x.npy");
        Npz.writeNpy(x, ModelFixtures.input("tv_resnet50_eval", 2, 3, 64, 64));
        Path w = torchvisionWeights("tv_resnet50_keys.txt");
        Path y = dir.resolve("y.npy");
        run("forward", "-m", "resnet50", "--num-classes", "10", "-w", w.toString(), "-i", x.toString(), "-o",
                y.toString());
        ModelFixtures.forward(c, "logits", Npz.readNpy(y));
        Path f = dir.resolve("f.npz");
        String[] r = run("forward", "-m", "resnet50", "--num-classes", "10", "-w", w.toString(), "-i", x.toString(),
                "-o", f.toString(), "--features");
        Map<String, INDArray> feats = Npz.read(f);
        assertEquals(java.util.List.of("layer1", "layer2", "layer3", "layer4"), java.util.List.copyOf(feats.keySet()));
        for (int i = 0; i < 4; i++) {
            ModelFixtures.forward(c, "feat." + i, feats.get("layer" + (i + 1)));
        }
        assertTrue(r[0].contains("layer4 [2, 2048, 2, 2]"), r[0]);
    }

    @Test
    void timmNamedVitTokensFromAnMaeStyleFile() throws Exception {
        String name = "vit_tiny_patch16_224_full";
        Fixtures.Case c = io.hgkd.models.vit.ModelFixtures.load(name);
        VisionTransformer src = new VisionTransformer(VitConfig.named("vit_tiny_patch16_224").withNumClasses(0));
        io.hgkd.models.vit.ModelFixtures.detInit(src, c);
        // wrapped as MAE's release files are ({'model': ...}, flattened by tools/pth_to_safetensors.py)
        Map<String, INDArray> sd = new LinkedHashMap<>();
        src.stateDict().forEach((k, v) -> sd.put("model." + k, v));
        Path w = dir.resolve("vit.safetensors");
        SafeTensors.write(w, sd);
        Path x = dir.resolve("x.npy");
        Npz.writeNpy(x, DetRandom.uniform("input", c.get("salt").getLong(0), -2, 2, 2, 3, 224, 224));
        Path y = dir.resolve("tokens.npy");
        String[] r = run("forward", "-m", "vit_tiny_patch16_224", "--num-classes", "0", "-w", w.toString(), "-i",
                x.toString(), "-o", y.toString());
        Parity.forward(name, "cli tokens", c.get("tokens"), Npz.readNpy(y));
        assertTrue(r[0].contains("tokens [2, 197, 192]"), r[0]);
    }

    @Test
    void mismatchedWeightsAndInputsAreNamed() throws Exception {
        Path w = torchvisionWeights("tv_resnet18_keys.txt");
        StringWriter err = new StringWriter();
        int code = Hgkd.execute(new String[] {"forward", "-m", "resnet34", "-w", w.toString(), "-o",
            dir.resolve("y.npy").toString()}, new PrintWriter(new StringWriter()), new PrintWriter(err));
        assertEquals(Hgkd.ERROR, code);
        assertTrue(err.toString().contains("does not fit resnet34") && err.toString().contains("layer1.2"),
                err.toString());
        Path x = dir.resolve("x.npy");
        Npz.writeNpy(x, ModelFixtures.input("any", 1, 1, 32, 32));
        err = new StringWriter();
        code = Hgkd.execute(new String[] {"forward", "-m", "resnet18", "-i", x.toString(), "-o",
            dir.resolve("y.npy").toString()}, new PrintWriter(new StringWriter()), new PrintWriter(err));
        assertEquals(Hgkd.ERROR, code);
        assertTrue(err.toString().contains("expected an NCHW batch with 3 channels"), err.toString());
        err = new StringWriter();
        code = Hgkd.execute(new String[] {"forward", "-m", "resnet18", "--stem", "huge", "-o", "y.npy"},
                new PrintWriter(new StringWriter()), new PrintWriter(err));
        assertEquals(Hgkd.USAGE, code);
        assertTrue(err.toString().contains("stem must be one of"), err.toString());
    }
}
