/**
 * Models of hgkd: the ViT teacher (timm/MAE names), MAE, ResNet and the SparK-style sparse student with its
 * UNet-style decoder. Built on {@code io.hgkd.core}.
 */
package io.hgkd.models;
