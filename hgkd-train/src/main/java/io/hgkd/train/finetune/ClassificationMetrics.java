package io.hgkd.train.finetune;

import java.util.Arrays;
import java.util.Locale;
import java.util.Objects;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * Streaming classification metrics over batches: top-1 and top-5 accuracy (k clipped to the number of classes, as
 * timm's {@code accuracy}), mean loss, per-class accuracy (recall) and a K x K confusion matrix
 * ({@code confusion[true][predicted]}).
 *
 * <p>Ranking rule: the prediction is the first index of the largest logit, and the true class is in the top k when
 * fewer than k classes rank before it, where a class ranks before it with a larger logit or an equal logit and a
 * smaller index. So top-1 correct means exactly "prediction equals label", and ties are resolved the same way in
 * both. NaN logits are rejected. Not thread-safe.
 */
public final class ClassificationMetrics {
    /** The largest k reported. */
    public static final int MAX_K = 5;

    private final int numClasses;
    private final long[][] confusion;
    private final long[] correctAtK;
    private long count;
    private double lossSum;
    private long lossCount;

    /** @param numClasses K &gt;= 1 */
    public ClassificationMetrics(int numClasses) {
        if (numClasses < 1) {
            throw new IllegalArgumentException("numClasses must be >= 1, got " + numClasses);
        }
        this.numClasses = numClasses;
        this.confusion = new long[numClasses][numClasses];
        this.correctAtK = new long[MAX_K + 1];
    }

    /** Number of classes K. */
    public int numClasses() {
        return numClasses;
    }

    /**
     * Adds one batch.
     *
     * @param logits (B, K) scores
     * @param labels B class indices in [0, K)
     */
    public void update(INDArray logits, int[] labels) {
        Objects.requireNonNull(logits, "logits");
        Objects.requireNonNull(labels, "labels");
        if (logits.rank() != 2 || logits.size(1) != numClasses || logits.size(0) != labels.length) {
            throw new IllegalArgumentException("metrics need (B, " + numClasses + ") logits for " + labels.length
                    + " labels, got shape " + Arrays.toString(logits.shape()));
        }
        double[][] x = logits.castTo(DataType.DOUBLE).toDoubleMatrix();
        for (int i = 0; i < labels.length; i++) {
            int y = labels[i];
            if (y < 0 || y >= numClasses) {
                throw new IllegalArgumentException("label " + y + " at position " + i + " is outside [0, "
                        + numClasses + ")");
            }
            double[] row = x[i];
            int pred = 0;
            int rank = 0;
            for (int k = 0; k < numClasses; k++) {
                if (Double.isNaN(row[k])) {
                    throw new IllegalArgumentException("NaN logit at row " + i + ", class " + k);
                }
                if (row[k] > row[pred]) {
                    pred = k;
                }
                if (row[k] > row[y] || (row[k] == row[y] && k < y)) {
                    rank++;
                }
            }
            confusion[y][pred]++;
            for (int k = 1; k <= MAX_K; k++) {
                if (rank < k) {
                    correctAtK[k]++;
                }
            }
        }
        count += labels.length;
    }

    /**
     * Adds one batch with its mean loss; the reported loss is the sample-weighted mean of the batch means.
     *
     * @param meanLoss the batch's mean loss (finite)
     */
    public void update(INDArray logits, int[] labels, double meanLoss) {
        if (!Double.isFinite(meanLoss)) {
            throw new IllegalArgumentException("batch loss is not finite: " + meanLoss);
        }
        update(logits, labels);
        lossSum += meanLoss * labels.length;
        lossCount += labels.length;
    }

    /** Number of samples seen. */
    public long count() {
        return count;
    }

    /**
     * Top-k accuracy in [0, 1] with k clipped to K (so top-5 of a 3-class problem is top-3, i.e. 1).
     *
     * @param k 1..{@link #MAX_K}
     * @throws IllegalStateException when no sample was seen
     */
    public double topK(int k) {
        if (k < 1 || k > MAX_K) {
            throw new IllegalArgumentException("k must be in [1, " + MAX_K + "], got " + k);
        }
        requireSamples();
        return correctAtK[Math.min(k, numClasses)] / (double) count;
    }

    /** Top-1 accuracy in [0, 1]. */
    public double top1() {
        return topK(1);
    }

    /** Top-5 accuracy in [0, 1] (k clipped to K). */
    public double top5() {
        return topK(5);
    }

    /** Mean loss over the samples added with a loss, NaN when none was. */
    public double meanLoss() {
        return lossCount == 0 ? Double.NaN : lossSum / lossCount;
    }

    /** Per-class accuracy (correct / samples of that class); NaN for classes without samples. */
    public double[] perClassAccuracy() {
        double[] out = new double[numClasses];
        for (int c = 0; c < numClasses; c++) {
            long n = Arrays.stream(confusion[c]).sum();
            out[c] = n == 0 ? Double.NaN : confusion[c][c] / (double) n;
        }
        return out;
    }

    /** A copy of the confusion matrix, indexed {@code [true class][predicted class]}. */
    public long[][] confusion() {
        long[][] out = new long[numClasses][];
        for (int c = 0; c < numClasses; c++) {
            out[c] = confusion[c].clone();
        }
        return out;
    }

    private void requireSamples() {
        if (count == 0) {
            throw new IllegalStateException("no samples have been added");
        }
    }

    /**
     * A summary line (samples, top-1, top-5 in percent, loss), per-class accuracy and, for at most 20 classes, the
     * confusion matrix with true classes as rows.
     */
    @Override
    public String toString() {
        if (count == 0) {
            return "ClassificationMetrics[no samples, " + numClasses + " classes]";
        }
        StringBuilder sb = new StringBuilder();
        sb.append(String.format(Locale.ROOT, "samples %d  top-1 %.2f%%  top-5 %.2f%%  loss %.4f%n", count,
                100 * top1(), 100 * top5(), meanLoss()));
        double[] pc = perClassAccuracy();
        sb.append("class  samples  accuracy\n");
        for (int c = 0; c < numClasses; c++) {
            sb.append(String.format(Locale.ROOT, "%5d  %7d  %s%n", c, Arrays.stream(confusion[c]).sum(),
                    Double.isNaN(pc[c]) ? "     -" : String.format(Locale.ROOT, "%6.2f%%", 100 * pc[c])));
        }
        if (numClasses <= 20) {
            int width = Math.max(4, Long.toString(count).length() + 1);
            sb.append("confusion (rows: true, columns: predicted)\n").append(" ".repeat(6));
            for (int c = 0; c < numClasses; c++) {
                sb.append(String.format(Locale.ROOT, "%" + width + "d", c));
            }
            sb.append('\n');
            for (int r = 0; r < numClasses; r++) {
                sb.append(String.format(Locale.ROOT, "%5d ", r));
                for (int c = 0; c < numClasses; c++) {
                    sb.append(String.format(Locale.ROOT, "%" + width + "d", confusion[r][c]));
                }
                sb.append('\n');
            }
        }
        return sb.toString();
    }
}
