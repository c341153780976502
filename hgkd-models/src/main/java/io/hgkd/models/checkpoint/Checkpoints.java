package io.hgkd.models.checkpoint;

import io.hgkd.core.io.Npz;
import io.hgkd.core.io.SafeTensors;
import io.hgkd.core.io.TensorFormatException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Collections;
import java.util.Enumeration;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Pattern;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * Reads checkpoint files: {@code .safetensors} (timm hub {@code model.safetensors}, files converted by
 * {@code tools/pth_to_safetensors.py}) and {@code .npz}, chosen by extension.
 *
 * <p>PyTorch pickles ({@code .pth}, {@code .pt}, {@code .bin}, {@code .ckpt}) are not read: they are zip archives of
 * Python pickles that only Python can interpret safely. Loading one gives an error that names the file and the exact
 * command that converts it once, offline.
 *
 * <p>All errors about a file's content are {@link TensorFormatException}s whose message starts with the file.
 */
public final class Checkpoints {
    /** The file formats hgkd reads. */
    public enum Format {
        /** Hugging Face safetensors. */
        SAFETENSORS,
        /** A numpy {@code .npz} archive. */
        NPZ
    }

    /** The converter's path inside the hgkd repository. */
    public static final String CONVERTER = "tools/pth_to_safetensors.py";

    private static final Pattern SHELL_SAFE = Pattern.compile("[A-Za-z0-9_./=:@%+,-]+");

    private Checkpoints() {
    }

    /**
     * Reads every tensor of a {@code .safetensors} or {@code .npz} file, in file order (a {@link LinkedHashMap}).
     * F16 and BF16 tensors come back as FLOAT (exactly), from either format; F64 and integer tensors keep their type.
     *
     * @throws NoSuchFileException   when the file does not exist
     * @throws TensorFormatException when the extension is not one hgkd reads (the message says how to convert the
     *                               file) or the content is malformed (truncated, bad header, ...)
     * @throws IOException           when the file cannot be read
     */
    public static Map<String, INDArray> read(Path file) throws IOException {
        Format format = format(file);
        if (format == Format.SAFETENSORS) {
            return SafeTensors.read(file);
        }
        Map<String, INDArray> arrays = Npz.read(file);
        arrays.replaceAll((k, v) -> v.dataType() == DataType.FLOAT16 || v.dataType() == DataType.BFLOAT16
                ? v.castTo(DataType.FLOAT) : v);
        return arrays;
    }

    /**
     * Describes a checkpoint without keeping its data: names, dtypes and shapes, metadata and size. A safetensors
     * file is described from its header alone (a ViT-H file takes milliseconds); an npz archive is read once.
     *
     * @throws NoSuchFileException   when the file does not exist
     * @throws TensorFormatException as {@link #read}
     */
    public static CheckpointInfo inspect(Path file) throws IOException {
        Format format = format(file);
        long bytes = Files.size(file);
        Map<String, TensorSpec> specs = new LinkedHashMap<>();
        if (format == Format.SAFETENSORS) {
            SafeTensors.Header h = SafeTensors.readHeader(file);
            h.tensors().forEach((name, t) -> specs.put(name, new TensorSpec(t.dtype(), t.shape())));
            return new CheckpointInfo(file, format, bytes, specs, h.metadata());
        }
        for (Map.Entry<String, INDArray> e : Npz.read(file).entrySet()) {
            specs.put(e.getKey(), TensorSpec.of(e.getValue()));
            e.getValue().close(); // only the header was wanted; free the off-heap data now
        }
        return new CheckpointInfo(file, format, bytes, specs, Collections.emptyMap());
    }

    /**
     * The format of {@code file}, by extension (case-insensitive).
     *
     * @throws NoSuchFileException   when the file does not exist
     * @throws TensorFormatException when the extension is not {@code .safetensors} or {@code .npz}, with a message
     *                               that says what the file looks like and how to convert it
     * @throws IOException           when the path is a directory
     */
    public static Format format(Path file) throws IOException {
        if (!Files.exists(file)) {
            throw new NoSuchFileException(file.toString(), null, "no such file");
        }
        if (Files.isDirectory(file)) {
            throw new IOException(file + ": is a directory, not a checkpoint file");
        }
        String name = file.getFileName().toString().toLowerCase(Locale.ROOT);
        if (name.endsWith(".safetensors")) {
            return Format.SAFETENSORS;
        }
        if (name.endsWith(".npz")) {
            return Format.NPZ;
        }
        throw new TensorFormatException(file, unsupportedMessage(file, name));
    }

    private static String unsupportedMessage(Path file, String name) {
        int dot = name.lastIndexOf('.');
        String ext = dot < 0 ? "" : name.substring(dot);
        String content = sniff(file);
        String convert = "convert it once with PyTorch, using " + CONVERTER + " from the hgkd repository: "
                + conversionCommand(file) + " (add --list to see its tensors first)";
        if (ext.equals(".pth") || ext.equals(".pt") || ext.equals(".bin") || ext.equals(".ckpt")) {
            return "PyTorch checkpoints (" + ext + ") cannot be read from Java; " + convert;
        }
        String what = ext.isEmpty() ? "a file without an extension" : "extension '" + ext + "'";
        String prefix = "unsupported checkpoint " + what + " (hgkd reads .safetensors and .npz); ";
        if (content.startsWith("a safetensors")) {
            return prefix + "the content looks like a safetensors file: rename it to end in .safetensors";
        }
        if (content.startsWith("an npz")) {
            return prefix + "the content looks like an npz archive: rename it to end in .npz";
        }
        if (content.startsWith("a PyTorch") || content.startsWith("a Python pickle")) {
            return prefix + "the content looks like " + content + "; " + convert;
        }
        return prefix + "the content looks like " + content + "; if it was written by torch.save, " + convert;
    }

    /**
     * The shell command that converts {@code file} to safetensors next to it, e.g.
     * {@code python3 tools/pth_to_safetensors.py mae_pretrain_vit_base.pth mae_pretrain_vit_base.safetensors}.
     */
    public static String conversionCommand(Path file) {
        String name = file.toString();
        int dot = name.lastIndexOf('.');
        int slash = name.lastIndexOf(file.getFileSystem().getSeparator());
        String stem = dot > slash + 1 ? name.substring(0, dot) : name;
        return "python3 " + CONVERTER + " " + quote(name) + " " + quote(stem + ".safetensors");
    }

    /**
     * What the first bytes of {@code file} look like, for error messages: {@code "a PyTorch checkpoint (torch.save zip
     * archive)"}, {@code "a Python pickle (legacy torch.save)"}, {@code "a safetensors file"}, {@code "an npz
     * archive"}, {@code "a single .npy array"}, {@code "a zip archive"}, {@code "an empty file"} or
     * {@code "unrecognised content"}. Never throws.
     */
    public static String sniff(Path file) {
        byte[] head = new byte[16];
        int n;
        long size;
        try (InputStream in = Files.newInputStream(file)) {
            n = in.readNBytes(head, 0, head.length);
            size = Files.size(file);
        } catch (IOException e) {
            return "an unreadable file (" + e.getMessage() + ")";
        }
        if (n == 0) {
            return "an empty file";
        }
        if (n >= 4 && head[0] == 'P' && head[1] == 'K' && head[2] == 3 && head[3] == 4) {
            return sniffZip(file);
        }
        if ((head[0] & 0xff) == 0x80 && n > 1 && head[1] >= 2 && head[1] <= 5) {
            return "a Python pickle (legacy torch.save format)";
        }
        if (n >= 6 && (head[0] & 0xff) == 0x93 && head[1] == 'N' && head[2] == 'U' && head[3] == 'M' && head[4] == 'P'
                && head[5] == 'Y') {
            return "a single .npy array";
        }
        if (n >= 9 && head[8] == '{') {
            long len = ByteBuffer.wrap(head, 0, 8).order(ByteOrder.LITTLE_ENDIAN).getLong();
            if (len > 0 && len <= size - 8) {
                return "a safetensors file";
            }
        }
        return "unrecognised content";
    }

    private static String sniffZip(Path file) {
        try (ZipFile zip = new ZipFile(file.toFile())) {
            boolean allNpy = true;
            boolean any = false;
            for (Enumeration<? extends ZipEntry> en = zip.entries(); en.hasMoreElements(); ) {
                String name = en.nextElement().getName();
                if (name.equals("data.pkl") || name.endsWith("/data.pkl")) {
                    return "a PyTorch checkpoint (torch.save zip archive)";
                }
                any = true;
                allNpy &= name.endsWith(".npy") || name.endsWith("/");
            }
            return any && allNpy ? "an npz archive" : "a zip archive";
        } catch (IOException e) {
            return "a damaged zip archive";
        }
    }

    private static String quote(String s) {
        return SHELL_SAFE.matcher(s).matches() ? s : "'" + s.replace("'", "'\\''") + "'";
    }
}
