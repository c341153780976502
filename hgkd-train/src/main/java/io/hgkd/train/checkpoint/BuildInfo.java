package io.hgkd.train.checkpoint;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Properties;

/**
 * The hgkd version and git commit recorded in every checkpoint, so that a checkpoint can be traced to the code that
 * wrote it.
 *
 * <p>The version comes from {@code build.properties}, filtered by Maven at build time. The commit is not known to a
 * jar, so it is taken from the environment: the variable {@value #GIT_SHA_ENV} when set, otherwise the first line of
 * the file named by {@value #GIT_SHA_FILE_ENV} (e.g. written by a launcher script with {@code git rev-parse HEAD});
 * null when neither is available.
 */
public final class BuildInfo {
    /** Environment variable holding the git commit of the running code. */
    public static final String GIT_SHA_ENV = "HGKD_GIT_SHA";
    /** Environment variable naming a file whose first line is the git commit. */
    public static final String GIT_SHA_FILE_ENV = "HGKD_GIT_SHA_FILE";

    private static final String VERSION = loadVersion();

    private BuildInfo() {
    }

    /** The hgkd version ({@code 0.1.0-SNAPSHOT}), or {@code "unknown"} when the build resource is missing. */
    public static String version() {
        return VERSION;
    }

    /** The git commit from the environment (see the class comment), or null. */
    public static String gitSha() {
        String sha = System.getenv(GIT_SHA_ENV);
        if (sha != null && !sha.isBlank()) {
            return sha.strip();
        }
        String file = System.getenv(GIT_SHA_FILE_ENV);
        if (file != null && !file.isBlank()) {
            try {
                String first = Files.readString(Path.of(file), StandardCharsets.UTF_8).lines().findFirst().orElse("");
                return first.isBlank() ? null : first.strip();
            } catch (IOException e) {
                // A missing commit must not stop a training run from saving its checkpoint.
                return null;
            }
        }
        return null;
    }

    private static String loadVersion() {
        try (InputStream in = BuildInfo.class.getResourceAsStream("build.properties")) {
            if (in == null) {
                return "unknown";
            }
            Properties p = new Properties();
            p.load(in);
            String v = p.getProperty("version", "unknown");
            // Unfiltered (e.g. run from an IDE without Maven resources processing).
            return v.startsWith("${") ? "unknown" : v;
        } catch (IOException e) {
            return "unknown";
        }
    }
}
