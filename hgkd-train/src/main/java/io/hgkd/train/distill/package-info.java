/**
 * H-GKD distillation objective (method.md §1.3 (e)-(g), §1.4): a frozen ViT teacher's tokens are the targets of a
 * SparK student's feature head.
 *
 * <h2>Pieces</h2>
 * <ul>
 *   <li>{@link io.hgkd.train.distill.DistillConfig}: weights, loss forms, target layer and normalisation, queue;
 *       every default labelled with its source.</li>
 *   <li>{@link io.hgkd.train.distill.TeacherTargets}: cls dropped, optional LN without affine, global embedding
 *       z_t. Targets are token-major (B, N, D); the student's (B, D, G, G) is read at token n = r*G + c.</li>
 *   <li>{@link io.hgkd.train.distill.FeatureLoss} (L_feat), {@link io.hgkd.train.distill.SimilarityLoss} (L_sim)
 *       with its {@link io.hgkd.train.distill.EmbeddingQueue}, {@link io.hgkd.train.distill.PixelLoss} (L_pix);
 *       each has a hand-written backward to the student output.</li>
 *   <li>{@link io.hgkd.train.distill.DistillLoss}: the weighted sum, returning
 *       {@link io.hgkd.train.distill.LossTerms} and the two output gradients.</li>
 *   <li>{@link io.hgkd.train.distill.DistillStep}: teacher forward, student forward, loss, student backward,
 *       enqueue; no optimiser.</li>
 * </ul>
 *
 * <h2>Use in a trainer</h2>
 * <pre>{@code
 * VisionTransformer teacher = ...;  teacher.freeze();
 * SparkStudent student = new SparkStudent(StudentConfig.hgkd(enc, 224, teacherPatch, teacherDim));
 * DistillLoss loss = new DistillLoss(DistillConfig.defaults(), teacherDim);   // owns the queue
 * DistillStep step = new DistillStep(teacher, student, loss, teacherChunk);
 * for each batch:
 *     student.zeroGrad();
 *     LossTerms terms = step.run(images, mask);        // gradients accumulated in student's parameters
 *     if (!terms.isFinite()) stop(step, terms);
 *     optimizer.step();
 * checkpoint: loss.queue().state()  ->  restore with loss.queue().load(state)
 * }</pre>
 * {@code DistillConfig.sparkOnly()} with a null teacher is plain SparK pretraining (the paper's baseline).
 *
 * <h2>Cost</h2>
 * Measured on this project's shared 2-core machine under heavy load (B 32, D_t 768, G 14, K 65536, FLOAT,
 * {@code LossBenchmark} in hgkd-examples): targets about 0.3 s, L_feat and L_sim forward and backward together about
 * 1 s wall, 0.4 s CPU (two products with Q, (64 x 768) x (768 x 65536) and (32 x 65536) x (65536 x 768), about
 * 10 GFLOP; the rest is double arithmetic on reused Java arrays). All of it is small next to the ViT-B teacher
 * forward (about 17.6 GFLOP per image, method.md §5 q17).
 */
package io.hgkd.train.distill;
