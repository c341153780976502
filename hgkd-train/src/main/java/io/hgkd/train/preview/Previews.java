package io.hgkd.train.preview;

import io.hgkd.core.mim.Patchify;
import io.hgkd.core.sparse.ActiveMask;
import io.hgkd.train.data.BadImageException;
import io.hgkd.train.data.Dataset;
import io.hgkd.train.data.Sample;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.ops.transforms.Transforms;

/** Helpers for {@link Previewable} jobs. */
public final class Previews {
    private Previews() {
    }

    /**
     * The first {@code n} readable examples of {@code data}, each drawn with a generator seeded from {@code seed} and
     * its index (so random augmentations are the same on every call), as (n', C, H, W) float; bad files are skipped.
     */
    public static INDArray firstImages(Dataset data, int n, long seed) {
        List<Sample> samples = new ArrayList<>();
        for (int i = 0; i < data.size() && samples.size() < n; i++) {
            try {
                samples.add(data.get(i, new SplittableRandom(seed * 31 + i)));
            } catch (BadImageException e) {
                // skipped here; the loader reports bad files
            } catch (IOException e) {
                throw new UncheckedIOException("cannot read preview image " + data.describe(i), e);
            }
        }
        if (samples.isEmpty()) {
            return Nd4j.create(DataType.FLOAT, 0, 1, 1, 1);
        }
        Sample s0 = samples.get(0);
        int len = s0.data().length;
        float[] all = new float[samples.size() * len];
        for (int i = 0; i < samples.size(); i++) {
            System.arraycopy(samples.get(i).data(), 0, all, i * len, len);
        }
        return Nd4j.create(all, new long[] {samples.size(), s0.channels(), s0.height(), s0.width()}, 'c');
    }

    /** The visible cells of a SparK mask, {@code [b][row][col]}. */
    public static boolean[][][] visible(ActiveMask mask) {
        int b = (int) mask.batchSize();
        int h = (int) mask.height();
        int w = (int) mask.width();
        boolean[][][] v = new boolean[b][h][w];
        for (int i = 0; i < b; i++) {
            for (int r = 0; r < h; r++) {
                for (int c = 0; c < w; c++) {
                    v[i][r][c] = mask.isActive(i, r, c);
                }
            }
        }
        return v;
    }

    /**
     * Undoes per-patch normalisation of a prediction: each {@code p x p} patch (all channels) of {@code predicted}
     * becomes {@code x * sqrt(var + eps) + mean} with the mean and unbiased variance of the same patch of
     * {@code images} (the target normalisation of SparK's pixel loss and MAE's {@code norm_pix_loss}).
     *
     * @param predicted (B, L, p*p*C) patches in {@link Patchify} layout, or (B, C, H, W) images
     * @return (B, C, H, W) in the images' space
     */
    public static INDArray unnormalizePatches(INDArray predicted, INDArray images, int p, double eps) {
        int c = (int) images.size(1);
        int gh = (int) (images.size(2) / p);
        int gw = (int) (images.size(3) / p);
        INDArray pred = predicted.rank() == 4 ? Patchify.patchify(predicted, p) : predicted.dup('c');
        INDArray target = Patchify.patchify(images.castTo(pred.dataType()), p);
        long rows = target.size(0) * target.size(1);
        long d = target.size(2);
        INDArray t2 = target.reshape('c', rows, d);
        INDArray mean = t2.mean(1).reshape(rows, 1);
        INDArray centred = t2.subColumnVector(mean);
        INDArray std = Transforms.sqrt(centred.mul(centred).sum(1).divi(d - 1).addi(eps), false).reshape(rows, 1);
        INDArray out = pred.reshape('c', rows, d).mulColumnVector(std).addiColumnVector(mean);
        return Patchify.unpatchify(out.reshape('c', target.size(0), target.size(1), d), p, c, gh, gw);
    }
}
