/**
 * Fine-tuning and evaluation of a pretrained ResNet encoder with SparK's ImageNet recipe
 * ({@code downstream_imagenet}): layer ids for layer-wise lr decay ({@link io.hgkd.train.finetune.ResNetLayerIds}),
 * batch mixup/cutmix with label smoothing ({@link io.hgkd.train.finetune.BatchMixup}), the BCE-with-logits loss
 * used with LAMB ({@link io.hgkd.train.finetune.BinaryCrossEntropyLoss}), an EMA of the weights
 * ({@link io.hgkd.train.finetune.ModelEma}), top-1/top-5 and confusion-matrix metrics
 * ({@link io.hgkd.train.finetune.ClassificationMetrics}, {@link io.hgkd.train.finetune.Evaluator}), the dense
 * classifier built from encoder weights ({@link io.hgkd.train.finetune.FinetuneHead}) and linear probing
 * ({@link io.hgkd.train.finetune.LinearProbe}).
 */
package io.hgkd.train.finetune;
