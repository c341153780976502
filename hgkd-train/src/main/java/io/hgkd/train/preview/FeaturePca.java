package io.hgkd.train.preview;

import java.util.Arrays;
import java.util.Comparator;
import java.util.stream.IntStream;
import org.apache.commons.math3.linear.Array2DRowRealMatrix;
import org.apache.commons.math3.linear.EigenDecomposition;
import org.apache.commons.math3.linear.RealVector;

/**
 * Colours feature vectors by their first three principal components, so a student's predicted features and the
 * teacher's can be compared by eye: the PCA is fit on the teacher's features only, and both are projected on the
 * same basis and mapped to colour with the same ranges.
 *
 * <p>Component k (0, 1, 2 = red, green, blue) is the eigenvector of the teacher features' covariance with the k-th
 * largest eigenvalue, signed so that its largest-magnitude entry is positive (an eigenvector's sign is arbitrary;
 * fixing it keeps colours stable between epochs). A projection maps linearly from the teacher projections' minimum
 * (0) to their maximum (255), clamped; a component without spread, or missing because D &lt; 3, is 0.
 */
public final class FeaturePca {
    /** Number of components used (one per colour channel). */
    public static final int COMPONENTS = 3;

    private final double[] mean;
    private final double[][] basis;
    private final double[] lo;
    private final double[] hi;

    private FeaturePca(double[] mean, double[][] basis, double[] lo, double[] hi) {
        this.mean = mean;
        this.basis = basis;
        this.lo = lo;
        this.hi = hi;
    }

    /**
     * Fits the basis and colour ranges on {@code rows}, M feature vectors of dimension D.
     *
     * @throws IllegalArgumentException if there are fewer than 2 rows or they differ in length
     */
    public static FeaturePca fit(double[][] rows) {
        if (rows.length < 2) {
            throw new IllegalArgumentException("FeaturePca needs at least 2 feature vectors, got " + rows.length);
        }
        int d = rows[0].length;
        double[] mean = new double[d];
        for (double[] r : rows) {
            if (r.length != d) {
                throw new IllegalArgumentException("FeaturePca: feature vectors of lengths " + d + " and " + r.length);
            }
            for (int j = 0; j < d; j++) {
                mean[j] += r[j];
            }
        }
        for (int j = 0; j < d; j++) {
            mean[j] /= rows.length;
        }
        double[][] cov = new double[d][d];
        double[] c = new double[d];
        for (double[] r : rows) {
            for (int j = 0; j < d; j++) {
                c[j] = r[j] - mean[j];
            }
            for (int a = 0; a < d; a++) {
                double ca = c[a];
                if (ca == 0) {
                    continue;
                }
                double[] row = cov[a];
                for (int b = a; b < d; b++) {
                    row[b] += ca * c[b];
                }
            }
        }
        for (int a = 0; a < d; a++) {
            for (int b = a; b < d; b++) {
                cov[a][b] /= rows.length - 1;
                cov[b][a] = cov[a][b];
            }
        }
        EigenDecomposition eig = new EigenDecomposition(new Array2DRowRealMatrix(cov, false));
        double[] values = eig.getRealEigenvalues();
        int[] order = IntStream.range(0, d).boxed()
                .sorted(Comparator.comparingDouble((Integer i) -> values[i]).reversed())
                .mapToInt(Integer::intValue).toArray();
        int k = Math.min(COMPONENTS, d);
        double[][] basis = new double[k][];
        for (int i = 0; i < k; i++) {
            RealVector v = eig.getEigenvector(order[i]);
            double[] u = v.toArray();
            double norm = v.getNorm();
            int arg = 0;
            for (int j = 1; j < d; j++) {
                if (Math.abs(u[j]) > Math.abs(u[arg])) {
                    arg = j;
                }
            }
            double s = (u[arg] < 0 ? -1 : 1) / norm;
            for (int j = 0; j < d; j++) {
                u[j] *= s;
            }
            basis[i] = u;
        }
        double[] lo = new double[k];
        double[] hi = new double[k];
        Arrays.fill(lo, Double.POSITIVE_INFINITY);
        Arrays.fill(hi, Double.NEGATIVE_INFINITY);
        FeaturePca pca = new FeaturePca(mean, basis, lo, hi);
        for (double[] r : rows) {
            double[] p = pca.project(r);
            for (int i = 0; i < k; i++) {
                lo[i] = Math.min(lo[i], p[i]);
                hi[i] = Math.max(hi[i], p[i]);
            }
        }
        return pca;
    }

    /** The unit principal directions, largest variance first (at most 3 rows of length D); a copy. */
    public double[][] basis() {
        double[][] out = new double[basis.length][];
        for (int i = 0; i < basis.length; i++) {
            out[i] = basis[i].clone();
        }
        return out;
    }

    /** The coordinates of {@code row} (centred on the teacher mean) along the principal directions. */
    public double[] project(double[] row) {
        if (row.length != mean.length) {
            throw new IllegalArgumentException("FeaturePca was fit on " + mean.length + "-d features, got "
                    + row.length);
        }
        double[] p = new double[basis.length];
        for (int i = 0; i < basis.length; i++) {
            double s = 0;
            double[] u = basis[i];
            for (int j = 0; j < row.length; j++) {
                s += (row[j] - mean[j]) * u[j];
            }
            p[i] = s;
        }
        return p;
    }

    /** The colour of {@code row} as {@code 0xRRGGBB}. */
    public int rgb(double[] row) {
        double[] p = project(row);
        int out = 0;
        for (int i = 0; i < COMPONENTS; i++) {
            int v = 0;
            if (i < p.length && hi[i] > lo[i]) {
                double t = (p[i] - lo[i]) / (hi[i] - lo[i]);
                v = (int) Math.round(255 * Math.max(0, Math.min(1, t)));
            }
            out = (out << 8) | v;
        }
        return out;
    }
}
