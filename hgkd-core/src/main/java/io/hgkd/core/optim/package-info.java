/**
 * Optimizers and schedules with PyTorch/timm/SparK semantics: {@link io.hgkd.core.optim.AdamW},
 * {@link io.hgkd.core.optim.Lamb} (SparK's), {@link io.hgkd.core.optim.Sgd}; parameter groups by SparK's rules
 * ({@link io.hgkd.core.optim.ParamGroups}); per-iteration schedules ({@link io.hgkd.core.optim.WarmupCosine},
 * {@link io.hgkd.core.optim.CosineWeightDecay}, {@link io.hgkd.core.optim.ConstantSchedule}); gradient clipping and
 * accumulation ({@link io.hgkd.core.optim.Gradients}, {@link io.hgkd.core.optim.GradientAccumulator}).
 *
 * <p>Every optimizer exports its complete state as named arrays ({@link io.hgkd.core.optim.Optimizer#state()}) for
 * exact resume.
 */
package io.hgkd.core.optim;
