package io.hgkd.models.student;

import io.hgkd.core.nn.Conv2d;
import io.hgkd.core.nn.Module;
import io.hgkd.core.nn.Sequential;
import io.hgkd.core.nn.Tensors;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * SparK's {@code LightDecoder}: {@code n = log2(upSampleRatio)} {@link UNetBlock}s named {@code dec.0 .. dec.n-1}
 * with channels {@code width / 2^i}, and the optional pixel head {@code proj} (Conv1x1 to the image channels, bias).
 *
 * <p>{@link #forward(List)} runs SparK's loop: {@code x = 0; for i: if i < len(to_dec): x += to_dec[i]; x = dec[i](x)}
 * (the skip is added before each block, smallest scale first). <b>Extension (not in SparK):</b> when there is one
 * scale more than blocks, as with the small stem (downsample 8: 3 blocks, 4 encoder scales), the remaining
 * full-resolution scale is added after the last block, before the heads; SparK has no small-stem setting, and this
 * keeps the stride-1 stage's features in the decoder instead of dropping them. Unlike SparK's {@code forward},
 * {@link #forward(List)} returns the last feature map without applying {@code proj}, because the student feeds it to
 * two heads; see {@link #proj()}.
 */
public final class LightDecoder extends Module {
    private final int width;
    private final List<UNetBlock> blocks = new ArrayList<>();
    private final Conv2d proj;
    private final List<INDArray> sums = new ArrayList<>();
    private boolean[] present = new boolean[0];

    /**
     * @param upSampleRatio a power of two (the encoder's downsample ratio)
     * @param width         channels of the first block (d_0)
     * @param outChans      channels of the pixel head {@code proj}; 0 = no pixel head
     */
    public LightDecoder(int upSampleRatio, int width, int outChans) {
        if (upSampleRatio < 2 || Integer.bitCount(upSampleRatio) != 1) {
            throw new IllegalArgumentException("LightDecoder up-sample ratio must be a power of two >= 2, got "
                    + upSampleRatio);
        }
        int n = Integer.numberOfTrailingZeros(upSampleRatio);
        if (width < (1 << n) || width % (1 << n) != 0) {
            throw new IllegalArgumentException("LightDecoder width " + width + " must be a positive multiple of "
                    + (1 << n));
        }
        this.width = width;
        Sequential dec = new Sequential();
        for (int i = 0; i < n; i++) {
            UNetBlock b = new UNetBlock(width >> i, width >> (i + 1));
            blocks.add(b);
            dec.add(b);
        }
        registerModule("dec", dec);
        proj = outChans > 0 ? registerModule("proj", new Conv2d(width >> n, outChans, 1, 1, 0, true)) : null;
    }

    /** d_0. */
    public int width() {
        return width;
    }

    /** Channels of the last block's output (what the heads read). */
    public int outWidth() {
        return width >> blocks.size();
    }

    /** The UNet blocks, {@code dec.0} first. */
    public List<UNetBlock> blocks() {
        return Collections.unmodifiableList(blocks);
    }

    /** SparK's pixel head {@code dense_decoder.proj}, or null. */
    public Conv2d proj() {
        return proj;
    }

    /**
     * Decodes the densified scales, smallest first ({@code toDec[i]} has {@code width / 2^i} channels and twice the
     * size of {@code toDec[i-1]}); at most one more scale than blocks. Returns the last feature map (a module buffer).
     */
    public INDArray forward(List<INDArray> toDec) {
        if (toDec.isEmpty() || toDec.get(0) == null || toDec.size() > blocks.size() + 1) {
            throw new IllegalArgumentException("LightDecoder with " + blocks.size() + " blocks takes 1 to "
                    + (blocks.size() + 1) + " scales with the first present, got " + toDec.size());
        }
        present = new boolean[toDec.size()];
        INDArray x = null;
        for (int i = 0; i <= blocks.size(); i++) {
            INDArray skip = i < toDec.size() ? toDec.get(i) : null;
            if (skip != null) {
                present[i] = true;
                x = x == null ? skip : addInto(i, x, skip);
            }
            if (i < blocks.size()) {
                x = blocks.get(i).forward(x);
            }
        }
        return x;
    }

    private INDArray addInto(int i, INDArray x, INDArray skip) {
        if (!Arrays.equals(x.shape(), skip.shape())) {
            throw new IllegalArgumentException("LightDecoder scale " + i + " has shape " + Tensors.shape(skip)
                    + " but the decoder is at " + Tensors.shape(x));
        }
        while (sums.size() <= i) {
            sums.add(null);
        }
        INDArray s = Tensors.reuse(sums.get(i), x.dataType(), x.shape());
        sums.set(i, s);
        return s.assign(x).addi(skip);
    }

    /** {@link #forward(List)} with the smallest scale only. */
    @Override
    public INDArray forward(INDArray x) {
        return forward(List.of(x));
    }

    /**
     * Back-propagates the gradient of the decoder output; returns the gradients of the {@code toDec} entries of the
     * last forward (null where the entry was null).
     */
    public List<INDArray> backwardScales(INDArray gradOutput) {
        INDArray[] grads = new INDArray[present.length];
        INDArray g = gradOutput;
        if (present.length > blocks.size() && present[blocks.size()]) {
            grads[blocks.size()] = g;
        }
        for (int i = blocks.size() - 1; i >= 0; i--) {
            g = blocks.get(i).backward(g);
            if (i < present.length && present[i]) {
                grads[i] = g; // the skip and the running sum get the same gradient; the sum below i=0 is a constant
            }
        }
        return Arrays.asList(grads);
    }

    /** The gradient of the first (smallest) scale; use {@link #backwardScales} for all of them. */
    @Override
    public INDArray backward(INDArray gradOutput) {
        return backwardScales(gradOutput).get(0);
    }
}
