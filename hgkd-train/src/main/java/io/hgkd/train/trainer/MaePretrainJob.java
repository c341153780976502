package io.hgkd.train.trainer;

import io.hgkd.core.mim.Patchify;
import io.hgkd.core.nn.Module;
import io.hgkd.core.optim.ParamGroup;
import io.hgkd.core.optim.ParamGroups;
import io.hgkd.models.mae.MaeOutput;
import io.hgkd.models.mae.MaskedAutoencoderViT;
import io.hgkd.models.mae.RandomMasking;
import io.hgkd.train.checkpoint.CheckpointManager;
import io.hgkd.train.data.Batch;
import io.hgkd.train.data.Dataset;
import io.hgkd.train.data.Loader;
import io.hgkd.train.loop.StepEvent;
import io.hgkd.train.preview.Preview;
import io.hgkd.train.preview.Previewable;
import io.hgkd.train.preview.Previews;
import java.io.IOException;
import java.util.List;
import java.util.Map;
import org.apache.commons.math3.random.MersenneTwister;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * MAE pretraining as a {@link TrainingJob}, to make a teacher without downloaded weights: the
 * {@link MaskedAutoencoderViT} is the checkpoint's model (MAE's key names; {@link #encoderStateDict()} gives the
 * weights a {@link io.hgkd.models.vit.VisionTransformer} teacher loads). The random masking of each batch draws
 * its noise from a generator seeded with {@code Seeds.derive(seed, "mask", microStep)}, so resume needs no
 * generator state.
 * The best checkpoint has the lowest epoch-mean {@code loss}.
 *
 * <p>{@link Previewable}: the first training images (augmented with a fixed seed), a fixed random masking
 * ({@code Seeds.derive(seed, "preview.mask", 0)}) and MAE's reconstruction (per-patch normalisation undone with the
 * input's patch statistics when {@code normPixLoss}).
 */
public final class MaePretrainJob implements TrainingJob, Previewable {
    /** The job kind in checkpoints. */
    public static final String KIND = "mae";

    /** eps of MAE's {@code norm_pix_loss} (its variance is unbiased, as {@link io.hgkd.core.mim.PatchNorm}'s). */
    private static final double NORM_PIX_EPS = 1e-6;

    private final MaePretrainJobConfig config;
    private final MaskedAutoencoderViT model;
    private final Dataset data;
    private final Loader loader;
    private final List<ParamGroup> groups;

    /**
     * Builds the model and the loader.
     *
     * @throws IOException if the data cannot be read
     */
    public MaePretrainJob(MaePretrainJobConfig config) throws IOException {
        this.config = config;
        model = new MaskedAutoencoderViT(config.mae());
        model.train(true);
        groups = ParamGroups.spark(model.namedParameters());
        data = config.data().pretrain();
        loader = config.data().loader(data, Seeds.derive(config.seed(), "data", 0), true);
    }

    @Override
    public String kind() {
        return KIND;
    }

    @Override
    public MaePretrainJobConfig config() {
        return config;
    }

    @Override
    public Module model() {
        return model;
    }

    /** The encoder's weights under ViT names, for a teacher. */
    public Map<String, org.nd4j.linalg.api.ndarray.INDArray> encoderStateDict() {
        return model.encoderStateDict();
    }

    @Override
    public List<ParamGroup> paramGroups() {
        return groups;
    }

    @Override
    public int batchSize() {
        return config.data().batchSize();
    }

    @Override
    public int batchesPerEpoch() {
        return loader.batchesPerEpoch();
    }

    @Override
    public Iterable<Batch> batches(int epoch) {
        return loader.epoch(epoch);
    }

    @Override
    public Map<String, Double> step(Batch batch, long microStep) {
        RandomMasking masking = RandomMasking.random(batch.size(), config.mae().encoder().numPatches(),
                config.mae().maskRatio(), new MersenneTwister(Seeds.derive(config.seed(), "mask", microStep)));
        MaeOutput out = model.forwardMae(batch.images(), masking);
        model.backwardParameters(1.0);
        return Map.of(StepEvent.TOTAL, out.loss());
    }

    @Override
    public INDArray previewImages(int n) {
        return Previews.firstImages(data, n, Seeds.derive(config.seed(), "preview", 0));
    }

    @Override
    public Preview preview(INDArray images) {
        int n = (int) images.size(0);
        var enc = config.mae().encoder();
        int p = enc.patchSize();
        int g = enc.imgSize() / p;
        RandomMasking masking = RandomMasking.random(n, enc.numPatches(), config.mae().maskRatio(),
                new MersenneTwister(Seeds.derive(config.seed(), "preview.mask", 0)));
        model.train(false);
        try {
            INDArray pred = model.forwardMae(images, masking).pred();
            INDArray rec = config.mae().normPixLoss()
                    ? Previews.unnormalizePatches(pred, images, p, NORM_PIX_EPS)
                    : Patchify.unpatchify(pred.dup('c'), p, enc.inChans(), g, g);
            boolean[][][] visible = new boolean[n][g][g];
            for (int b = 0; b < n; b++) {
                for (int l = 0; l < g * g; l++) {
                    visible[b][l / g][l % g] = !masking.isMasked(b, l);
                }
            }
            return new Preview(images.dup(), visible, rec, null, null);
        } finally {
            model.train(true);
        }
    }

    @Override
    public String metricName() {
        return StepEvent.TOTAL;
    }

    @Override
    public CheckpointManager.Goal goal() {
        return CheckpointManager.Goal.MINIMIZE;
    }

    @Override
    public Map<String, String> rngState() {
        return Map.of("seed", Long.toString(config.seed()));
    }

    @Override
    public void close() {
        loader.close();
    }
}
