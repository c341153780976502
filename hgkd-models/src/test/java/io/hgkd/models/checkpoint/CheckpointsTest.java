package io.hgkd.models.checkpoint;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.hgkd.core.io.TensorFormatException;
import io.hgkd.core.testing.Fixtures;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Bad inputs: the errors name the file and say what to do. */
class CheckpointsTest {
    @TempDir
    Path dir;

    private static final Path MAE = Fixtures.file("checkpoints/mae_tiny.safetensors").toPath();

    /** A minimal file in torch.save's zip layout (archive/data.pkl, ...), enough for the content sniffing. */
    private Path torchZip(String name) throws IOException {
        Path p = dir.resolve(name);
        try (ZipOutputStream z = new ZipOutputStream(Files.newOutputStream(p))) {
            z.putNextEntry(new ZipEntry("archive/data.pkl"));
            z.write(new byte[] {(byte) 0x80, 2, '}', 'q', 0, '.'});
            z.closeEntry();
            z.putNextEntry(new ZipEntry("archive/data/0"));
            z.write(new byte[16]);
            z.closeEntry();
        }
        return p;
    }

    @Test
    void aPthFileGetsTheConversionCommand() throws IOException {
        Path pth = torchZip("mae_pretrain_vit_base.pth");
        TensorFormatException e = assertThrows(TensorFormatException.class, () -> Checkpoints.read(pth));
        String msg = e.getMessage();
        assertTrue(msg.startsWith(pth + ": PyTorch checkpoints (.pth) cannot be read from Java"), msg);
        String command = "python3 tools/pth_to_safetensors.py " + pth + " "
                + dir.resolve("mae_pretrain_vit_base.safetensors");
        assertTrue(msg.contains(command), msg);
        assertEquals(pth, e.file());
        assertEquals(command, Checkpoints.conversionCommand(pth));
        for (String ext : new String[] {".pt", ".bin", ".ckpt", ".PTH"}) {
            Path other = Files.write(dir.resolve("w" + ext), new byte[] {1, 2, 3});
            String m = assertThrows(TensorFormatException.class, () -> Checkpoints.inspect(other)).getMessage();
            assertTrue(m.contains("cannot be read from Java") && m.contains("tools/pth_to_safetensors.py"), m);
        }
    }

    @Test
    void otherExtensionsSayWhatTheContentLooksLike() throws IOException {
        Path st = Files.copy(MAE, dir.resolve("weights.data"));
        String m1 = assertThrows(TensorFormatException.class, () -> Checkpoints.read(st)).getMessage();
        assertTrue(m1.startsWith(st + ": unsupported checkpoint extension '.data' (hgkd reads .safetensors and .npz)"),
                m1);
        assertTrue(m1.contains("looks like a safetensors file: rename it to end in .safetensors"), m1);

        Path torch = torchZip("model");
        String m2 = assertThrows(TensorFormatException.class, () -> Checkpoints.read(torch)).getMessage();
        assertTrue(m2.contains("a file without an extension"), m2);
        assertTrue(m2.contains("looks like a PyTorch checkpoint (torch.save zip archive)"), m2);
        assertTrue(m2.contains("python3 tools/pth_to_safetensors.py " + torch + " " + torch + ".safetensors"), m2);

        Path npz = Files.copy(Fixtures.file("checkpoints/mae_tiny_expected.npz").toPath(), dir.resolve("e.zip"));
        String m3 = assertThrows(TensorFormatException.class, () -> Checkpoints.read(npz)).getMessage();
        assertTrue(m3.contains("looks like an npz archive: rename it to end in .npz"), m3);

        Path text = Files.writeString(dir.resolve("notes.txt"), "hello");
        String m4 = assertThrows(TensorFormatException.class, () -> Checkpoints.read(text)).getMessage();
        assertTrue(m4.contains("looks like unrecognised content"), m4);

        Path pickle = Files.write(dir.resolve("legacy.tar"), new byte[] {(byte) 0x80, 2, (byte) 0x8a, 10});
        assertEquals("a Python pickle (legacy torch.save format)", Checkpoints.sniff(pickle));
        assertEquals("an empty file", Checkpoints.sniff(Files.write(dir.resolve("empty"), new byte[0])));
    }

    @Test
    void aTruncatedSafetensorsFileIsRejectedNamingTheFile() throws IOException {
        byte[] all = Files.readAllBytes(MAE);
        Path cut = Files.write(dir.resolve("cut.safetensors"), Arrays.copyOf(all, all.length - 100));
        TensorFormatException e = assertThrows(TensorFormatException.class, () -> Checkpoints.read(cut));
        assertTrue(e.getMessage().startsWith(cut + ": "), e.getMessage());
        assertEquals(cut, e.file());
        assertThrows(TensorFormatException.class, () -> Checkpoints.inspect(cut));

        Path header = Files.write(dir.resolve("header.safetensors"), Arrays.copyOf(all, 100));
        TensorFormatException h = assertThrows(TensorFormatException.class, () -> Checkpoints.inspect(header));
        assertTrue(h.getMessage().startsWith(header + ": truncated"), h.getMessage());
    }

    @Test
    void aBrokenNpzIsRejectedNamingTheFile() throws IOException {
        Path bad = Files.writeString(dir.resolve("bad.npz"), "not a zip", StandardCharsets.UTF_8);
        TensorFormatException e = assertThrows(TensorFormatException.class, () -> Checkpoints.read(bad));
        assertTrue(e.getMessage().startsWith(bad + ": "), e.getMessage());
    }

    @Test
    void missingFilesAndDirectories() throws IOException {
        Path missing = dir.resolve("nope.safetensors");
        NoSuchFileException e = assertThrows(NoSuchFileException.class, () -> Checkpoints.read(missing));
        assertEquals(missing + ": no such file", e.getMessage());
        Path sub = Files.createDirectory(dir.resolve("ckpt.safetensors"));
        IOException d = assertThrows(IOException.class, () -> Checkpoints.read(sub));
        assertTrue(d.getMessage().contains("is a directory"), d.getMessage());
    }

    @Test
    void loadIntoFromAFileNamesTheFileInMappingErrors() throws IOException {
        Path st = Files.copy(MAE, dir.resolve("mae.safetensors"));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> LoadPlan.sparkEncoder().loadInto(ShapeModule.of(java.util.Map.of()), st, false));
        assertTrue(e.getMessage().startsWith(st + ": no key is under 'sparse_encoder.sp_cnn.'"), e.getMessage());
    }

    @Test
    void conversionCommandQuotesPathsForTheShell() {
        assertEquals("python3 tools/pth_to_safetensors.py 'my dir/w.pth' 'my dir/w.safetensors'",
                Checkpoints.conversionCommand(Path.of("my dir/w.pth")));
        assertEquals("python3 tools/pth_to_safetensors.py 'it'\\''s.pt' 'it'\\''s.safetensors'",
                Checkpoints.conversionCommand(Path.of("it's.pt")));
        assertEquals("python3 tools/pth_to_safetensors.py a.b/ckpt a.b/ckpt.safetensors",
                Checkpoints.conversionCommand(Path.of("a.b/ckpt")), "a dot in a directory is not an extension");
    }
}
