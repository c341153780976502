package io.hgkd.core.testing;

import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.Map;
import org.nd4j.linalg.api.ndarray.INDArray;
import io.hgkd.core.io.Npz;

/**
 * Loads reference fixtures written by the PyTorch scripts in {@code tools/reference} from {@code src-test-data}.
 * The folder comes from the {@code hgkd.testdata} system property (set by the parent POM) or is found by walking up
 * from the working directory.
 */
public final class Fixtures {
    private Fixtures() {
    }

    /** The {@code src-test-data} folder. */
    public static Path root() {
        String p = System.getProperty("hgkd.testdata");
        if (p != null && Files.isDirectory(Paths.get(p))) {
            return Paths.get(p);
        }
        Path dir = Paths.get("").toAbsolutePath();
        while (dir != null) {
            Path c = dir.resolve("src-test-data");
            if (Files.isDirectory(c)) {
                return c;
            }
            dir = dir.getParent();
        }
        throw new IllegalStateException("src-test-data not found (set -Dhgkd.testdata)");
    }

    /** A file under {@code src-test-data}, which must exist. */
    public static File file(String relative) {
        File f = root().resolve(relative).toFile();
        if (!f.isFile()) {
            throw new IllegalStateException("missing fixture " + f + ": regenerate with tools/reference (see its README)");
        }
        return f;
    }

    /** All arrays of {@code src-test-data/parity/<name>.npz}, keyed as written by numpy (without {@code .npy}). */
    public static Case parity(String name) {
        return new Case(name, load("parity/" + name + ".npz"));
    }

    /** All arrays of an npz file under {@code src-test-data}. */
    public static Map<String, INDArray> load(String relative) {
        try {
            return Npz.read(file(relative).toPath());
        } catch (Exception e) {
            throw new IllegalStateException("cannot read fixture " + relative + ": " + e, e);
        }
    }

    /** One parity case: named arrays with helpful errors for missing keys. */
    public record Case(String name, Map<String, INDArray> arrays) {
        /** The array under {@code key}; throws naming the case and the available keys when absent. */
        public INDArray get(String key) {
            INDArray a = arrays.get(key);
            if (a == null) {
                throw new IllegalStateException("fixture " + name + " has no key '" + key + "'; keys: " + arrays.keySet());
            }
            return a;
        }

        public boolean has(String key) {
            return arrays.containsKey(key);
        }
    }
}
