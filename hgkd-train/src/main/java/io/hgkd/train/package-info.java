/**
 * Training of hgkd: H-GKD distillation, SparK and MAE pretraining, fine-tuning, optimizers and checkpoints. Built on
 * {@code io.hgkd.models}.
 */
package io.hgkd.train;
