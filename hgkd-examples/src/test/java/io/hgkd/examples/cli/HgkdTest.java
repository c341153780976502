package io.hgkd.examples.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.hgkd.core.testing.Fixtures;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code hgkd} end to end through picocli: output, exit codes and error messages. */
class HgkdTest {
    private static final Path MAE = Fixtures.file("checkpoints/mae_tiny.safetensors").toPath();

    @TempDir
    Path dir;

    /** Exit code, stdout and stderr of one run. */
    record Run(int code, String out, String err) {
    }

    private static Run run(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int code = Hgkd.execute(args, new PrintWriter(out), new PrintWriter(err));
        return new Run(code, out.toString(), err.toString());
    }

    @Test
    void inspectListsTensorsMetadataAndArchitecture() {
        Run r = run("inspect", MAE.toString());
        assertEquals(0, r.code(), r.err());
        String o = r.out();
        assertTrue(o.startsWith("name"), o);
        assertTrue(o.matches("(?s).*\\nmodel\\.cls_token +F32 +\\[1, 1, 16\\]\\n.*"), o);
        assertTrue(o.matches("(?s).*\\nmodel\\.pos_embed +F16 +\\[1, 5, 16\\]\\n.*"), o);
        assertTrue(o.contains("(30 of 50 tensors listed; --all lists every one)"), o);
        assertFalse(o.contains("model.decoder_pred.bias"), "beyond the first 30");
        assertTrue(o.contains("file:          " + MAE + " (safetensors, 33,768 bytes)"), o);
        assertTrue(o.contains("tensors:       50 (1 BF16, 14 F16, 35 F32)"), o);
        assertTrue(o.matches("(?s).*\\n  epoch +799\\n.*"), o);
        assertTrue(o.contains("architecture:  MAE pretraining checkpoint with decoder: decoder 8-d, 1 block, "
                + "predicting 48 values per patch"), o);
        assertTrue(o.contains("encoder ViT (no timm variant matches): ViT, embed dim 16, depth 2"), o);
        assertTrue(o.contains("keys wrapped in 'model.'"), o);
        assertEquals("", r.err());
    }

    @Test
    void inspectAllListsEveryTensorAndLimitCanBeZero() {
        Run all = run("inspect", "--all", MAE.toString());
        assertEquals(0, all.code(), all.err());
        assertTrue(all.out().contains("model.decoder_pred.bias"), all.out());
        assertFalse(all.out().contains("tensors listed"), all.out());
        Run none = run("inspect", "-n", "0", MAE.toString());
        assertEquals(0, none.code(), none.err());
        assertTrue(none.out().startsWith("(0 of 50 tensors listed"), none.out());
    }

    @Test
    void inspectReadsNpzToo() {
        Path npz = Fixtures.file("checkpoints/mae_tiny_expected.npz").toPath();
        Run r = run("inspect", npz.toString());
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("(npz, "), r.out());
        assertTrue(r.out().contains("metadata:      none"), r.out());
        assertTrue(r.out().contains("architecture:  ViT (no timm variant matches): ViT, embed dim 16, depth 2"),
                r.out());
    }

    @Test
    void aMalformedFileExitsOneWithAMessageNamingTheFile() throws IOException {
        byte[] all = Files.readAllBytes(MAE);
        Path cut = Files.write(dir.resolve("cut.safetensors"), Arrays.copyOf(all, all.length / 2));
        Run r = run("inspect", cut.toString());
        assertEquals(1, r.code());
        assertTrue(r.err().startsWith("hgkd inspect: error: " + cut + ": "), r.err());
        assertFalse(r.err().contains("\tat "), "no stack trace without --debug: " + r.err());
        assertEquals("", r.out());

        Run debug = run("inspect", "--debug", cut.toString());
        assertEquals(1, debug.code());
        assertTrue(debug.err().contains("\tat io.hgkd."), "--debug prints the stack trace: " + debug.err());
        Run verbose = run("-v", "inspect", cut.toString());
        assertTrue(verbose.err().contains("\tat io.hgkd."), "-v before the command works too: " + verbose.err());
    }

    @Test
    void aPthFileGetsTheConversionCommand() throws IOException {
        Path pth = Files.write(dir.resolve("mae_pretrain_vit_base.pth"), new byte[] {(byte) 0x80, 2, 1, 2});
        Run r = run("inspect", pth.toString());
        assertEquals(1, r.code());
        assertTrue(r.err().contains("python3 tools/pth_to_safetensors.py " + pth + " "
                + dir.resolve("mae_pretrain_vit_base.safetensors")), r.err());
    }

    @Test
    void aMissingFileExitsOne() {
        Path missing = dir.resolve("missing.safetensors");
        Run r = run("inspect", missing.toString());
        assertEquals(1, r.code());
        assertEquals("hgkd inspect: error: " + missing + ": no such file" + System.lineSeparator(), r.err());
    }

    @Test
    void usageErrorsExitTwo() {
        Run none = run();
        assertEquals(2, none.code());
        assertTrue(none.err().contains("Missing command: choose one of [inspect, forward, pretrain-teacher, distill, finetune, finetune-vit, probe, eval, export, quickstart]"), none.err());
        Run noFile = run("inspect");
        assertEquals(2, noFile.code());
        assertTrue(noFile.err().contains("Missing required parameter: 'FILE'"), noFile.err());
        assertTrue(noFile.err().contains("Try 'hgkd inspect --help'"), noFile.err());
        assertEquals(2, run("inspect", "--bogus", MAE.toString()).code());
        assertEquals(2, run("inspect", "-n", "-1", MAE.toString()).code());
        Run unknown = run("inpsect", MAE.toString());
        assertEquals(2, unknown.code());
        assertTrue(unknown.err().contains("inspect"), "suggests the right command: " + unknown.err());
    }

    @Test
    void helpAndVersion() {
        Run help = run("--help");
        assertEquals(0, help.code());
        assertTrue(help.out().contains("Usage: hgkd"), help.out());
        assertTrue(help.out().matches("(?s).*\\n  inspect +List a checkpoint's tensors and name the architecture.*"),
                help.out());
        Run inspectHelp = run("inspect", "--help");
        assertEquals(0, inspectHelp.code());
        assertTrue(inspectHelp.out().contains("--all"), inspectHelp.out());
        Run helpCmd = run("help", "inspect");
        assertEquals(0, helpCmd.code());
        assertTrue(helpCmd.out().contains("Usage: hgkd inspect"), helpCmd.out());
        Run version = run("--version");
        assertEquals(0, version.code());
        assertTrue(version.out().startsWith("hgkd 0.1.0-SNAPSHOT"), version.out());
        assertTrue(version.out().contains("ND4J 1.0.0-M2.1"), version.out());
    }
}
