package io.hgkd.train.distill;

import io.hgkd.core.mim.TokenMask;
import io.hgkd.core.sparse.ActiveMask;
import io.hgkd.models.student.SparkStudent;
import io.hgkd.models.student.StudentOutput;
import io.hgkd.models.vit.VisionTransformer;
import java.util.ArrayList;
import java.util.List;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;

/**
 * One H-GKD step without the optimiser (method.md §1.4), for the trainer to call:
 * <ol>
 *   <li>teacher forward on the full image, no gradients (the teacher must be {@link VisionTransformer#freeze()}d);
 *       final tokens, or block {@link DistillConfig#teacherBlock()};</li>
 *   <li>{@link TeacherTargets}: cls dropped, optional LN without affine, z_t;</li>
 *   <li>student forward on the masked image ({@link SparkStudent#forward(INDArray, ActiveMask)} applies the mask);</li>
 *   <li>{@link DistillLoss} and {@link SparkStudent#backward(INDArray, INDArray)}, which <em>accumulates</em>
 *       parameter gradients (zero them before, step the optimiser after);</li>
 *   <li>enqueue z_t (detached). The queue is not read again before the next step, so enqueueing here is the same
 *       as after the optimiser step.</li>
 * </ol>
 * The teacher is skipped when L_feat and L_sim are off (plain SparK). With a teacher chunk size the teacher runs on
 * slices of the batch to bound its activation memory; the result is the same, because the target normalisation
 * works per token and z_t per sample.
 */
public final class DistillStep {
    private final VisionTransformer teacher;
    private final SparkStudent student;
    private final DistillLoss loss;
    private final TokenMask tokenMask;
    private final int teacherChunk;

    /**
     * @param teacher frozen teacher (may be null when the config uses no teacher term)
     * @param student the student, whose feature head must match the teacher's patch size and width
     * @param loss    the objective (owns the queue)
     */
    public DistillStep(VisionTransformer teacher, SparkStudent student, DistillLoss loss) {
        this(teacher, student, loss, 0);
    }

    /**
     * As {@link #DistillStep(VisionTransformer, SparkStudent, DistillLoss)}, running the teacher on at most
     * {@code teacherChunk} images at a time (0 = the whole batch at once).
     */
    public DistillStep(VisionTransformer teacher, SparkStudent student, DistillLoss loss, int teacherChunk) {
        if (teacherChunk < 0) {
            throw new IllegalArgumentException("DistillStep teacherChunk must be >= 0 (0 = whole batch), got "
                    + teacherChunk);
        }
        if (student == null || loss == null) {
            throw new IllegalArgumentException("DistillStep needs a student and a loss");
        }
        DistillConfig c = loss.config();
        if (c.pixWeight() > 0 && !student.config().pixelHead()) {
            throw new IllegalArgumentException("DistillStep: pixWeight " + c.pixWeight()
                    + " but the student has no pixel head (StudentConfig.pixelHead false)");
        }
        if (c.usesTeacher() && student.config().teacherDim() == 0) {
            throw new IllegalArgumentException("DistillStep: L_feat/L_sim are on but the student has no feature head"
                    + " (StudentConfig.teacherDim 0)");
        }
        if (c.usesTeacher()) {
            if (teacher == null) {
                throw new IllegalArgumentException("DistillStep: L_feat/L_sim are on but there is no teacher");
            }
            if (teacher.isGradEnabled()) {
                throw new IllegalArgumentException("DistillStep: the teacher must be frozen (call teacher.freeze())");
            }
            var tc = teacher.config();
            var sc = student.config();
            if (sc.teacherDim() != tc.embedDim() || sc.teacherPatch() != tc.patchSize()
                    || sc.inputSize() != tc.imgSize()) {
                throw new IllegalArgumentException("DistillStep: student head (patch " + sc.teacherPatch() + ", dim "
                        + sc.teacherDim() + ", input " + sc.inputSize() + ") does not match the teacher (patch "
                        + tc.patchSize() + ", dim " + tc.embedDim() + ", input " + tc.imgSize() + ")");
            }
            if (c.teacherBlock() >= tc.depth()) {
                throw new IllegalArgumentException("DistillStep: teacherBlock " + c.teacherBlock()
                        + " but the teacher has " + tc.depth() + " blocks");
            }
        }
        this.teacher = teacher;
        this.student = student;
        this.loss = loss;
        // plain SparK students have no feature head (teacher patch 0), and need no token mask
        this.tokenMask = c.usesTeacher()
                ? new TokenMask(student.config().inputSize(), student.config().teacherPatch()) : null;
        this.teacherChunk = teacherChunk;
    }

    /**
     * Runs steps 1-5 above.
     *
     * @param images (B, C, S, S) normalised, augmented, unmasked
     * @param mask   SparK mask on the student's mask grid (1 = visible)
     * @return the loss terms of this step
     */
    public LossTerms run(INDArray images, ActiveMask mask) {
        DistillConfig c = loss.config();
        TeacherTargets targets = null;
        INDArray masked = null;
        if (c.usesTeacher()) {
            targets = teacherTargets(images);
            masked = tokenMask.masked(mask, images.dataType());
        }
        StudentOutput out = student.forward(images, mask);
        DistillLoss.Result r = loss.compute(out.pixels(), out.features(), targets, masked, images, mask);
        student.backward(r.gradPixels(), r.gradFeatures());
        if (loss.queue() != null) {
            loss.queue().enqueue(targets.embedding());
        }
        // this step's own arrays are freed now rather than at the next garbage collection
        if (targets != null) {
            targets.close();
        }
        return r.terms();
    }

    /** Teacher forward (no gradients), whole batch or in chunks, and {@link TeacherTargets#of}. */
    public TeacherTargets teacherTargets(INDArray images) {
        if (teacher == null) {
            throw new IllegalStateException("DistillStep has no teacher");
        }
        DistillConfig c = loss.config();
        long b = images.size(0);
        long chunk = teacherChunk == 0 ? b : Math.min(teacherChunk, b);
        List<INDArray> tokens = new ArrayList<>();
        List<INDArray> embeddings = new ArrayList<>();
        for (long start = 0; start < b; start += chunk) {
            INDArray x = chunk == b ? images
                    : images.get(NDArrayIndex.interval(start, Math.min(b, start + chunk))).dup('c');
            // the teacher's output may be a buffer its next forward overwrites: TeacherTargets.of copies it
            INDArray t = c.teacherBlock() < 0 ? teacher.forwardTokens(x)
                    : teacher.forwardFeatures(x, c.teacherBlock()).block(c.teacherBlock());
            TeacherTargets part = TeacherTargets.of(t, teacher.numPrefixTokens(), c.normalizeTargets(),
                    c.targetEps());
            tokens.add(part.tokens());
            embeddings.add(part.embedding());
        }
        if (tokens.size() == 1) {
            return new TeacherTargets(tokens.get(0), embeddings.get(0));
        }
        TeacherTargets all = new TeacherTargets(Nd4j.concat(0, tokens.toArray(new INDArray[0])),
                Nd4j.concat(0, embeddings.toArray(new INDArray[0])));
        TeacherTargets.free(tokens.toArray(new INDArray[0]));
        TeacherTargets.free(embeddings.toArray(new INDArray[0]));
        return all;
    }
}
