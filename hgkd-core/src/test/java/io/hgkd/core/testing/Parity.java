package io.hgkd.core.testing;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.nio.file.StandardOpenOption;
import java.util.Locale;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * Compares Java results with PyTorch references and records the errors.
 *
 * <p>An element passes when {@code |actual - expected| <= atol + rtol * |expected|}. Every comparison appends a row
 * (case, tensor, max abs error, max abs error / max(max |expected|, 1e-3), element count) to {@code target/parity-report.tsv} of the running module;
 * {@code tools/parity_report.py} turns those rows into {@code docs/parity.md}.
 */
public final class Parity {
    /** Forward tolerance in fp32: relative 1e-4, absolute 1e-5. */
    public static final double FWD_RTOL = 1e-4;
    public static final double FWD_ATOL = 1e-5;
    /** Gradient tolerance in fp32: relative 1e-3, absolute 1e-4. */
    public static final double GRAD_RTOL = 1e-3;
    public static final double GRAD_ATOL = 1e-4;

    private Parity() {
    }

    /** Forward comparison with the forward tolerances. */
    public static void forward(String caseName, String tensor, INDArray expected, INDArray actual) {
        assertClose(caseName, tensor, expected, actual, FWD_RTOL, FWD_ATOL);
    }

    /** Gradient comparison with the gradient tolerances. */
    public static void gradient(String caseName, String tensor, INDArray expected, INDArray actual) {
        assertClose(caseName, tensor, expected, actual, GRAD_RTOL, GRAD_ATOL);
    }

    /** Element-wise comparison; records the errors, then fails naming the worst element if out of tolerance. */
    public static void assertClose(String caseName, String tensor, INDArray expected, INDArray actual, double rtol,
                                   double atol) {
        assertArrayEquals(expected.shape(), actual.shape(), caseName + "/" + tensor + ": shape");
        INDArray e = expected.castTo(DataType.DOUBLE).reshape(expected.length());
        INDArray a = actual.castTo(DataType.DOUBLE).dup('c').reshape(actual.length());
        double maxAbs = 0;
        double maxExpected = 0;
        long worst = -1;
        double worstExcess = 0;
        for (long i = 0; i < e.length(); i++) {
            double ev = e.getDouble(i);
            double av = a.getDouble(i);
            double abs = Math.abs(av - ev);
            if (Double.isNaN(av) != Double.isNaN(ev)) {
                fail(caseName + "/" + tensor + "[" + i + "]: expected " + ev + ", got " + av);
            }
            maxAbs = Math.max(maxAbs, abs);
            maxExpected = Math.max(maxExpected, Math.abs(ev));
            double excess = abs - (atol + rtol * Math.abs(ev));
            if (excess > worstExcess) {
                worstExcess = excess;
                worst = i;
            }
        }
        // relative error reported norm-wise, max abs error / max(max |expected|, 1e-3): element-wise ratios explode
        // near 0, and some reference gradients are exactly 0 (a conv bias followed by BN)
        record(caseName, tensor, maxAbs, maxAbs / Math.max(maxExpected, 1e-3), expected.length());
        if (worst >= 0) {
            fail(String.format(Locale.ROOT, "%s/%s out of tolerance (rtol %.0e, atol %.0e) at flat index %d: expected"
                            + " %.8g, got %.8g; max abs error %.3e", caseName, tensor, rtol, atol, worst,
                    e.getDouble(worst), a.getDouble(worst), maxAbs));
        }
    }

    /** Asserts exact equality (used for masks, layouts and other integer-valued results). */
    public static void exact(String caseName, String tensor, INDArray expected, INDArray actual) {
        assertClose(caseName, tensor, expected, actual, 0, 0);
    }

    private static synchronized void record(String caseName, String tensor, double maxAbs, double maxRel, long n) {
        Path out = Paths.get("target", "parity-report.tsv");
        String row = String.format(Locale.ROOT, "%s\t%s\t%.3e\t%.3e\t%d%n", caseName, tensor, maxAbs, maxRel, n);
        try {
            Files.createDirectories(out.getParent());
            Files.writeString(out, row, StandardCharsets.UTF_8, StandardOpenOption.CREATE, StandardOpenOption.APPEND);
        } catch (IOException ex) {
            // the report is documentation only; a read-only target must not fail the parity test itself
        }
    }
}
